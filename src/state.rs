//! What every handler shares: built once by `startup`, read by every front door.
//! Its own module, so the front doors depend on it and not on the wiring; what only
//! one door uses (`public::Public`, `subsonic::Logins`) is app data of its own, so
//! this module imports no front door.

use crate::auth::{Delegated, Directory, Verifier};
use crate::config::Settings;
use crate::store::Store;
use std::sync::Arc;

/// What every handler shares.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub verifier: Verifier,
    /// Set with `auth.navidromeUrl`: tokens the local verifier refuses are shown to Navidrome.
    pub delegated: Option<Delegated>,
    /// Usernames -> user ids from verified tokens (ownership across `/api` and `/rest`).
    pub directory: Directory,
}
