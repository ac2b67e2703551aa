//! Settings: embedded defaults, then the YAML file (`--config` / `SHARELOG_CONFIG`),
//! then `SHARELOG_*` variables. Validated once at startup; an error names the key.

use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

mod cidr;
mod env;
mod limits;
mod notify;
mod public_access;
mod sharing;
mod store;
mod validate;
mod yaml_error;
pub use cidr::Cidr;
pub use env::{help_text as env_help, unknown_vars as unknown_env_vars, ENV_VARS};
pub use limits::Limits;
pub use notify::Notify;
pub use public_access::{PublicAccess, RateLimit, DEFAULT_PREVIEW_AGENTS};
pub use sharing::Sharing;
pub use store::{Engine, StoreConfig};
pub use validate::{without_userinfo, MIN_JWT_SECRET_BYTES};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub trusted_proxies: Vec<Cidr>,
    pub sharing: Sharing,
    pub notify: Notify,
    pub upstream: Upstream,
    pub auth: Auth,
    pub public_access: PublicAccess,
    pub audit: Audit,
    pub limits: Limits,
    pub store: StoreConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamAuth {
    /// `u`, `t` = md5(password + salt), `s` = salt (Navidrome's default).
    Token,
    /// `u`, `p=enc:HEX` (servers without token auth, e.g. supysonic).
    Password,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Upstream {
    pub url: String,
    pub username: String,
    pub password: String,
    pub auth: UpstreamAuth,
}

// Hand-written so the password never reaches a log line.
impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("auth", &self.auth)
            .finish()
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Auth {
    pub jwt_secret: String,
    /// Navidrome's base URL: tokens are verified by its `/api/keepalive/keepalive`. Empty = off.
    pub navidrome_url: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = if self.jwt_secret.is_empty() {
            "<unset>"
        } else {
            "<redacted>"
        };
        f.debug_struct("Auth")
            .field("jwt_secret", &set)
            .field("navidrome_url", &self.navidrome_url)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientIpMode {
    Full,
    Truncate,
    Hash,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Audit {
    pub client_ip: ClientIpMode,
    /// Most clients following the audit feed at once (`follow=true`); 0 turns following off.
    pub max_followers: usize,
    /// An empty line goes to a follower after this long without anything else.
    pub heartbeat_seconds: u64,
    /// Durable batches queued for one follower; past it the follower reads the log back.
    pub follower_buffer: usize,
    /// A follower that reads nothing for this long is disconnected.
    pub follower_timeout_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 4534)),
            data_dir: PathBuf::from("./data"),
            public_url: "http://127.0.0.1:4534".into(),
            trusted_proxies: vec![],
            sharing: Sharing::default(),
            notify: Notify::default(),
            upstream: Upstream::default(),
            auth: Auth::default(),
            public_access: PublicAccess::default(),
            audit: Audit::default(),
            limits: Limits::default(),
            store: StoreConfig::default(),
        }
    }
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            url: "http://127.0.0.1:4533".into(),
            username: String::new(),
            password: String::new(),
            auth: UpstreamAuth::Token,
        }
    }
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            client_ip: ClientIpMode::Hash,
            max_followers: 8,
            heartbeat_seconds: 15,
            follower_buffer: 64,
            follower_timeout_seconds: 60,
        }
    }
}

/// A configuration error, naming the key (or variable) at fault. Never holds a secret's value.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// The server's rules a share command is decided under.
    pub fn policy(&self) -> crate::domain::Policy {
        crate::domain::Policy {
            notify_targets: self.notify.allowed_targets.clone(),
            ..self.sharing.policy()
        }
    }

    /// Where the event log is kept (`store.engine`).
    pub fn store_location(&self) -> crate::store::Location {
        use crate::store::{DatabaseUrl, Location};
        match self.store.engine {
            Engine::Sled => Location::Sled(self.data_dir.clone()),
            Engine::Postgres => Location::Postgres(DatabaseUrl::new(&self.store.postgres_url)),
        }
    }

    /// Defaults, overlaid with `file` (if any), then with `SHARELOG_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut s = match file {
            None => Settings::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
                Self::from_yaml(&text)?
            }
        };
        env::apply_all(&mut s, env)?;
        s.validate()?;
        Ok(s)
    }

    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Settings::default());
        }
        // serde_norway names the dotted path of the bad key; reworded as the env vars' errors.
        serde_norway::from_str(text).map_err(|e| ConfigError(yaml_error::describe(&e)))
    }

    /// Whether `ip` is a reverse proxy whose `X-Forwarded-For` we believe.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests;
