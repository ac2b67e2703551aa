//! Who the caller of the owner API is: the one place that decides it, for every `/api` route
//! (the `Principal` extractor) and for the owner's page (`caller`).
//!
//! Two proofs are accepted:
//! - a bearer token (`X-ND-Authorization` or `Authorization`). With `auth.jwtSecret` set the
//!   token is checked locally first; a token it does not accept goes to Navidrome when
//!   `auth.navidromeUrl` is set (docs/delegated-auth.md);
//! - the owner's session cookie (`session`), from the owner's page. A call that changes state
//!   needs the session's CSRF token too, and must not come from another site's page.
//!
//! A bearer token wins when both are sent: only a program sets that header, and a page on
//! another site cannot.

use super::session::{self, Session, Sessions};
use crate::auth::{AuthError, Verifier};
use crate::domain::Actor;
use crate::error::ApiError;
use crate::state::AppState;
use crate::subsonic::SubsonicUser;
use crate::upstream::Upstream;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

pub struct Principal(pub Actor);

/// A caller and how they proved it.
pub struct Caller {
    pub actor: Actor,
    /// The session, when the proof was the session cookie (its CSRF token for the page).
    pub session: Option<Session>,
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let csrf = session::csrf_header(&req).map(String::from);
            caller(&req, csrf.as_deref())
                .await
                .map(|c| Principal(c.actor))
        })
    }
}

/// The caller of `req`: a bearer token, else the session cookie. `csrf` is the CSRF token the
/// request sent (its header, or the page's form field), checked when the request changes state.
pub async fn caller(req: &HttpRequest, csrf: Option<&str>) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(ApiError::internal)?;
    if bearer_header(req).is_none() {
        if let Some(cookie) = session::cookie(req) {
            return session_caller(req, state, &cookie, csrf);
        }
    }
    let actor = bearer(req).await?;
    Ok(Caller {
        actor,
        session: None,
    })
}

/// The actor a bearer token proves (also the owner page's sign-in with a Navidrome session).
pub async fn bearer(req: &HttpRequest) -> Result<Actor, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(ApiError::internal)?;
    let token = Verifier::bearer(bearer_header(req)).map_err(refusal)?;
    let local = state.verifier.verify(token);
    let actor = match (local, &state.delegated) {
        (Ok(actor), _) => actor,
        (Err(AuthError::Invalid | AuthError::NotConfigured), Some(delegated)) => {
            let upstream = req
                .app_data::<web::Data<Upstream>>()
                .ok_or_else(ApiError::internal)?;
            delegated
                .verify(upstream.http(), token)
                .await
                .map_err(refusal)?
        }
        (Err(e), _) => return Err(refusal(e)),
    };
    state.directory.learn(&actor);
    Ok(actor)
}

/// The bearer credential's header value, when the request carries one.
pub fn bearer_header(req: &HttpRequest) -> Option<&str> {
    ["X-ND-Authorization", "Authorization"]
        .iter()
        .find_map(|h| req.headers().get(*h))
        .map(|v| v.to_str().unwrap_or(""))
}

/// A session cookie's caller; for a change, only with its CSRF token and from our origin.
fn session_caller(
    req: &HttpRequest,
    state: &AppState,
    cookie: &str,
    csrf: Option<&str>,
) -> Result<Caller, ApiError> {
    let sessions = req
        .app_data::<web::Data<Sessions>>()
        .ok_or_else(ApiError::internal)?;
    let session = sessions
        .verify(cookie, session::now_secs())
        .ok_or_else(|| {
            ApiError::unauthorized("the session has ended or is not valid; sign in again")
        })?;
    if session::changes_state(req.method()) {
        session::same_origin(req, &state.settings)?;
        session::check_csrf(&session, csrf)?;
    }
    let actor = match &session.user_id {
        Some(user_id) => {
            let actor = Actor {
                user_id: user_id.clone(),
                username: session.username.clone(),
                is_admin: session.is_admin,
            };
            // Proved by a verified token at sign-in, like a bearer token's (after a restart too).
            state.directory.learn(&actor);
            actor
        }
        // A password sign-in proved the user name: the Subsonic door's rule finds the id.
        None => crate::subsonic::actor(
            state,
            &SubsonicUser {
                username: session.username.clone(),
                is_admin: session.is_admin,
            },
        ),
    };
    Ok(Caller {
        actor,
        session: Some(session),
    })
}

fn refusal(e: AuthError) -> ApiError {
    match e {
        AuthError::Missing => {
            ApiError::unauthorized("a bearer token (or the owner page's session) is required")
        }
        AuthError::Invalid => {
            ApiError::unauthorized("the token is malformed, badly signed or expired")
        }
        AuthError::NotConfigured => {
            ApiError::unauthorized("token verification is not configured on this server")
        }
        AuthError::Unavailable => ApiError::auth_unavailable(),
    }
}
