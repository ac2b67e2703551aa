//! Times as every answer shows them: RFC 3339 in UTC, `null` when absent. One home,
//! so the owner API's share object and the public link's JSON cannot drift apart.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `t` as an RFC 3339 string in UTC, or `null`.
pub fn json(t: Option<OffsetDateTime>) -> Value {
    t.and_then(rfc3339)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

/// `t` in UTC as RFC 3339. Logs written before expiries were kept in UTC may hold another
/// offset; every answer shows the instant in UTC all the same.
pub fn rfc3339(t: OffsetDateTime) -> Option<String> {
    utc(t).format(&Rfc3339).ok()
}

/// `t` in UTC (as it is, in the one case UTC cannot hold it: past the year 9999).
pub fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.checked_to_offset(time::UtcOffset::UTC).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_time_with_an_offset_is_shown_as_the_same_instant_in_utc() {
        let plus_14 = datetime!(2031-06-01 12:00 +14);
        assert_eq!(rfc3339(plus_14).as_deref(), Some("2031-05-31T22:00:00Z"));
        assert_eq!(json(Some(plus_14)), Value::from("2031-05-31T22:00:00Z"));
        assert_eq!(json(None), Value::Null);
        // Past the year 9999 in UTC: shown as written rather than not at all
        let late = datetime!(9999-12-31 23:59:59 -23:59);
        assert_eq!(utc(late), late);
    }
}
