//! Bearer tokens -> `Principal`. Navidrome's session JWTs: HS256, `sub` = username,
//! `uid` = user id, `adm` = admin, `exp` required.
//!
//! - this file: local HS256 verification with the operator's `auth.jwtSecret`
//! - `claims`: the payload's claims and the time-window rule both paths apply
//! - `delegated`: verification by Navidrome's `/api/keepalive/keepalive`
//! - `cache`: the short verdict cache, keyed by credential digests
//! - `directory`: usernames -> user ids seen in verified tokens

pub mod cache;
mod claims;
mod delegated;
mod directory;

pub use claims::CLOCK_LEEWAY_SECS;
pub use delegated::Delegated;
pub use directory::Directory;

use crate::domain::Actor;
use jwt_simple::prelude::*;

/// Claims beyond the registered ones that Navidrome puts in its tokens.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct NavidromeClaims {
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub adm: Option<bool>,
}

/// Why a token was refused. Never carries the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Invalid,
    /// No way to verify tokens was configured: every request is refused.
    NotConfigured,
    /// The server that verifies credentials did not answer: refused with 503, never a pass.
    Unavailable,
}

/// Verifies tokens with the operator-provided `auth.jwtSecret`.
pub struct Verifier {
    key: Option<HS256Key>,
}

impl Verifier {
    pub fn new(secret: &str) -> Self {
        let key = (!secret.is_empty()).then(|| HS256Key::from_bytes(secret.as_bytes()));
        Verifier { key }
    }

    pub fn is_configured(&self) -> bool {
        self.key.is_some()
    }

    /// Takes the token from `X-ND-Authorization` or `Authorization` header values.
    pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
        let value = header.ok_or(AuthError::Missing)?.trim();
        let (scheme, token) = value.split_once(' ').ok_or(AuthError::Invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Invalid);
        }
        Ok(token.trim())
    }

    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        let key = self.key.as_ref().ok_or(AuthError::NotConfigured)?;
        let options = VerificationOptions {
            // The time window is `claims::check_time`'s: jwt-simple reads a negative `exp` as
            // a date near 2106, and checks `nbf` without a leeway or not at all. Its own `exp`
            // check (no tolerance) only ever refuses what ours refuses too.
            accept_future: true,
            time_tolerance: Some(Duration::from_secs(0)),
            allowed_issuers: None,
            required_signature_type: None,
            ..Default::default()
        };
        // jwt-simple checks the signature, and that the header's `alg` is HS256, so
        // `alg: none` and RS/ES tokens fail here.
        key.verify_token::<NavidromeClaims>(token, Some(options))
            .map_err(|_| AuthError::Invalid)?;
        let claims = claims::read(token)?;
        claims.check_time(claims::now_secs())?;
        claims.into_actor()
    }
}

/// Issues a Navidrome-style token; used by tests and tools that need one.
pub fn issue(secret: &str, actor: &Actor, valid_for: Duration) -> Result<String, String> {
    let key = HS256Key::from_bytes(secret.as_bytes());
    let custom = NavidromeClaims {
        uid: Some(actor.user_id.0.clone()),
        adm: actor.is_admin.then_some(true),
    };
    let claims = Claims::with_custom_claims(custom, valid_for)
        .with_subject(&actor.username)
        .with_issuer("ND");
    key.authenticate(claims).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    const SECRET: &str = "unit-test-secret-of-some-length";

    fn alice() -> Actor {
        Actor {
            user_id: UserId("u1".into()),
            username: "alice".into(),
            is_admin: false,
        }
    }

    #[test]
    fn a_token_signed_with_the_secret_gives_its_claims() {
        let t = issue(
            SECRET,
            &Actor {
                is_admin: true,
                ..alice()
            },
            Duration::from_hours(1),
        )
        .expect("token");
        let actor = Verifier::new(SECRET).verify(&t).expect("valid");
        assert_eq!(
            (
                actor.username.as_str(),
                actor.user_id.0.as_str(),
                actor.is_admin
            ),
            ("alice", "u1", true)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let t = issue(
            "another-secret-of-some-length",
            &alice(),
            Duration::from_hours(1),
        )
        .expect("token");
        assert_eq!(Verifier::new(SECRET).verify(&t), Err(AuthError::Invalid));
    }

    #[test]
    fn an_alg_none_token_is_refused() {
        // {"alg":"none","typ":"JWT"} . {"sub":"alice","uid":"u1","adm":true,"exp":9999999999} . (no signature)
        let t = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsInVpZCI6InUxIiwiYWRtIjp0cnVlLCJleHAiOjk5OTk5OTk5OTl9.";
        assert_eq!(Verifier::new(SECRET).verify(t), Err(AuthError::Invalid));
    }

    #[test]
    fn a_token_without_exp_is_refused() {
        let key = HS256Key::from_bytes(SECRET.as_bytes());
        let claims =
            Claims::with_custom_claims(NavidromeClaims::default(), Duration::from_hours(1))
                .with_subject("alice");
        let claims = JWTClaims {
            expires_at: None,
            ..claims
        };
        let t = key.authenticate(claims).expect("token");
        assert_eq!(Verifier::new(SECRET).verify(&t), Err(AuthError::Invalid));
    }

    #[test]
    fn no_secret_means_every_token_is_refused() {
        let t = issue(SECRET, &alice(), Duration::from_hours(1)).expect("token");
        assert_eq!(Verifier::new("").verify(&t), Err(AuthError::NotConfigured));
    }

    #[test]
    fn the_bearer_scheme_is_required() {
        assert_eq!(Verifier::bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(Verifier::bearer(Some("Basic abc")), Err(AuthError::Invalid));
        assert_eq!(Verifier::bearer(None), Err(AuthError::Missing));
    }
}
