use super::changes::{changes_from_json, changes_to_json};
use super::controls::PasswordHash;
use super::ids::{LinkId, UserId};
use super::owner::NotifyChanged;
use super::share::{Format, ShareItems};
use super::visit::{VisitData, VisitKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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
    /// The owner added a link for one recipient.
    ShareLinkAdded(LinkAdded),
    /// The owner took one recipient's link back.
    ShareLinkRevoked(LinkRevoked),
    /// An owner set or turned off their notifications (on their own stream).
    NotifySettingsChanged(NotifyChanged),
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
    /// Present only when set, so a create without it is written as before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_visits: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkAdded {
    pub link: LinkId,
    pub label: String,
    /// `null` when the link has no limit of its own (every key is always present).
    pub max_visits: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkRevoked {
    pub link: LinkId,
}

/// A partial update: `None` leaves a field alone. For `expires_at`, `description`,
/// `password` and `max_visits`, `Some(None)` removes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareChanges {
    pub description: Option<Option<String>>,
    pub format: Option<Format>,
    pub max_bit_rate: Option<u32>,
    pub downloadable: Option<bool>,
    pub expires_at: Option<Option<OffsetDateTime>>,
    pub password: Option<Option<PasswordHash>>,
    pub max_visits: Option<Option<u32>>,
}

impl ShareChanges {
    pub fn is_empty(&self) -> bool {
        *self == ShareChanges::default()
    }
}

/// Why stored event data could not be read back.
#[derive(Debug)]
pub struct UnknownEvent(pub String);

/// Why an event's data cannot be written: never a blank or `null` in its place,
/// since the log is tamper-evident and a silent default would be sealed in for good.
#[derive(Debug)]
pub struct UnwritableEvent(pub String);

impl std::fmt::Display for UnwritableEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event data cannot be written: {}", self.0)
    }
}

impl std::error::Error for UnwritableEvent {}

