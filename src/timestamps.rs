//! Times as every JSON answer shows them: RFC 3339, `null` when absent. One home,
//! so the owner API's share object and the public link's JSON cannot drift apart.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `t` as an RFC 3339 string, or `null`.
pub fn json(t: Option<OffsetDateTime>) -> Value {
    t.and_then(|t| t.format(&Rfc3339).ok())
        .map(Value::String)
        .unwrap_or(Value::Null)
}
