//! Single-use tokens that turn a prerendered page into a visit once a person sees it.
//!
//! A page served to a prefetch (Chrome's prerender among them) is recorded as a preview and
//! carries one token: an HS256-signed claim naming the share, valid for `LIFETIME`, with a
//! random nonce. When the page is shown, its script posts the token back and it becomes one
//! visit. Signed, so nobody can make one up; bound to its share; short-lived; and used once:
//! the nonce is the visit's idempotency key (`shown.rs`), so the log itself refuses a second
//! visit for it, after a restart and on every replica.
//!
//! The key is the store's secret `page-token`, the same for every replica and across
//! restarts.

use jwt_simple::prelude::*;
use jwt_simple::JWTError;

/// How long a token may be redeemed after its page was served. Chrome discards an unused
/// prerendered (or prefetched) page after a few minutes.
pub const LIFETIME_SECS: u64 = 10 * 60;

/// The longest token accepted; ours are about 250 characters.
pub const MAX_TOKEN_CHARS: usize = 1024;

/// The name of the tokens' key in the store: every replica checks what another signed.
pub const SECRET_NAME: &str = "page-token";

/// Why a token is not a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not ours, damaged, or for another share.
    Invalid,
    /// Ours and for this share, but older than `LIFETIME_SECS`.
    Expired,
    /// Already counted once.
    Used,
}

pub struct ShownTokens {
    key: HS256Key,
}

impl ShownTokens {
    pub fn new(key: [u8; 32]) -> Self {
        ShownTokens {
            key: HS256Key::from_bytes(&key),
        }
    }

    /// A fresh token for a page of share `share`.
    pub fn issue(&self, share: &str) -> String {
        let mut claims = Claims::create(Duration::from_secs(LIFETIME_SECS)).with_subject(share);
        claims.create_nonce();
        // Signing an HMAC over claims we built cannot fail; an empty token is refused later.
        self.key.authenticate(claims).unwrap_or_default()
    }

    /// The nonce of a token signed by us for `share` and not expired at `now` (seconds
    /// since 1970): what makes its visit count once.
    pub fn verify(&self, token: &str, share: &str, now: u64) -> Result<String, Refused> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(Refused::Invalid);
        }
        let options = VerificationOptions {
            // The times are ours: only `exp` matters, and with no tolerance.
            accept_future: true,
            time_tolerance: Some(Duration::from_secs(0)),
            required_subject: Some(share.to_string()),
            max_token_length: Some(MAX_TOKEN_CHARS),
            artificial_time: Some(Duration::from_secs(now)),
            ..Default::default()
        };
        let claims = self
            .key
            .verify_token::<NoCustomClaims>(token, Some(options))
            .map_err(|e| match e.downcast_ref::<JWTError>() {
                Some(JWTError::TokenHasExpired) => Refused::Expired,
                _ => Refused::Invalid,
            })?;
        claims.nonce.ok_or(Refused::Invalid)
    }
}

/// Seconds since 1970 by our clock.
pub fn now_secs() -> u64 {
    Clock::now_since_epoch().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_good_for_its_own_share_only() {
        let tokens = ShownTokens::new([1; 32]);
        let now = now_secs();
        let token = tokens.issue("abc");
        assert!(token.len() < MAX_TOKEN_CHARS / 2, "{}", token.len());
        assert_eq!(tokens.verify(&token, "xyz", now), Err(Refused::Invalid));
        let nonce = tokens.verify(&token, "abc", now).unwrap();
        assert!(!nonce.is_empty());
        // Another token has another nonce: each page is its own visit.
        let other = tokens.verify(&tokens.issue("abc"), "abc", now).unwrap();
        assert_ne!(nonce, other);
    }

    #[test]
    fn a_replica_with_the_same_secret_checks_what_another_signed() {
        let token = ShownTokens::new([1; 32]).issue("abc");
        let now = now_secs();
        assert!(ShownTokens::new([1; 32]).verify(&token, "abc", now).is_ok());
    }

    #[test]
    fn forged_damaged_and_foreign_tokens_are_invalid() {
        let tokens = ShownTokens::new([1; 32]);
        let now = now_secs();
        let other_server = ShownTokens::new([2; 32]).issue("abc");
        assert_eq!(
            tokens.verify(&other_server, "abc", now),
            Err(Refused::Invalid)
        );
        let mut damaged = tokens.issue("abc");
        let last = damaged
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        damaged.push(last);
        assert_eq!(tokens.verify(&damaged, "abc", now), Err(Refused::Invalid));
        for junk in ["", "x", "a.b.c", &"A".repeat(MAX_TOKEN_CHARS + 1)] {
            assert_eq!(tokens.verify(junk, "abc", now), Err(Refused::Invalid));
        }
        // Signed with our key but without a nonce: not one of ours either.
        let bare = tokens
            .key
            .authenticate(Claims::create(Duration::from_secs(60)).with_subject("abc"))
            .unwrap();
        assert_eq!(tokens.verify(&bare, "abc", now), Err(Refused::Invalid));
    }

    #[test]
    fn a_token_expires() {
        let tokens = ShownTokens::new([1; 32]);
        let now = now_secs();
        let token = tokens.issue("abc");
        let after = now + LIFETIME_SECS + 2;
        assert_eq!(tokens.verify(&token, "abc", after), Err(Refused::Expired));
        assert!(tokens.verify(&token, "abc", now).is_ok());
    }
}