impl Event {
    /// Every event type name, as the log, exports and filters spell it.
    pub const TYPES: [&'static str; 8] = [
        "ShareCreated",
        "ShareUpdated",
        "ShareDeleted",
        "ShareVisited",
        "SharePreviewed",
        "ShareLinkAdded",
        "ShareLinkRevoked",
        "NotifySettingsChanged",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ShareCreated(_) => "ShareCreated",
            Event::ShareUpdated(_) => "ShareUpdated",
            Event::ShareDeleted => "ShareDeleted",
            Event::ShareVisited(_) => VisitKind::Visit.type_name(),
            Event::SharePreviewed(_) => VisitKind::Preview.type_name(),
            Event::ShareLinkAdded(_) => "ShareLinkAdded",
            Event::ShareLinkRevoked(_) => "ShareLinkRevoked",
            Event::NotifySettingsChanged(_) => "NotifySettingsChanged",
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

    /// The schema version of this event's `data` (docs/audit.md, "Type versions"): 2 when
    /// it holds a key that version 1 of its type did not have (a password, a visit limit,
    /// artists, a link), else 1. So every event written before those keys existed, and
    /// every event without them, is written byte for byte as before, and a reader that
    /// knows only version 1 refuses a version 2 event instead of reading a password share
    /// as an open one.
    pub fn type_version(&self) -> u32 {
        let newer = match self {
            Event::ShareCreated(c) => {
                c.password.is_some() || c.max_visits.is_some() || !c.items.artists.is_empty()
            }
            Event::ShareUpdated(c) => c.password.is_some() || c.max_visits.is_some(),
            Event::ShareVisited(v) | Event::SharePreviewed(v) => v.link.is_some(),
            Event::ShareDeleted
            | Event::ShareLinkAdded(_)
            | Event::ShareLinkRevoked(_)
            | Event::NotifySettingsChanged(_) => false,
        };
        if newer {
            2
        } else {
            1
        }
    }

    pub fn to_data(&self) -> Result<Value, UnwritableEvent> {
        let unwritable = |e: serde_json::Error| UnwritableEvent(e.to_string());
        match self {
            Event::ShareCreated(e) => serde_json::to_value(e).map_err(unwritable),
            Event::ShareUpdated(c) => changes_to_json(c),
            Event::ShareDeleted => Ok(Value::Object(Map::new())),
            Event::ShareVisited(v) | Event::SharePreviewed(v) => {
                serde_json::to_value(v).map_err(unwritable)
            }
            Event::ShareLinkAdded(l) => serde_json::to_value(l).map_err(unwritable),
            Event::ShareLinkRevoked(l) => serde_json::to_value(l).map_err(unwritable),
            Event::NotifySettingsChanged(n) => serde_json::to_value(n).map_err(unwritable),
        }
    }

    pub fn from_data(
        type_name: &str,
        type_version: u32,
        data: Value,
    ) -> Result<Self, UnknownEvent> {
        let bad =
            |e: &dyn std::fmt::Display| UnknownEvent(format!("{type_name} v{type_version}: {e}"));
        let versions = match type_name {
            "ShareCreated" | "ShareUpdated" | "ShareVisited" | "SharePreviewed" => 1..=2,
            _ => 1..=1,
        };
        if !versions.contains(&type_version) {
            return Err(bad(&"unknown type or version"));
        }
        let event = match type_name {
            "ShareCreated" => serde_json::from_value(data)
                .map(Event::ShareCreated)
                .map_err(|e| bad(&e)),
            "ShareUpdated" => changes_from_json(&data)
                .map(Event::ShareUpdated)
                .map_err(|e| bad(&e)),
            "ShareDeleted" => Ok(Event::ShareDeleted),
            "ShareVisited" => serde_json::from_value(data)
                .map(Event::ShareVisited)
                .map_err(|e| bad(&e)),
            "SharePreviewed" => serde_json::from_value(data)
                .map(Event::SharePreviewed)
                .map_err(|e| bad(&e)),
            "ShareLinkAdded" => serde_json::from_value(data)
                .map(Event::ShareLinkAdded)
                .map_err(|e| bad(&e)),
            "ShareLinkRevoked" => serde_json::from_value(data)
                .map(Event::ShareLinkRevoked)
                .map_err(|e| bad(&e)),
            "NotifySettingsChanged" => serde_json::from_value(data)
                .map(Event::NotifySettingsChanged)
                .map_err(|e| bad(&e)),
            _ => Err(bad(&"unknown type or version")),
        }?;
        // One form per event: version 1 never holds a version 2 key, and version 2
        // always holds one (as `type_version` writes them).
        if event.type_version() != type_version {
            return Err(bad(&format!(
                "its data is of version {}",
                event.type_version()
            )));
        }
        Ok(event)
    }
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
            ..Default::default()
        };
        let e = Event::ShareUpdated(c);
        assert_eq!(
            Event::from_data("ShareUpdated", 1, e.to_data().unwrap()).ok(),
            Some(e)
        );
    }

    #[test]
    fn a_cleared_expiry_is_stored_as_null_and_an_untouched_one_is_absent() {
        let cleared = changes_to_json(&ShareChanges {
            expires_at: Some(None),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cleared, serde_json::json!({"expiresAt": null}));
        assert_eq!(
            changes_to_json(&ShareChanges::default()).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn an_expiry_rfc_3339_cannot_write_is_an_error_not_a_null() {
        let far = time::macros::datetime!(-0001-01-01 00:00:00 UTC);
        let e = Event::ShareUpdated(ShareChanges {
            expires_at: Some(Some(far)),
            ..Default::default()
        });
        assert!(e.to_data().is_err());
    }

    #[test]
    fn unknown_event_types_are_refused() {
        assert!(Event::from_data("ShareExploded", 1, Value::Null).is_err());
        assert!(Event::from_data("ShareCreated", 9, Value::Null).is_err());
    }
}
