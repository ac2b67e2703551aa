//! The checks that need more than a type: run once after defaults, the file and the
//! environment are merged, each error naming its key.

use super::{ConfigError, Settings};

impl Settings {
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
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
        let secret = self.auth.jwt_secret.len();
        if secret > 0 && secret < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError(format!(
                "auth.jwtSecret: too short ({secret} bytes): HS256 needs at least \
                 {MIN_JWT_SECRET_BYTES} bytes (96 bits), or leave it empty to turn local tokens off"
            )));
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
        self.store.validate()?;
        self.limits.validate()
    }
}

/// The shortest HS256 key that can sign or verify a token: shorter keys are refused by the
/// JWT library, which would otherwise turn every request into a silent 401.
pub const MIN_JWT_SECRET_BYTES: usize = 12;

/// An absolute http(s) URL with a host; returned without a trailing slash.
pub(super) fn check_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "{key}: must start with http:// or https://, got {url:?}"
            ))
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(ConfigError(format!(
            "{key}: not a valid base URL (no host): {url:?}"
        )));
    }
    if url.contains(['?', '#']) {
        return Err(ConfigError(format!(
            "{key}: a base URL cannot have a query or fragment (paths are appended to it): {url:?}"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}
