//! What sharelog reads from a token's payload, and the one rule for when a token is valid
//! in time. Both verification paths use it: local HS256 (after the signature check) and
//! delegation to Navidrome (before asking, so a token out of its window costs no call).

use super::AuthError;
use crate::domain::{Actor, UserId};
use serde::Deserialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// How far ahead of our clock a token's `nbf` and `iat` may be: the issuer's clock may run a
/// little fast. `exp` gets no leeway (it must be in the future, as the API promises).
pub const CLOCK_LEEWAY_SECS: f64 = 60.0;

/// The payload's claims. Times are RFC 7519 NumericDates, read as JSON numbers: a string,
/// boolean or null in their place makes the token invalid, and a negative one is a date
/// before 1970 (never a huge unsigned one).
#[derive(Debug, Deserialize)]
pub(super) struct TokenClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    adm: Option<bool>,
    #[serde(default, deserialize_with = "numeric_date")]
    exp: Option<f64>,
    #[serde(default, deserialize_with = "numeric_date")]
    nbf: Option<f64>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<f64>,
}

/// Present claims must be numbers; `null` is refused like any other wrong type.
fn numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    f64::deserialize(d).map(Some)
}

/// The claims of a compact JWT (`header.payload.signature`), without checking the signature.
pub(super) fn read(token: &str) -> Result<TokenClaims, AuthError> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Invalid);
    };
    let bytes = base64url(payload).ok_or(AuthError::Invalid)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Invalid)
}

impl TokenClaims {
    /// RFC 7519 §4.1.4–4.1.6: `exp` is required and must be after `now`; `nbf` and `iat`,
    /// when present, must not be more than the leeway ahead of `now`.
    pub(super) fn check_time(&self, now: f64) -> Result<(), AuthError> {
        let exp = self.exp.ok_or(AuthError::Invalid)?;
        let ahead = |t: Option<f64>| t.is_some_and(|t| t > now + CLOCK_LEEWAY_SECS);
        if exp <= now || ahead(self.nbf) || ahead(self.iat) {
            return Err(AuthError::Invalid);
        }
        Ok(())
    }

    /// The acting user: `sub` is the username (required); `uid` the user id, which falls
    /// back to the username when absent; `adm` the admin flag.
    pub(super) fn into_actor(self) -> Result<Actor, AuthError> {
        let username = self
            .sub
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::Invalid)?;
        let user_id = self
            .uid
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| username.clone());
        Ok(Actor {
            user_id: UserId(user_id),
            username,
            is_admin: self.adm.unwrap_or(false),
        })
    }
}

/// Seconds since 1970 by our clock.
pub(super) fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Unpadded (or padded) base64url, as JWTs use.
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        fn enc(b: &[u8]) -> String {
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in b.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, x)| n | u32::from(*x) << (16 - 8 * i));
                for i in 0..=chunk.len() {
                    out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
                }
            }
            out
        }
        format!(
            "{}.{}.sig",
            enc(br#"{"alg":"HS256"}"#),
            enc(payload.as_bytes())
        )
    }

    fn window(payload: &str, now: f64) -> Result<(), AuthError> {
        read(&token(payload))?.check_time(now)
    }

    #[test]
    fn claims_are_read_from_the_payload() {
        let c = read(&token(
            r#"{"sub":"alice","uid":"u1","adm":true,"exp":2000}"#,
        ))
        .expect("ok");
        assert_eq!(c.check_time(1000.0), Ok(()));
        let a = c.into_actor().expect("actor");
        assert_eq!(
            (a.username.as_str(), a.user_id.0.as_str(), a.is_admin),
            ("alice", "u1", true)
        );
    }

    #[test]
    fn exp_is_required_and_in_the_future_without_leeway() {
        for p in [
            r#"{"exp":999}"#,
            r#"{"exp":1000}"#,
            r#"{"exp":-1}"#,
            r#"{"exp":-2000000000}"#,
            r#"{}"#,
            r#"{"exp":null}"#,
            r#"{"exp":"2000"}"#,
        ] {
            assert_eq!(window(p, 1000.0), Err(AuthError::Invalid), "{p}");
        }
        assert_eq!(window(r#"{"exp":1000.5}"#, 1000.0), Ok(()));
    }

    #[test]
    fn nbf_and_iat_may_be_ahead_by_the_leeway_only() {
        assert_eq!(
            window(r#"{"exp":5000,"nbf":1060,"iat":1060}"#, 1000.0),
            Ok(())
        );
        for p in [r#"{"exp":5000,"nbf":1061}"#, r#"{"exp":5000,"iat":1061}"#] {
            assert_eq!(window(p, 1000.0), Err(AuthError::Invalid), "{p}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for t in ["", "a.b", "a.!!.c", "a.b.c.d"] {
            assert_eq!(read(t).err(), Some(AuthError::Invalid), "{t}");
        }
    }
}
