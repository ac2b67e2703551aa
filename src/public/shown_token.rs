//! Single-use tokens that turn a prerendered page into a visit once a person sees it.
//!
//! A page served to a prefetch (Chrome's prerender among them) is recorded as a preview and
//! carries one token: an HS256-signed claim naming the share, valid for `LIFETIME`, with a
//! random nonce. When the page is shown, its script posts the token back and it becomes one
//! visit. Signed, so nobody can make one up; bound to its share; short-lived; and used once:
//! a redeemed nonce is remembered until its token expires, in a set of bounded size.
//!
//! The key is random per process: a token outlives neither a restart nor `LIFETIME`, both
//! far longer than a browser keeps a prerendered page waiting.

use jwt_simple::prelude::*;
use jwt_simple::JWTError;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a token may be redeemed after its page was served. Chrome discards an unused
/// prerendered (or prefetched) page after a few minutes.
pub const LIFETIME_SECS: u64 = 10 * 60;

/// Redeemed nonces kept at most; past it (every one still unexpired) redemptions are refused
/// until some expire, so a flood can cost visits but never memory or a counted replay.
pub const MAX_REMEMBERED: usize = 100_000;

/// The longest token accepted; ours are about 250 characters.
pub const MAX_TOKEN_CHARS: usize = 1024;

/// Why a token was not redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not ours, damaged, or for another share.
    Invalid,
    /// Ours and for this share, but older than `LIFETIME_SECS`.
    Expired,
    /// Already redeemed once.
    Used,
    /// `MAX_REMEMBERED` unexpired tokens are remembered: none can be taken now.
    Busy,
}

/// A token taken for a visit. The visit is then recorded; if that fails, `release` gives
/// the token back so the page may try again.
#[must_use]
pub struct Taken {
    nonce: String,
}

pub struct ShownTokens {
    key: HS256Key,
    /// Redeemed nonces and when their tokens expire (seconds since 1970).
    used: Mutex<Used>,
}

#[derive(Default)]
struct Used {
    expires: HashMap<String, u64>,
    /// When the expired entries were last dropped.
    swept_at: u64,
}

impl Default for ShownTokens {
    fn default() -> Self {
        ShownTokens {
            key: HS256Key::generate(),
            used: Mutex::new(Used::default()),
        }
    }
}

impl ShownTokens {
    /// A fresh token for a page of share `share`.
    pub fn issue(&self, share: &str) -> String {
        let mut claims = Claims::create(Duration::from_secs(LIFETIME_SECS)).with_subject(share);
        claims.create_nonce();
        // Signing an HMAC over claims we built cannot fail; an empty token is refused later.
        self.key.authenticate(claims).unwrap_or_default()
    }

    /// Takes `token` for one visit to `share`, at `now` (seconds since 1970).
    pub fn take(&self, token: &str, share: &str, now: u64) -> Result<Taken, Refused> {
        let (nonce, expires) = self.verify(token, share, now)?;
        let mut used = self.lock();
        used.sweep(now);
        if used.expires.contains_key(&nonce) {
            return Err(Refused::Used);
        }
        if used.expires.len() >= MAX_REMEMBERED {
            return Err(Refused::Busy);
        }
        used.expires.insert(nonce.clone(), expires);
        Ok(Taken { nonce })
    }

    /// Gives back a token whose visit could not be recorded.
    pub fn release(&self, taken: Taken) {
        self.lock().expires.remove(&taken.nonce);
    }

