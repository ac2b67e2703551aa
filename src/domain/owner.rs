//! An owner's own stream (`owner:{userId}`): where their notification settings live.
//! An owner hears that a link was opened (docs/api.md, "Notifications"); what they
//! chose is an event like every other change, so it is audited, exported and restored.

use super::error::DomainError;
use super::ids::{Actor, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest notification URL accepted.
pub const MAX_NOTIFY_URL_CHARS: usize = 2048;

/// Where and how an owner is told, and about what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notify {
    pub url: String,
    pub format: NotifyFormat,
    /// In the order of `NotifyOn::ALL`, each once.
    pub on: Vec<NotifyOn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// A signed JSON body, for any webhook.
    Json,
    /// A text body with ntfy's headers, for ntfy.
    Ntfy,
}

impl NotifyFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(NotifyFormat::Json),
            "ntfy" => Some(NotifyFormat::Ntfy),
            _ => None,
        }
    }
}

/// What an owner may hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyOn {
    /// The first visit of a share, and the first through each recipient link.
    FirstVisit,
    Visit,
    Download,
    LimitReached,
    LinkRevoked,
}

impl NotifyOn {
    pub const ALL: [NotifyOn; 5] = [
        NotifyOn::FirstVisit,
        NotifyOn::Visit,
        NotifyOn::Download,
        NotifyOn::LimitReached,
        NotifyOn::LinkRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOn::FirstVisit => "first-visit",
            NotifyOn::Visit => "visit",
            NotifyOn::Download => "download",
            NotifyOn::LimitReached => "limit-reached",
            NotifyOn::LinkRevoked => "link-revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        NotifyOn::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// The data of `NotifySettingsChanged`: the settings, or `null` when turned off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotifyChanged {
    pub notify: Option<Notify>,
}

/// Set (or, with `None`, turn off) the actor's own notifications.
#[derive(Debug, Clone)]
pub struct SetNotifications {
    pub actor: Actor,
    pub notify: Option<Notify>,
}

/// An owner's stream as its events made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub user_id: UserId,
    pub notify: Option<Notify>,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The rules of a notification change: a target the admin allows (`targets`: URL
/// prefixes; none means notifications are off on this server), a known format, at
/// least one kind of news. An unchanged setting is no event.
pub fn decide_owner(
    state: Option<&Owner>,
    cmd: &SetNotifications,
    targets: &[String],
) -> Result<Option<NotifyChanged>, DomainError> {
    let notify = match &cmd.notify {
        None => None,
        Some(n) => Some(checked(n, targets)?),
    };
    let current = state.and_then(|o| o.notify.as_ref());
    if current == notify.as_ref() || (state.is_none() && notify.is_none()) {
        return Ok(None);
    }
    Ok(Some(NotifyChanged { notify }))
}

fn checked(n: &Notify, targets: &[String]) -> Result<Notify, DomainError> {
    let allowed = n.url.chars().count() <= MAX_NOTIFY_URL_CHARS
        && !n.url.chars().any(char::is_control)
        && targets
            .iter()
            .any(|t| !t.is_empty() && n.url.starts_with(t.as_str()));
    if !allowed {
        return Err(DomainError::NotifyTarget);
    }
    if n.on.is_empty() {
        return Err(DomainError::Invalid {
            field: "on",
            message: "name at least one of first-visit, visit, download, limit-reached, \
                      link-revoked"
                .into(),
        });
    }
    // One order and no repeats, so that the same choice is the same event.
    let on = NotifyOn::ALL
        .into_iter()
        .filter(|o| n.on.contains(o))
        .collect();
    Ok(Notify {
        url: n.url.clone(),
        format: n.format,
        on,
    })
}

/// Folds an owner's event in. Assigns only.
pub fn apply_owner(
    state: Option<Owner>,
    user: &UserId,
    change: &NotifyChanged,
    at: OffsetDateTime,
) -> Owner {
    Owner {
        user_id: user.clone(),
        notify: change.notify.clone(),
        version: state.map_or(1, |o| o.version + 1),
        updated_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn alice() -> Actor {
        Actor {
            user_id: UserId("u-alice".into()),
            username: "alice".into(),
            is_admin: false,
        }
    }

    fn set(url: &str, on: Vec<NotifyOn>) -> SetNotifications {
        SetNotifications {
            actor: alice(),
            notify: Some(Notify {
                url: url.into(),
                format: NotifyFormat::Ntfy,
                on,
            }),
        }
    }

    const TARGETS: &[&str] = &["https://ntfy.example/", "http://hooks.local:8080/sharelog"];

    fn targets() -> Vec<String> {
        TARGETS.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn only_an_allowed_target_is_taken_and_none_when_notifications_are_off() {
        let ok = set("https://ntfy.example/alice", vec![NotifyOn::Visit]);
        assert!(decide_owner(None, &ok, &targets()).unwrap().is_some());
        for bad in [
            "https://ntfy.example.evil/alice",
            "http://127.0.0.1:6379/",
            "https://ntfy.example",
            "http://hooks.local:8080/share",
        ] {
            let r = decide_owner(None, &set(bad, vec![NotifyOn::Visit]), &targets());
            assert_eq!(r, Err(DomainError::NotifyTarget), "{bad}");
        }
        assert_eq!(
            decide_owner(None, &ok, &[]),
            Err(DomainError::NotifyTarget),
            "no allowed targets: notifications are off"
        );
    }

    #[test]
    fn the_same_choice_in_another_order_is_no_change() {
        let first = set(
            "https://ntfy.example/a",
            vec![NotifyOn::Visit, NotifyOn::FirstVisit, NotifyOn::Visit],
        );
        let change = decide_owner(None, &first, &targets()).unwrap().unwrap();
        let on = &change.notify.as_ref().unwrap().on;
        assert_eq!(on, &vec![NotifyOn::FirstVisit, NotifyOn::Visit]);
        let owner = apply_owner(
            None,
            &UserId("u-alice".into()),
            &change,
            datetime!(2026-01-01 0:00 UTC),
        );
        let again = set(
            "https://ntfy.example/a",
            vec![NotifyOn::FirstVisit, NotifyOn::Visit],
        );
        assert_eq!(decide_owner(Some(&owner), &again, &targets()), Ok(None));
        let off = SetNotifications {
            actor: alice(),
            notify: None,
        };
        assert_eq!(decide_owner(None, &off, &targets()), Ok(None));
        let turned_off = decide_owner(Some(&owner), &off, &targets())
            .unwrap()
            .unwrap();
        assert_eq!(turned_off.notify, None);
        assert_eq!(
            apply_owner(
                Some(owner),
                &UserId("u-alice".into()),
                &turned_off,
                datetime!(2026-01-02 0:00 UTC)
            )
            .version,
            2
        );
    }

    #[test]
    fn nothing_to_hear_about_is_refused() {
        let r = decide_owner(None, &set("https://ntfy.example/a", vec![]), &targets());
        assert!(matches!(r, Err(DomainError::Invalid { field: "on", .. })));
    }
}
