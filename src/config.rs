//! Settings: embedded defaults, then the YAML file (`--config` / `SHARELOG_CONFIG`),
//! then `SHARELOG_*` variables. Validated once at startup; an error names the key.

use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

mod cidr;
mod limits;
pub use cidr::Cidr;
pub use limits::Limits;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub trusted_proxies: Vec<Cidr>,
    pub sharing: Sharing,
    pub upstream: Upstream,
    pub auth: Auth,
    pub public_access: PublicAccess,
    pub audit: Audit,
    pub limits: Limits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Sharing {
    pub enabled: bool,
    pub allow_downloads: bool,
    /// kbps; 0 = unlimited.
    pub max_bitrate: u32,
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PublicAccess {
    pub allow: Vec<Cidr>,
    pub deny: Vec<Cidr>,
    pub rate_limit: RateLimit,
    /// User-Agent substrings (case-insensitive) of link-preview bots: their page loads are
    /// previews, not visits. Replaces the default list when set.
    pub preview_agents: Vec<String>,
}

/// Link unfurlers and crawlers of the common chat apps, social sites and search engines.
pub const DEFAULT_PREVIEW_AGENTS: [&str; 17] = [
    "Slackbot",
    "Discordbot",
    "TelegramBot",
    "WhatsApp",
    "facebookexternalhit",
    "Twitterbot",
    "LinkedInBot",
    "SkypeUriPreview",
    "Mastodon",
    "redditbot",
    "Iframely",
    "Embedly",
    "Googlebot",
    "Bingbot",
    "Applebot",
    "SignalBot",
    "vkShare",
];

impl Default for PublicAccess {
    fn default() -> Self {
        PublicAccess {
            allow: Vec::new(),
            deny: Vec::new(),
            rate_limit: RateLimit::default(),
            preview_agents: DEFAULT_PREVIEW_AGENTS.map(String::from).to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RateLimit {
    /// Requests per minute per client IP; 0 turns the limit off.
    pub per_minute: u32,
    pub burst: u32,
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
            upstream: Upstream::default(),
            auth: Auth::default(),
            public_access: PublicAccess::default(),
            audit: Audit::default(),
            limits: Limits::default(),
        }
    }
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            enabled: true,
            allow_downloads: true,
            max_bitrate: 0,
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

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            per_minute: 300,
            burst: 60,
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
        s.apply_env(env)?;
        s.validate()?;
        Ok(s)
    }

    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Settings::default());
        }
        // serde_norway reports the dotted path of the bad key (e.g. `sharing.maxBitrate: invalid type`).
        serde_norway::from_str(text).map_err(|e| ConfigError(e.to_string()))
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(var: &str, v: &str) -> Result<T, ConfigError> {
            v.trim()
                .parse()
                .map_err(|_| ConfigError(format!("{var}: cannot parse {v:?}")))
        }
        fn cidrs(var: &str, v: &str) -> Result<Vec<Cidr>, ConfigError> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Cidr::parse(s).map_err(|e| ConfigError(format!("{var}: {e}"))))
                .collect()
        }
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        if let Some(v) = get("SHARELOG_LISTEN") {
            self.listen = parse("SHARELOG_LISTEN", &v)?;
        }
        if let Some(v) = get("SHARELOG_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("SHARELOG_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("SHARELOG_TRUSTED_PROXIES") {
            self.trusted_proxies = cidrs("SHARELOG_TRUSTED_PROXIES", &v)?;
        }
        if let Some(v) = get("SHARELOG_SHARING_ENABLED") {
            self.sharing.enabled = parse("SHARELOG_SHARING_ENABLED", &v)?;
        }
        if let Some(v) = get("SHARELOG_ALLOW_DOWNLOADS") {
            self.sharing.allow_downloads = parse("SHARELOG_ALLOW_DOWNLOADS", &v)?;
        }
        if let Some(v) = get("SHARELOG_MAX_BITRATE") {
            self.sharing.max_bitrate = parse("SHARELOG_MAX_BITRATE", &v)?;
        }
        if let Some(v) = get("SHARELOG_UPSTREAM_URL") {
            self.upstream.url = v;
        }
        if let Some(v) = get("SHARELOG_UPSTREAM_USERNAME") {
            self.upstream.username = v;
        }
        if let Some(v) = get("SHARELOG_UPSTREAM_PASSWORD") {
            self.upstream.password = v;
        }
        if let Some(v) = get("SHARELOG_UPSTREAM_AUTH") {
            self.upstream.auth = match v.as_str() {
                "token" => UpstreamAuth::Token,
                "password" => UpstreamAuth::Password,
                _ => {
                    return Err(ConfigError(format!(
                        "SHARELOG_UPSTREAM_AUTH: expected token or password, got {v:?}"
                    )))
                }
            };
        }
        if let Some(v) = get("SHARELOG_JWT_SECRET") {
            self.auth.jwt_secret = v;
        }
        if let Some(v) = get("SHARELOG_NAVIDROME_URL") {
            self.auth.navidrome_url = v;
        }
        Ok(())
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        self.public_url = check_url("publicUrl", &self.public_url)?;
        self.upstream.url = check_url("upstream.url", &self.upstream.url)?;
        if !self.auth.navidrome_url.is_empty() {
            self.auth.navidrome_url = check_url("auth.navidromeUrl", &self.auth.navidrome_url)?;
        }
        let audit = &self.audit;
        for (key, value) in [
            ("audit.heartbeatSeconds", audit.heartbeat_seconds),
            ("audit.followerBuffer", audit.follower_buffer as u64),
            (
                "audit.followerTimeoutSeconds",
                audit.follower_timeout_seconds,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("{key}: must be at least 1")));
            }
        }
        let rl = self.public_access.rate_limit;
        if rl.per_minute > 0 && rl.burst == 0 {
            return Err(ConfigError(
                "publicAccess.rateLimit.burst: must be at least 1 when perMinute is set".into(),
            ));
        }
        if self
            .public_access
            .preview_agents
            .iter()
            .any(|a| a.trim().is_empty())
        {
            return Err(ConfigError(
                "publicAccess.previewAgents: an entry is empty (it would match every client)"
                    .into(),
            ));
        }
        self.limits.validate()
    }

    /// Whether `ip` is a reverse proxy whose `X-Forwarded-For` we believe.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}

/// An absolute http(s) URL with a host; returned without a trailing slash.
fn check_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "{key}: must start with http:// or https://, got {url:?}"
            ))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) || url.contains(['?', '#']) {
        return Err(ConfigError(format!("{key}: not a valid base URL: {url:?}")));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests;
