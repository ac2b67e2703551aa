//! The owner's page, `/share/_manage` (docs/owner-page.md): sign-in, then the owner's shares
//! with their visits, recipient links and controls.
//!
//! The page is a shell: its script reads and changes shares through the owner API (`/api`),
//! with the session this module signs the owner in to (`api::session`, checked by
//! `api::principal` like a bearer token). Nothing here decides who a caller is or what they
//! may see; it signs in, signs out, and serves the page and its files.
//!
//! - `page`: `GET /share/_manage`: the page when signed in, else the sign-in form
//! - `sign_in`: `POST /share/_manage/sign-in` (a password), `.../sign-in/token` (a Navidrome
//!   session) and `POST /share/_manage/sign-out`
//! - `throttle`: failed sign-ins counted per user name and client
//! - `headers`: the pages' CSP, framing, caching and robots headers
//! - `assets`: the pages' CSS and JS under content-hashed names

pub(crate) mod assets;
mod headers;
pub(crate) mod page;
pub(crate) mod sign_in;
mod throttle;

/// The handlers `routes.rs` sends `/share/_manage` paths to.
pub(crate) mod handlers {
    pub(crate) use super::{assets, page, sign_in};
}

/// What the owner's page keeps between requests (app data of its own).
#[derive(Default)]
pub struct Manage {
    throttle: throttle::Throttle,
}

/// Where the page lives, under `publicUrl`'s path.
pub const PAGE_PATH: &str = "/share/_manage";
