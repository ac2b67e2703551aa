//! The owner API (`/api/share`): handlers, request parsing, and the share view;
//! and the live audit trail (`/api/audit`, `/api/share/{id}/history`).

pub mod audit;
mod audit_follow;
mod body;
mod list;
mod principal;
pub(crate) mod request;
mod resolve;
pub mod share;
pub mod view;

pub use audit_follow::end_on_shutdown as end_follows_on_shutdown;
pub use body::MAX_BODY;
pub use principal::Principal;

use actix_web::web;

/// Routes of the owner API; absent entirely while sharing is disabled (everything 404s).
/// The audit trail: always served, since the log is still there for admins when
/// sharing is switched off.
pub fn audit_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/audit").route(web::get().to(audit::audit)));
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/share")
            .route(web::get().to(share::list))
            .route(web::post().to(share::create)),
    )
    .service(web::resource("/api/share/{id}/history").route(web::get().to(audit::history)))
    .service(
        web::resource("/api/share/{id}")
            .route(web::get().to(share::get))
            .route(web::put().to(share::update))
            .route(web::delete().to(share::delete)),
    );
}
