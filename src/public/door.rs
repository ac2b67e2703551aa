//! What a public handler works with: the state every front door shares, plus the
//! public door's own parts (`Public`). They are two pieces of app data, so the shared
//! state does not have to know this door (and `state` imports no front door).

use super::Public;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};
use std::ops::Deref;

/// The shared state (through `Deref`) and the public door's parts (`parts`). A clone is two
/// reference counts: a running transfer keeps one to take the access decision again.
#[derive(Clone)]
pub struct Door {
    app: web::Data<AppState>,
    pub parts: web::Data<Public>,
}

impl Deref for Door {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.app
    }
}

impl FromRequest for Door {
    type Error = ApiError;
    type Future = Ready<Result<Door, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let app = req.app_data::<web::Data<AppState>>().cloned();
        let parts = req.app_data::<web::Data<Public>>().cloned();
        ready(match (app, parts) {
            (Some(app), Some(parts)) => Ok(Door { app, parts }),
            // Only a wiring mistake in `startup` gets here, never a request.
            _ => {
                log::error!("the public door's state is not registered");
                Err(ApiError::internal())
            }
        })
    }
}
