//! Access keys and unlock cookies: short signed tokens that prove, for a while, what a request
//! cannot prove again on its own. A visit to a protected share hands out a key (`Visit`) for
//! the streams, downloads, zip and covers of its answer; the unlock form sets a cookie
//! (`Unlock`) that proves the password; a preview of a share with a visit limit or reached
//! through a recipient link gets a key for its covers only (`Cover`), so a chat app can show
//! the picture without a visit.
//!
//! A token is bound to the share, the recipient link it was opened through (none for the
//! share's own id) and the share's password version, but carries none of them: it is the
//! kind, the expiry and a MAC over those with the store's secret `access-key` (the same for
//! every replica and across restarts). So a key handed out through Bob's link never tells
//! Bob the share's own id, a key of one link opens nothing through another, and setting,
//! changing or removing the password (a new password version) refuses every token made
//! before. Checking one is a hash, never argon2.

use super::client_ip::hmac;
use crate::domain::{LinkId, ShareId};

/// The store's secret that signs every token.
pub const SECRET_NAME: &str = "access-key";

/// The token layout this build writes and reads.
const LAYOUT: u8 = 1;
/// Bytes of the truncated HMAC-SHA256: 128 bits, as much as a share id's randomness.
const MAC_BYTES: usize = 16;
/// Layout, kind, expiry (u64), MAC.
const TOKEN_BYTES: usize = 2 + 8 + MAC_BYTES;
/// What the MAC of a token starts with, so no other MAC of this secret can be one.
const DOMAIN: &[u8] = b"sharelog access key\0";
/// What the digest of a Basic password starts with (`password_digest`).
const PASSWORD_DOMAIN: &[u8] = b"sharelog basic password\0";

/// What a token lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// Handed out by a visit: proves the password and opens the streams, downloads, zip
    /// and covers of a share with a visit limit or a recipient link.
    Visit,
    /// The unlock cookie: proves the password, nothing more.
    Unlock,
    /// Handed out by a preview of a share without a password: its covers only.
    Cover,
}

impl KeyKind {
    fn byte(self) -> u8 {
        match self {
            KeyKind::Visit => 1,
            KeyKind::Unlock => 2,
            KeyKind::Cover => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        [KeyKind::Visit, KeyKind::Unlock, KeyKind::Cover]
            .into_iter()
            .find(|k| k.byte() == b)
    }
}

/// What a token is bound to.
#[derive(Clone, Copy)]
pub struct Binding<'a> {
    pub share: &'a ShareId,
    /// The recipient link the share was opened through; `None` for the share's own id.
    pub link: Option<&'a LinkId>,
    /// `Share::password_version` when the token was made.
    pub password_version: u64,
}

impl Binding<'_> {
    fn bytes(&self) -> Vec<u8> {
        let mut b = self.password_version.to_be_bytes().to_vec();
        // Ids are alphanumeric: a NUL between them cannot be part of either.
        b.extend_from_slice(self.share.as_str().as_bytes());
        b.push(0);
        b.extend_from_slice(self.link.map_or("", |l| l.as_str()).as_bytes());
        b
    }
}

pub struct AccessKeys {
    secret: [u8; 32],
    /// How long a token lives: `publicAccess.accessKeyHours`.
    lifetime_secs: u64,
}

impl AccessKeys {
    pub fn new(secret: [u8; 32], hours: u32) -> Self {
        AccessKeys {
            secret,
            lifetime_secs: u64::from(hours) * 3600,
        }
    }

    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime_secs
    }

    /// A fresh token of `kind` for `binding`, valid from `now` (seconds since 1970) for the
    /// configured lifetime. 52 hex characters, safe in a URL and a cookie.
    pub fn issue(&self, kind: KeyKind, binding: Binding<'_>, now: u64) -> String {
        let expires = now.saturating_add(self.lifetime_secs);
        let mut token = vec![LAYOUT, kind.byte()];
        token.extend_from_slice(&expires.to_be_bytes());
        token.extend_from_slice(&self.mac(kind, expires, binding));
        crate::hex::encode(&token)
    }

    /// The kind of `token` if it is ours, made for exactly `binding`, and not expired at
    /// `now`; `None` for anything else (forged, damaged, another share, link or password
    /// version, expired).
    pub fn verify(&self, token: &str, binding: Binding<'_>, now: u64) -> Option<KeyKind> {
        if token.len() != TOKEN_BYTES * 2 {
            return None;
        }
        let bytes = crate::hex::decode(token)?;
        let (head, mac) = bytes.split_at(2 + 8);
        if head[0] != LAYOUT {
            return None;
        }
        let kind = KeyKind::from_byte(head[1])?;
        let mut expiry = [0u8; 8];
        expiry.copy_from_slice(&head[2..]);
        let expires = u64::from_be_bytes(expiry);
        let expected = self.mac(kind, expires, binding);
        (constant_time_eq(mac, &expected) && now < expires).then_some(kind)
    }

    /// A digest of a password given with HTTP Basic for `binding`: what the memory of
    /// passwords already checked holds instead of the password (`proof`), keyed by our
    /// secret so that it is no fast hash anyone could test guesses against.
    pub fn password_digest(&self, binding: Binding<'_>, clear: &[u8]) -> [u8; 32] {
        let mut msg = PASSWORD_DOMAIN.to_vec();
        msg.extend_from_slice(&binding.bytes());
        msg.push(0);
        msg.extend_from_slice(clear);
        hmac(&self.secret, &msg)
    }

    fn mac(&self, kind: KeyKind, expires: u64, binding: Binding<'_>) -> [u8; MAC_BYTES] {
        let mut msg = DOMAIN.to_vec();
        msg.extend_from_slice(&[LAYOUT, kind.byte()]);
        msg.extend_from_slice(&expires.to_be_bytes());
        msg.extend_from_slice(&binding.bytes());
        let full = hmac(&self.secret, &msg);
        let mut mac = [0u8; MAC_BYTES];
        mac.copy_from_slice(&full[..MAC_BYTES]);
        mac
    }
}

