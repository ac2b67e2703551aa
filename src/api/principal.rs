//! The `Principal` extractor: the logged-in user of an owner-API request.
//!
//! With `auth.jwtSecret` set the token is checked locally first; a token it does not accept
//! goes to Navidrome when `auth.navidromeUrl` is set (docs/delegated-auth.md).

use crate::auth::{AuthError, Verifier};
use crate::domain::Actor;
use crate::error::ApiError;
use crate::state::AppState;
use crate::upstream::Upstream;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

pub struct Principal(pub Actor);

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await.map(Principal) })
    }
}

async fn authenticate(req: &HttpRequest) -> Result<Actor, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(ApiError::internal)?;
    let header = ["X-ND-Authorization", "Authorization"]
        .iter()
        .find_map(|h| req.headers().get(*h))
        .map(|v| v.to_str().unwrap_or(""));
    let token = Verifier::bearer(header).map_err(refusal)?;
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

fn refusal(e: AuthError) -> ApiError {
    match e {
        AuthError::Missing => ApiError::unauthorized("a bearer token is required"),
        AuthError::Invalid => {
            ApiError::unauthorized("the token is malformed, badly signed or expired")
        }
        AuthError::NotConfigured => {
            ApiError::unauthorized("token verification is not configured on this server")
        }
        AuthError::Unavailable => ApiError::auth_unavailable(),
    }
}
