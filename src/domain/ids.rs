use serde::{Deserialize, Serialize};
use std::fmt;

/// A public share id: `[A-Za-z0-9]+`. New ids carry 128 random bits (22 base62 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShareId(String);

/// A recipient link's id: the alphabet and strength of a share id, since it opens the
/// same share at `/share/{linkId}` (and so shares the share ids' URL space). Read back
/// from the log by the same rule as a URL segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LinkId(String);

impl TryFrom<String> for LinkId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if is_id(&s) {
            Ok(LinkId(s))
        } else {
            Err(format!("not a link id: {s:?}"))
        }
    }
}

impl From<LinkId> for String {
    fn from(id: LinkId) -> String {
        id.0
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// 16 random bytes as 22 base62 characters.
fn base62(bytes: [u8; 16]) -> String {
    let mut n = u128::from_be_bytes(bytes);
    let mut out = Vec::with_capacity(22);
    for _ in 0..22 {
        out.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    // Only base62 bytes were pushed, so this is valid ASCII.
    out.into_iter().map(char::from).collect()
}

/// Whether `s` may be an id in a URL segment: 1..=64 alphanumeric ASCII characters.
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl ShareId {
    /// Builds an id from 16 random bytes (the caller supplies them, so the domain stays free of I/O).
    pub fn from_random(bytes: [u8; 16]) -> Self {
        ShareId(base62(bytes))
    }

    /// Parses an id from a URL segment; `None` unless it is 1..=64 alphanumeric ASCII characters.
    pub fn parse(s: &str) -> Option<Self> {
        is_id(s).then(|| ShareId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShareId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl LinkId {
    /// Builds an id from 16 random bytes, as `ShareId::from_random`.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        LinkId(base62(bytes))
    }

    /// Parses an id from a URL segment, by the rule of share ids.
    pub fn parse(s: &str) -> Option<Self> {
        is_id(s).then(|| LinkId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The music server's user id (Navidrome's `uid` claim).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

/// The stream an event belongs to: a share's, or an owner's (their notification
/// settings). Written in the log as the share id, or as `owner:{userId}`: `:` is not
/// in a share id's alphabet, so the two can never be confused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StreamId {
    Share(ShareId),
    Owner(UserId),
}

/// What starts an owner's stream id.
const OWNER_PREFIX: &str = "owner:";

impl StreamId {
    /// Parses a stream id as the log writes it.
    pub fn parse(s: &str) -> Option<Self> {
        match s.strip_prefix(OWNER_PREFIX) {
            Some(user) if !user.is_empty() && !user.chars().any(char::is_control) => {
                Some(StreamId::Owner(UserId(user.to_string())))
            }
            Some(_) => None,
            None => ShareId::parse(s).map(StreamId::Share),
        }
    }

    /// The share this stream is, if it is a share's.
    pub fn share(&self) -> Option<&ShareId> {
        match self {
            StreamId::Share(id) => Some(id),
            StreamId::Owner(_) => None,
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Share(id) => f.write_str(id.as_str()),
            StreamId::Owner(user) => write!(f, "{OWNER_PREFIX}{}", user.0),
        }
    }
}

impl From<ShareId> for StreamId {
    fn from(id: ShareId) -> Self {
        StreamId::Share(id)
    }
}

/// Who issues a command on the owner API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub user_id: UserId,
    pub username: String,
    /// Admins see and change every share; never written to the log.
    #[serde(skip)]
    pub is_admin: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_22_base62_characters() {
        let id = ShareId::from_random([0xff; 16]);
        assert_eq!(id.as_str().len(), 22);
        assert!(ShareId::parse(id.as_str()).is_some());
        assert_ne!(ShareId::from_random([0; 16]), ShareId::from_random([1; 16]));
    }

    #[test]
    fn stream_ids_tell_shares_and_owners_apart_both_ways() {
        let share = StreamId::parse("AbC123").unwrap();
        assert_eq!(share, StreamId::Share(ShareId::parse("AbC123").unwrap()));
        assert_eq!(share.to_string(), "AbC123");
        let owner = StreamId::parse("owner:u-1:x").unwrap();
        assert_eq!(owner, StreamId::Owner(UserId("u-1:x".into())));
        assert_eq!(owner.to_string(), "owner:u-1:x");
        for bad in ["owner:", "owner:\n", "own:er", "a-b"] {
            assert!(StreamId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ids_with_other_characters_do_not_parse() {
        for bad in ["", "a/b", "a-b", "ä", &"a".repeat(65)] {
            assert!(ShareId::parse(bad).is_none(), "{bad}");
        }
    }
}
