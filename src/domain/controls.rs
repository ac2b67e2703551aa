//! The owner's controls on a share: a password (kept only as an argon2id hash), a
//! visit limit, and links per recipient. The rules of their values live here; when
//! they apply is `decide`'s.

use super::error::DomainError;
use super::ids::LinkId;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Shortest and longest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 4;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// The highest visit limit, on a share or a link.
pub const MAX_VISITS: u32 = 1_000_000;
/// Longest recipient label, in characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// Most links one share may have, revoked ones included: the share's row and its
/// counter row carry them all, and a visit rewrites the counter row.
pub const MAX_LINKS: usize = 100;

/// The rule for a password in clear, checked by the share service before it hashes it
/// (the clear text never reaches a command, an event or a log line).
pub fn check_password(clear: &str) -> Result<(), DomainError> {
    let n = clear.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(DomainError::Invalid {
            field: "password",
            message: format!(
                "must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long"
            ),
        });
    }
    Ok(())
}

/// A share's password as the log keeps it: an argon2id hash in the PHC string format
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). Only a string of that form is one, so a
/// password in clear cannot be put in its place by mistake.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The hash if `phc` has the form of an argon2id PHC string.
    pub fn parse(phc: &str) -> Option<Self> {
        let fields: Vec<&str> = phc.split('$').collect();
        let phc_chars = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=,+/.-".contains(&b))
        };
        let ok = phc.len() <= 256
            && fields.len() == 6
            && fields[0].is_empty()
            && fields[1] == "argon2id"
            && fields[2].starts_with("v=")
            && fields[3].starts_with("m=")
            && fields[4..].iter().all(|f| !f.is_empty())
            && fields.iter().all(|f| phc_chars(f));
        ok.then(|| PasswordHash(phc.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Not the hash itself in a debug line: it is no secret, but it has no place in a log.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(argon2id)")
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, &'static str> {
        PasswordHash::parse(&s).ok_or("not an argon2id PHC string")
    }
}

impl From<PasswordHash> for String {
    fn from(h: PasswordHash) -> String {
        h.0
    }
}

/// The rule for a visit limit (`field` as the client named it).
pub fn check_max_visits(n: Option<u32>, field: &'static str) -> Result<(), DomainError> {
    match n {
        Some(n) if !(1..=MAX_VISITS).contains(&n) => Err(DomainError::Invalid {
            field,
            message: format!("must be 1 to {MAX_VISITS}"),
        }),
        _ => Ok(()),
    }
}

/// The rule for a recipient's label: 1 to 64 characters once trimmed, no control characters.
pub fn check_label(label: &str) -> Result<(), DomainError> {
    let invalid = |message: &str| {
        Err(DomainError::Invalid {
            field: "label",
            message: message.into(),
        })
    };
    let n = label.trim().chars().count();
    if n == 0 || n > MAX_LABEL_CHARS {
        return invalid("must be 1 to 64 characters");
    }
    if label.chars().any(char::is_control) {
        return invalid("must not contain control characters");
    }
    Ok(())
}

/// A link for one recipient: it opens its share, with the share's password and expiry,
/// and counts its own visits (which count towards the share's too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareLink {
    pub id: LinkId,
    pub label: String,
    pub max_visits: Option<u32>,
    pub visit_count: u64,
    pub preview_count: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_visited_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl ShareLink {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether its own limit is used up.
    pub fn is_spent(&self) -> bool {
        self.max_visits
            .is_some_and(|max| self.visit_count >= u64::from(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_has_4_to_128_characters_counted_as_characters() {
        assert!(check_password("abc").is_err());
        assert!(check_password("abcd").is_ok());
        assert!(check_password(&"é".repeat(128)).is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn only_an_argon2id_phc_string_is_a_password_hash() {
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A";
        assert_eq!(PasswordHash::parse(phc).map(|h| h.0), Some(phc.to_string()));
        for bad in [
            "hunter22",
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$",
            "$argon2id$v=19$m=19456,t=2,p=1$c29 tZXNhbHQ$abc",
        ] {
            assert!(PasswordHash::parse(bad).is_none(), "{bad}");
        }
        let json = serde_json::to_string(&PasswordHash::parse(phc)).unwrap();
        assert_eq!(json, format!("\"{phc}\""));
        assert!(serde_json::from_str::<PasswordHash>("\"hunter22\"").is_err());
        assert_eq!(
            format!("{:?}", PasswordHash::parse(phc).unwrap()),
            "PasswordHash(argon2id)"
        );
    }

    #[test]
    fn limits_and_labels_keep_their_ranges() {
        assert!(check_max_visits(Some(0), "maxVisits").is_err());
        assert!(check_max_visits(Some(1), "maxVisits").is_ok());
        assert!(check_max_visits(Some(MAX_VISITS), "maxVisits").is_ok());
        assert!(check_max_visits(Some(MAX_VISITS + 1), "maxVisits").is_err());
        assert!(check_max_visits(None, "maxVisits").is_ok());
        assert!(check_label("Bob").is_ok());
        assert!(check_label(&"東".repeat(64)).is_ok());
        for bad in ["", "   ", "a\nb"] {
            assert!(check_label(bad).is_err(), "{bad:?}");
        }
        assert!(check_label(&"x".repeat(65)).is_err());
    }
}
