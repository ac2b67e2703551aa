//! What ends a body we pass through before it is over, however it progresses: its bound on the
//! whole answer (`limits.transferTimeout` for streams, downloads and zips; the metadata bound
//! for a cover), or the visitor's access ending while it runs (`Recheck`: the share deleted or
//! expired, or whatever else the one access decision comes to refuse). The stall timeout is
//! the other end, and lives with the copy (`pipe`), since it is about progress.

use super::Recheck;
use crate::error::ApiError;
use actix_web::rt::time::{sleep_until, Instant};
use std::fmt;
use std::time::Duration;

/// How often a running transfer asks the access decision again: well inside the 5 s within
/// which a deleted or expired share's transfers must end, and cheap (an in-memory lookup).
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// The ends of one passed-through answer, counted from when it was admitted.
pub struct Ends {
    /// `None` when the bound is too far away to be a point in time (a huge configured value).
    deadline: Option<Instant>,
    bound: Bound,
    access: Option<Recheck>,
}

/// Which bound on the whole answer applies, to name it when it is hit.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// `limits.transferTimeout`, for streams, downloads and zips.
    Transfer(Duration),
    /// The fixed bound on a cover, as on every metadata call.
    Cover(Duration),
}

/// Why a body was ended before it was over.
#[derive(Debug)]
pub enum Ended {
    /// The bound on the whole answer passed.
    Timeout(Bound),
    /// The access decision now refuses what the request was allowed.
    AccessEnded(ApiError),
}

impl Ends {
    /// Ends that start now: `bound` from this moment, and `access` asked again every second.
    pub fn from_now(bound: Bound, access: Option<Recheck>) -> Self {
        let length = match bound {
            Bound::Transfer(d) | Bound::Cover(d) => d,
        };
        Ends {
            deadline: Instant::now().checked_add(length),
            bound,
            access,
        }
    }

    /// When the whole answer must be over, if ever.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Resolves when the answer must end. It wakes at the deadline and once a second for the
    /// access decision, whether or not bytes are moving, so a transfer that is stuck waiting
    /// on either side ends as surely as one that is busy.
    pub async fn reached(&self) -> Ended {
        loop {
            let tick = Instant::now() + RECHECK_EVERY;
            match self.deadline {
                Some(deadline) if deadline <= tick => {
                    sleep_until(deadline).await;
                    return Ended::Timeout(self.bound);
                }
                _ => sleep_until(tick).await,
            }
            if let Some(Err(refused)) = self.access.as_ref().map(Recheck::check) {
                return Ended::AccessEnded(refused);
            }
        }
    }
}

impl fmt::Display for Ended {
    /// Names the cause, never the share or the music server's URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::Timeout(Bound::Transfer(d)) => {
                write!(f, "limits.transferTimeout ({} s) passed", d.as_secs())
            }
            Ended::Timeout(Bound::Cover(d)) => {
                write!(f, "the bound on a cover ({} s) passed", d.as_secs())
            }
            Ended::AccessEnded(e) => write!(f, "access ended ({})", e.code.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_deadline_ends_it_even_with_nothing_else_to_check() {
        let ends = Ends::from_now(Bound::Cover(Duration::from_millis(50)), None);
        let started = std::time::Instant::now();

        let why = ends.reached().await;

        assert!(matches!(why, Ended::Timeout(Bound::Cover(_))), "{why:?}");
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(started.elapsed() < Duration::from_millis(900), "not a tick");
        assert_eq!(why.to_string(), "the bound on a cover (0 s) passed");
    }

    #[test]
    fn a_bound_past_the_end_of_time_is_no_deadline() {
        let ends = Ends::from_now(Bound::Transfer(Duration::from_secs(u64::MAX)), None);
        assert!(ends.deadline().is_none());
    }
}
