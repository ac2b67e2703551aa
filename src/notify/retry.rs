//! When a failed delivery is tried again, and when it is given up: with a doubling
//! wait (1 s, 2 s, 4 s, … at most 10 minutes) until 24 hours after the event. The
//! window counts from the event, not from the first attempt, so a restart does not
//! make it longer.

use std::time::Duration;
use time::OffsetDateTime;

/// How long after its event a notification is still tried.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    TryAgainIn(Duration),
    GiveUp,
}

/// After the `failures`-th failed attempt (1 for the first) at news of an event at `event_at`.
pub fn after_failure(failures: u32, event_at: OffsetDateTime, now: OffsetDateTime) -> Next {
    let age = now - event_at;
    if age >= GIVE_UP_AFTER {
        return Next::GiveUp;
    }
    let doubled = FIRST_WAIT
        .checked_mul(1u32 << failures.saturating_sub(1).min(20))
        .unwrap_or(LONGEST_WAIT);
    Next::TryAgainIn(doubled.min(LONGEST_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn waits_double_up_to_ten_minutes_and_end_a_day_after_the_event() {
        let at = datetime!(2026-12-01 10:00 UTC);
        let wait = |failures, now| after_failure(failures, at, now);
        let soon = datetime!(2026-12-01 10:00:05 UTC);
        assert_eq!(wait(1, soon), Next::TryAgainIn(Duration::from_secs(1)));
        assert_eq!(wait(2, soon), Next::TryAgainIn(Duration::from_secs(2)));
        assert_eq!(wait(5, soon), Next::TryAgainIn(Duration::from_secs(16)));
        assert_eq!(wait(11, soon), Next::TryAgainIn(LONGEST_WAIT));
        assert_eq!(wait(u32::MAX, soon), Next::TryAgainIn(LONGEST_WAIT));
        let last_chance = datetime!(2026-12-02 09:59:59 UTC);
        assert!(matches!(wait(200, last_chance), Next::TryAgainIn(_)));
        assert_eq!(wait(1, datetime!(2026-12-02 10:00 UTC)), Next::GiveUp);
        assert_eq!(wait(1, datetime!(2027-01-01 0:00 UTC)), Next::GiveUp);
    }
}
