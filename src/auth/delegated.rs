//! Delegated token verification: Navidrome keeps its signing secret to itself, so a token is
//! shown to Navidrome's authenticated `GET /api/keepalive/keepalive` (200 = valid, 401 = not).
//! Once Navidrome accepted it, the claims are read from the payload without a signature check.

use super::cache::{self, VerdictCache};
use super::{claims, AuthError};
use crate::domain::Actor;
use std::time::Duration;

/// Bound on the keepalive call: a hung Navidrome answers 503, it never hangs us.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

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
        // Malformed tokens and tokens outside their time window are refused without
        // bothering Navidrome.
        let claims = claims::read(token)?;
        claims.check_time(claims::now_secs())?;
        let actor = claims.into_actor()?;
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
