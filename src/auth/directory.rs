//! Usernames -> user ids, as verified tokens reported them. A Subsonic login proves a
//! username only; this lets a share created through `/rest` carry the same user id as the
//! owner's tokens, so the owner API shows it to them (docs/subsonic.md, "Ownership").

use crate::domain::{Actor, UserId};
use std::collections::HashMap;
use std::sync::Mutex;

/// Bound on remembered users; past it the map restarts (the share log remains a source).
const MAX_USERS: usize = 100_000;

#[derive(Default)]
pub struct Directory {
    ids: Mutex<HashMap<String, UserId>>,
}

impl Directory {
    /// Remembers the user id of a token-verified actor.
    pub fn learn(&self, actor: &Actor) {
        let Ok(mut ids) = self.ids.lock() else {
            return;
        };
        if ids.get(&actor.username) == Some(&actor.user_id) {
            return;
        }
        if ids.len() >= MAX_USERS {
            ids.clear();
        }
        ids.insert(actor.username.clone(), actor.user_id.clone());
    }

    pub fn user_id(&self, username: &str) -> Option<UserId> {
        self.ids.lock().ok()?.get(username).cloned()
    }
}
