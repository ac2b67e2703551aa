//! The owner API (`/api/share`): handlers, request parsing, and the share view;
//! the live audit trail (`/api/audit`, `/api/share/{id}/history`); the caller's own
//! notification settings (`/api/notifications`); the music server search for new shares
//! (`/api/share/search`); and who the caller is (`principal`: a bearer token or the
//! owner's session, `session`).

pub mod audit;
mod audit_follow;
mod body;
pub mod links;
mod list;
pub mod notifications;
pub mod principal;
pub(crate) mod request;
pub mod search;
pub mod session;
pub mod settings;
pub mod share;
mod share_error;
pub mod view;
pub mod visits;

pub use audit_follow::end_on_shutdown as end_follows_on_shutdown;
pub use body::MAX_BODY;
pub use principal::Principal;
