//! The owner API (`/api/share`): handlers, request parsing, and the share view;
//! and the live audit trail (`/api/audit`, `/api/share/{id}/history`).

pub mod audit;
mod audit_follow;
mod body;
pub mod links;
mod list;
mod principal;
pub(crate) mod request;
pub mod settings;
pub mod share;
mod share_error;
pub mod view;
pub mod visits;

pub use audit_follow::end_on_shutdown as end_follows_on_shutdown;
pub use body::MAX_BODY;
pub use principal::Principal;
