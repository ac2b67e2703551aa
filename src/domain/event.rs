use super::ids::UserId;
use super::share::{Format, ShareItems};
use super::visit::{VisitData, VisitKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Something that happened to a share. Past tense; stored forever, never rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    ShareCreated(ShareCreated),
    ShareUpdated(ShareChanges),
    ShareDeleted,
    /// A person opened a public link.
    ShareVisited(VisitData),
    /// A link-preview bot or a prefetch opened it: counted apart from visits.
    SharePreviewed(VisitData),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareCreated {
    pub owner_id: UserId,
    pub owner_name: String,
    pub description: Option<String>,
    pub format: Format,
    pub max_bit_rate: u32,
    pub downloadable: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub items: ShareItems,
}

/// A partial update: `None` leaves a field alone. For `expires_at`,
/// `Some(None)` clears the expiry; for `description`, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareChanges {
    pub description: Option<Option<String>>,
    pub format: Option<Format>,
    pub max_bit_rate: Option<u32>,
    pub downloadable: Option<bool>,
    pub expires_at: Option<Option<OffsetDateTime>>,
}

impl ShareChanges {
    pub fn is_empty(&self) -> bool {
        *self == ShareChanges::default()
    }
}

/// Why stored event data could not be read back.
#[derive(Debug)]
pub struct UnknownEvent(pub String);

impl Event {
    /// Every event type name, as the log, exports and filters spell it.
    pub const TYPES: [&'static str; 5] = [
        "ShareCreated",
        "ShareUpdated",
        "ShareDeleted",
        "ShareVisited",
        "SharePreviewed",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ShareCreated(_) => "ShareCreated",
            Event::ShareUpdated(_) => "ShareUpdated",
            Event::ShareDeleted => "ShareDeleted",
            Event::ShareVisited(_) => VisitKind::Visit.type_name(),
            Event::SharePreviewed(_) => VisitKind::Preview.type_name(),
        }
    }

    /// A counted open (visit or preview): its kind and data. These only raise
    /// counters, so the committer and the folds take a short path for them.
    pub fn counted(&self) -> Option<(VisitKind, &VisitData)> {
        match self {
            Event::ShareVisited(v) => Some((VisitKind::Visit, v)),
            Event::SharePreviewed(v) => Some((VisitKind::Preview, v)),
            _ => None,
        }
    }

    /// The event a counted open of `kind` is logged as.
    pub fn of_counted(kind: VisitKind, data: VisitData) -> Self {
        match kind {
            VisitKind::Visit => Event::ShareVisited(data),
            VisitKind::Preview => Event::SharePreviewed(data),
        }
    }

    /// The schema version of this event's `data`; bump it and upcast old versions in `from_data`.
    pub fn type_version(&self) -> u32 {
        1
    }

    pub fn to_data(&self) -> Value {
        match self {
            Event::ShareCreated(e) => serde_json::to_value(e).unwrap_or(Value::Null),
            Event::ShareUpdated(c) => changes_to_json(c),
            Event::ShareDeleted => Value::Object(Map::new()),
            Event::ShareVisited(v) | Event::SharePreviewed(v) => {
                serde_json::to_value(v).unwrap_or(Value::Null)
            }
        }
    }

    pub fn from_data(
        type_name: &str,
        type_version: u32,
        data: Value,
    ) -> Result<Self, UnknownEvent> {
        let bad =
            |e: &dyn std::fmt::Display| UnknownEvent(format!("{type_name} v{type_version}: {e}"));
        match (type_name, type_version) {
            ("ShareCreated", 1) => serde_json::from_value(data)
                .map(Event::ShareCreated)
                .map_err(|e| bad(&e)),
            ("ShareUpdated", 1) => changes_from_json(&data)
                .map(Event::ShareUpdated)
                .map_err(|e| bad(&e)),
            ("ShareDeleted", 1) => Ok(Event::ShareDeleted),
            ("ShareVisited", 1) => serde_json::from_value(data)
                .map(Event::ShareVisited)
                .map_err(|e| bad(&e)),
            ("SharePreviewed", 1) => serde_json::from_value(data)
                .map(Event::SharePreviewed)
                .map_err(|e| bad(&e)),
            _ => Err(bad(&"unknown type or version")),
        }
    }
}

fn fmt_time(t: OffsetDateTime) -> Value {
    t.format(&Rfc3339).map(Value::String).unwrap_or(Value::Null)
}

fn changes_to_json(c: &ShareChanges) -> Value {
    let mut m = Map::new();
    if let Some(d) = &c.description {
        m.insert(
            "description".into(),
            d.clone().map(Value::String).unwrap_or(Value::Null),
        );
    }
    if let Some(f) = c.format {
        m.insert("format".into(), Value::String(f.as_str().into()));
    }
    if let Some(b) = c.max_bit_rate {
        m.insert("maxBitRate".into(), Value::from(b));
    }
    if let Some(d) = c.downloadable {
        m.insert("downloadable".into(), Value::Bool(d));
    }
    if let Some(e) = c.expires_at {
        m.insert("expiresAt".into(), e.map(fmt_time).unwrap_or(Value::Null));
    }
    Value::Object(m)
}

fn changes_from_json(v: &Value) -> Result<ShareChanges, String> {
    let m = v.as_object().ok_or("data is not an object")?;
    let mut c = ShareChanges::default();
    if let Some(d) = m.get("description") {
        c.description = Some(d.as_str().map(str::to_string));
    }
    if let Some(f) = m.get("format") {
        c.format = Some(f.as_str().and_then(Format::parse).ok_or("bad format")?);
    }
    if let Some(b) = m.get("maxBitRate") {
        let b = b.as_u64().and_then(|b| u32::try_from(b).ok());
        c.max_bit_rate = Some(b.ok_or("bad maxBitRate")?);
    }
    if let Some(d) = m.get("downloadable") {
        c.downloadable = Some(d.as_bool().ok_or("bad downloadable")?);
    }
    if let Some(e) = m.get("expiresAt") {
        c.expires_at = Some(match e.as_str() {
            None => None,
            Some(s) => Some(OffsetDateTime::parse(s, &Rfc3339).map_err(|e| e.to_string())?),
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn changes_survive_a_round_trip_through_json() {
        let c = ShareChanges {
            description: Some(None),
            format: Some(Format::M3u),
            max_bit_rate: Some(96),
            downloadable: Some(false),
            expires_at: Some(Some(datetime!(2030-01-02 03:04:05 UTC))),
        };
        let e = Event::ShareUpdated(c);
        assert_eq!(
            Event::from_data("ShareUpdated", 1, e.to_data()).ok(),
            Some(e)
        );
    }

    #[test]
    fn a_cleared_expiry_is_stored_as_null_and_an_untouched_one_is_absent() {
        let cleared = changes_to_json(&ShareChanges {
            expires_at: Some(None),
            ..Default::default()
        });
        assert_eq!(cleared, serde_json::json!({"expiresAt": null}));
        assert_eq!(
            changes_to_json(&ShareChanges::default()),
            serde_json::json!({})
        );
    }

    #[test]
    fn unknown_event_types_are_refused() {
        assert!(Event::from_data("ShareExploded", 1, Value::Null).is_err());
        assert!(Event::from_data("ShareCreated", 9, Value::Null).is_err());
    }
}
