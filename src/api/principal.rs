//! The `Principal` extractor: the logged-in user of an owner-API request.

use crate::auth::{AuthError, Verifier};
use crate::domain::Actor;
use crate::error::ApiError;
use crate::startup::AppState;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

pub struct Principal(pub Actor);

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(Principal))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Actor, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(ApiError::internal)?;
    let header = ["X-ND-Authorization", "Authorization"]
        .iter()
        .find_map(|h| req.headers().get(*h))
        .map(|v| v.to_str().unwrap_or(""));
    let token = Verifier::bearer(header).map_err(refusal)?;
    state.verifier.verify(token).map_err(refusal)
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
    }
}