    /// The nonce and expiry of a token signed by us for `share` and not expired at `now`.
    fn verify(&self, token: &str, share: &str, now: u64) -> Result<(String, u64), Refused> {
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
        match (claims.nonce, claims.expires_at) {
            (Some(nonce), Some(exp)) => Ok((nonce, exp.as_secs())),
            _ => Err(Refused::Invalid),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Used> {
        // Each change is one insert or remove: a panic elsewhere leaves the set whole.
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.lock().expires.len()
    }
}

impl Used {
    /// Drops the nonces of expired tokens (they are refused as expired anyway): at most once
    /// a minute, or whenever the set is full.
    fn sweep(&mut self, now: u64) {
        if self.expires.len() >= MAX_REMEMBERED || now >= self.swept_at + 60 {
            self.expires.retain(|_, exp| *exp >= now);
            self.swept_at = now;
        }
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
    fn a_token_is_taken_once_for_its_own_share_only() {
        let tokens = ShownTokens::default();
        let now = now_secs();
        let token = tokens.issue("abc");
        assert!(token.len() < MAX_TOKEN_CHARS / 2, "{}", token.len());
        assert_eq!(
            tokens.take(&token, "xyz", now).err(),
            Some(Refused::Invalid)
        );
        let taken = tokens.take(&token, "abc", now).map(|_| ());
        assert_eq!(taken, Ok(()));
        assert_eq!(tokens.take(&token, "abc", now).err(), Some(Refused::Used));
    }

    #[test]
    fn a_released_token_may_be_taken_again() {
        let tokens = ShownTokens::default();
        let now = now_secs();
        let token = tokens.issue("abc");
        let taken = tokens.take(&token, "abc", now).unwrap();
        tokens.release(taken);
        assert!(tokens.take(&token, "abc", now).is_ok());
    }

    #[test]
    fn forged_damaged_and_foreign_tokens_are_invalid() {
        let tokens = ShownTokens::default();
        let now = now_secs();
        let other_server = ShownTokens::default().issue("abc");
        assert_eq!(
            tokens.take(&other_server, "abc", now).err(),
            Some(Refused::Invalid)
        );
        let mut damaged = tokens.issue("abc");
        let last = damaged
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        damaged.push(last);
        assert_eq!(
            tokens.take(&damaged, "abc", now).err(),
            Some(Refused::Invalid)
        );
        for junk in ["", "x", "a.b.c", &"A".repeat(MAX_TOKEN_CHARS + 1)] {
            assert_eq!(tokens.take(junk, "abc", now).err(), Some(Refused::Invalid));
        }
        // Signed with our key but without a nonce: not one of ours either.
        let bare = tokens
            .key
            .authenticate(Claims::create(Duration::from_secs(60)).with_subject("abc"))
            .unwrap();
        assert_eq!(tokens.take(&bare, "abc", now).err(), Some(Refused::Invalid));
    }

    #[test]
    fn a_token_expires_and_its_nonce_is_then_forgotten() {
        let tokens = ShownTokens::default();
        let now = now_secs();
        let token = tokens.issue("abc");
        let after = now + LIFETIME_SECS + 2;
        assert_eq!(
            tokens.take(&token, "abc", after).err(),
            Some(Refused::Expired)
        );
        let _taken = tokens.take(&token, "abc", now).unwrap();
        assert_eq!(tokens.remembered(), 1);
        // The next sweep after it expired forgets it: it is refused as expired anyway.
        tokens.lock().sweep(after + 60);
        assert_eq!(tokens.remembered(), 0);
        assert_eq!(
            tokens.take(&token, "abc", after).err(),
            Some(Refused::Expired)
        );
    }

    #[test]
    fn a_full_memory_refuses_rather_than_forgets() {
        let tokens = ShownTokens::default();
        let now = now_secs();
        {
            let mut used = tokens.lock();
            for i in 0..MAX_REMEMBERED {
                used.expires.insert(format!("n{i}"), now + 100);
            }
            used.swept_at = now;
        }
        let token = tokens.issue("abc");
        assert_eq!(tokens.take(&token, "abc", now).err(), Some(Refused::Busy));
        assert_eq!(tokens.remembered(), MAX_REMEMBERED);
        // Once they expire, there is room again.
        assert!(tokens.take(&token, "abc", now + 101).is_ok());
        assert_eq!(tokens.remembered(), 1);
    }
}