/// Whether `a` and `b` are equal, in a time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn ids() -> (ShareId, LinkId, LinkId) {
        (
            ShareId::parse("share1").unwrap(),
            LinkId::parse("bob").unwrap(),
            LinkId::parse("carol").unwrap(),
        )
    }

    #[test]
    fn a_token_opens_exactly_what_it_was_made_for() {
        let keys = AccessKeys::new([7; 32], 12);
        let (share, bob, carol) = ids();
        let via_bob = Binding {
            share: &share,
            link: Some(&bob),
            password_version: 3,
        };
        let token = keys.issue(KeyKind::Visit, via_bob, NOW);
        assert_eq!(token.len(), 52);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!token.contains("share1"), "the share id is not in it");
        assert_eq!(keys.verify(&token, via_bob, NOW), Some(KeyKind::Visit));
        let others = [
            Binding {
                link: Some(&carol),
                ..via_bob
            },
            Binding {
                link: None,
                ..via_bob
            },
            Binding {
                password_version: 4,
                ..via_bob
            },
        ];
        for other in others {
            assert_eq!(keys.verify(&token, other, NOW), None);
        }
        let other_share = ShareId::parse("share2").unwrap();
        let elsewhere = Binding {
            share: &other_share,
            ..via_bob
        };
        assert_eq!(keys.verify(&token, elsewhere, NOW), None);
    }

    #[test]
    fn a_token_lives_the_configured_hours_and_no_longer() {
        let keys = AccessKeys::new([7; 32], 12);
        let (share, _, _) = ids();
        let b = Binding {
            share: &share,
            link: None,
            password_version: 0,
        };
        let token = keys.issue(KeyKind::Unlock, b, NOW);
        let end = NOW + 12 * 3600;
        assert_eq!(keys.verify(&token, b, end - 1), Some(KeyKind::Unlock));
        assert_eq!(keys.verify(&token, b, end), None);
    }

    #[test]
    fn forged_damaged_and_foreign_tokens_open_nothing() {
        let keys = AccessKeys::new([7; 32], 12);
        let (share, _, _) = ids();
        let b = Binding {
            share: &share,
            link: None,
            password_version: 0,
        };
        let token = keys.issue(KeyKind::Cover, b, NOW);
        let theirs = AccessKeys::new([8; 32], 12).issue(KeyKind::Cover, b, NOW);
        assert_eq!(keys.verify(&theirs, b, NOW), None);
        // Another kind or a later expiry written over ours: the MAC no longer matches.
        let promoted = format!("01{}{}", "01", &token[4..]);
        assert_eq!(keys.verify(&promoted, b, NOW), None);
        let mut later = crate::hex::decode(&token).unwrap();
        later[9] ^= 1;
        assert_eq!(keys.verify(&crate::hex::encode(&later), b, NOW), None);
        for junk in [
            "",
            "zz",
            &token[..50],
            &format!("{token}00"),
            &token.to_uppercase(),
        ] {
            assert_eq!(keys.verify(junk, b, NOW), None, "{junk}");
        }
    }

    #[test]
    fn a_replica_with_the_same_secret_reads_another_ones_tokens() {
        let (share, bob, _) = ids();
        let b = Binding {
            share: &share,
            link: Some(&bob),
            password_version: 1,
        };
        let token = AccessKeys::new([9; 32], 12).issue(KeyKind::Visit, b, NOW);
        assert_eq!(
            AccessKeys::new([9; 32], 24).verify(&token, b, NOW),
            Some(KeyKind::Visit)
        );
    }

    #[test]
    fn password_digests_differ_by_share_version_and_password() {
        let keys = AccessKeys::new([7; 32], 12);
        let (share, bob, _) = ids();
        let b = Binding {
            share: &share,
            link: None,
            password_version: 1,
        };
        let d = keys.password_digest(b, b"open sesame");
        assert_eq!(d, keys.password_digest(b, b"open sesame"));
        assert_ne!(d, keys.password_digest(b, b"open sesamE"));
        let v2 = Binding {
            password_version: 2,
            ..b
        };
        assert_ne!(d, keys.password_digest(v2, b"open sesame"));
        let linked = Binding {
            link: Some(&bob),
            ..b
        };
        assert_ne!(d, keys.password_digest(linked, b"open sesame"));
    }
}
