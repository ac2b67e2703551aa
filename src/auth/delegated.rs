//! Delegated token verification: Navidrome keeps its signing secret to itself, so a token is
//! shown to Navidrome's authenticated `GET /api/keepalive/keepalive` (200 = valid, 401 = not).
//! Once Navidrome accepted it, the claims are read from the payload without a signature check.

use super::cache::{self, VerdictCache};
use super::AuthError;
use crate::domain::Actor;
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Bound on the keepalive call: a hung Navidrome answers 503, it never hangs us.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    adm: Option<bool>,
    #[serde(default)]
    exp: Option<f64>,
}

/// Verifies bearer tokens by asking Navidrome; verdicts are cached by token digest.
pub struct Delegated {
    keepalive_url: String,
    verdicts: VerdictCache<bool>,
}

impl Delegated {
    /// `base_url` is Navidrome's validated base URL (no trailing slash).
    pub fn new(base_url: &str) -> Self {
        Delegated {
            keepalive_url: format!("{base_url}/api/keepalive/keepalive"),
            verdicts: VerdictCache::new(cache::MAX_TTL),
        }
    }

    /// `Invalid` when Navidrome refuses the token (or it is malformed or expired),
    /// `Unavailable` when Navidrome cannot say: never a pass.
    pub async fn verify(&self, http: &awc::Client, token: &str) -> Result<Actor, AuthError> {
        // Malformed and expired tokens are refused without bothering Navidrome.
        let actor = claims(token, now_secs())?;
        let key = cache::key(&["navidrome-bearer", token]);
        match self.verdicts.get(&key) {
            Some(true) => return Ok(actor),
            Some(false) => return Err(AuthError::Invalid),
            None => {}
        }
        let answer = http
            .get(&self.keepalive_url)
            .insert_header(("X-ND-Authorization", format!("Bearer {token}")))
            .timeout(KEEPALIVE_TIMEOUT)
            .send()
            .await;
        // Log lines name the status only: the request carries the token.
        let status = match answer {
            Ok(resp) => resp.status().as_u16(),
            Err(e) => {
                log::warn!("navidrome keepalive failed: {}", describe(&e));
                return Err(AuthError::Unavailable);
            }
        };
        match status {
            200 => {
                self.verdicts.put(key, true);
                Ok(actor)
            }
            401 | 403 => {
                self.verdicts.put(key, false);
                Err(AuthError::Invalid)
            }
            other => {
                log::warn!("navidrome keepalive answered HTTP {other}");
                Err(AuthError::Unavailable)
            }
        }
    }
}

fn describe(e: &awc::error::SendRequestError) -> &'static str {
    use awc::error::SendRequestError as E;
    match e {
        E::Timeout => "timed out",
        E::Connect(_) => "connection failed",
        _ => "request failed",
    }
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The acting user from an unverified token payload; `exp` is required and must be in the future.
fn claims(token: &str, now: f64) -> Result<Actor, AuthError> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Invalid);
    };
    let bytes = base64url(payload).ok_or(AuthError::Invalid)?;
    let p: Payload = serde_json::from_slice(&bytes).map_err(|_| AuthError::Invalid)?;
    if !p.exp.is_some_and(|exp| exp > now) {
        return Err(AuthError::Invalid);
    }
    super::actor_from_claims(p.sub, p.uid, p.adm)
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

    #[test]
    fn claims_are_read_from_the_payload() {
        let a = claims(
            &token(r#"{"sub":"alice","uid":"u1","adm":true,"exp":2000}"#),
            1000.0,
        )
        .expect("ok");
        assert_eq!(
            (a.username.as_str(), a.user_id.0.as_str(), a.is_admin),
            ("alice", "u1", true)
        );
    }

    #[test]
    fn an_expired_or_exp_less_token_is_refused_before_asking() {
        for p in [r#"{"sub":"a","exp":999}"#, r#"{"sub":"a"}"#] {
            assert_eq!(
                claims(&token(p), 1000.0).err(),
                Some(AuthError::Invalid),
                "{p}"
            );
        }
    }

    #[test]
    fn garbage_is_refused() {
        for t in ["", "a.b", "a.!!.c", "a.b.c.d"] {
            assert_eq!(claims(t, 0.0).err(), Some(AuthError::Invalid), "{t}");
        }
    }
}
