//! Visits and previews per share and UTC day: what the owner's chart shows
//! (`GET /api/share/{id}/visits`). A projection like the others, kept as events are
//! applied (a `D` row per share and day, written with the batch) and rebuilt from the
//! log, never counted by scanning the log when asked.

use crate::domain::{ShareId, VisitKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime, UtcOffset};

/// Key prefix of a day row: `D` share id `0x00` `YYYY-MM-DD`.
pub const DAYS: u8 = b'D';

/// One share's opens on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    pub visits: u64,
    pub previews: u64,
}

impl DayCount {
    pub fn add(&mut self, kind: VisitKind) {
        match kind {
            VisitKind::Visit => self.visits += 1,
            VisitKind::Preview => self.previews += 1,
        }
    }

    pub fn merge(&mut self, other: &DayCount) {
        self.visits += other.visits;
        self.previews += other.previews;
    }
}

/// A share's days, oldest first.
pub type Days = BTreeMap<Date, DayCount>;

/// The UTC day of an event's time (the log writes every time in UTC).
pub fn day_of(at: OffsetDateTime) -> Date {
    at.to_offset(UtcOffset::UTC).date()
}

/// The UTC day of a time as the log writes it (`YYYY-MM-DDT…Z`), without parsing the rest.
pub fn day_of_text(at: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(at.get(..10)?, &format).ok()
}

pub fn key(id: &ShareId, day: Date) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.as_str().len() + 12);
    k.push(DAYS);
    k.extend_from_slice(id.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(text(day).as_bytes());
    k
}

/// The share and day a row's key names.
pub fn parse_key(key: &[u8]) -> Option<(ShareId, Date)> {
    let rest = key.strip_prefix(&[DAYS])?;
    let split = rest.iter().position(|b| *b == 0)?;
    let id = ShareId::parse(std::str::from_utf8(&rest[..split]).ok()?)?;
    let day = day_of_text(std::str::from_utf8(&rest[split + 1..]).ok()?)?;
    Some((id, day))
}

/// `YYYY-MM-DD`.
pub fn text(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_day_key_names_its_share_and_day_both_ways() {
        let id = ShareId::parse("AbC1").unwrap();
        let k = key(&id, date!(2026 - 12 - 01));
        assert_eq!(k, b"DAbC1\x002026-12-01".to_vec());
        assert_eq!(parse_key(&k), Some((id, date!(2026 - 12 - 01))));
        assert_eq!(parse_key(b"PAbC1"), None);
    }

    #[test]
    fn the_day_is_the_utc_day() {
        assert_eq!(
            day_of(datetime!(2026-12-01 23:30 -02:00)),
            date!(2026 - 12 - 02)
        );
        assert_eq!(
            day_of_text("2026-12-01T23:59:59.9Z"),
            Some(date!(2026 - 12 - 01))
        );
    }
}
