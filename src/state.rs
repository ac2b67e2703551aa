//! What every handler shares: built once by `startup`, read by every front door.
//! Its own module, so the front doors depend on it and not on the wiring.

use crate::auth::{Delegated, Directory, Verifier};
use crate::config::Settings;
use crate::store::Store;
use crate::{public, subsonic};
use std::sync::Arc;

/// What every handler shares.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub verifier: Verifier,
    /// Public links: access rules, rate limiter, IP recorder, metadata cache.
    pub public: public::Public,
    /// Set with `auth.navidromeUrl`: tokens the local verifier refuses are shown to Navidrome.
    pub delegated: Option<Delegated>,
    /// Usernames -> user ids from verified tokens (ownership across `/api` and `/rest`).
    pub directory: Directory,
    /// Subsonic login verdicts (`/rest`), cached by credential digest.
    pub logins: subsonic::Logins,
}
