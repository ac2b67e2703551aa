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
        super::sharing::validate(self)?;
        super::notify::validate(self)?;
        self.limits.validate()
    }
}

/// The shortest HS256 key that can sign or verify a token: shorter keys are refused by the
/// JWT library, which would otherwise turn every request into a silent 401.
pub const MIN_JWT_SECRET_BYTES: usize = 12;

/// An absolute http(s) URL with a host and no user name or password; returned without a
/// trailing slash. Errors show the URL with any userinfo replaced by `***`.
pub(super) fn check_url(key: &str, url: &str) -> Result<String, ConfigError> {
    let shown = without_userinfo(url);
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "{key}: must start with http:// or https://, got {shown:?}"
            ))
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(ConfigError(userinfo_refused(key, &shown)));
    }
    if authority.is_empty() || authority.contains(char::is_whitespace) {
        return Err(ConfigError(format!(
            "{key}: not a valid base URL (no host): {shown:?}"
        )));
    }
    if url.contains(['?', '#']) {
        return Err(ConfigError(format!(
            "{key}: a base URL cannot have a query or fragment (paths are appended to it): {shown:?}"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Why a URL may not carry `user:password@`: the password would be in a file or variable
/// that is read as a URL, and in every line that logs the URL.
fn userinfo_refused(key: &str, shown: &str) -> String {
    let instead = match key {
        "upstream.url" => {
            "put the user in upstream.username and the password in upstream.password \
             (SHARELOG_UPSTREAM_USERNAME, SHARELOG_UPSTREAM_PASSWORD): sharelog signs each call \
             with them and never puts the password in a URL or a log line"
        }
        "auth.navidromeUrl" => {
            "it needs no login: each owner token is checked with Navidrome as its owner's own"
        }
        _ => "share links are built from it and shown to everyone",
    };
    format!("{key}: must not hold a user name or password (got {shown:?}); {instead}")
}

/// `url` with the `user:password@` of its authority replaced by `***@`, for messages and logs.
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_string(),
    }
}

impl Settings {
    /// `dataDir` must be a directory, or a path that can be created as one: a file there
    /// (or in its way) would otherwise surface as a storage error about `File exists`.
    pub fn check_data_dir(&self) -> Result<(), ConfigError> {
        let dir = &self.data_dir;
        let fix = "set dataDir (SHARELOG_DATA_DIR) to a directory, or to a path that does not \
                   exist yet (it is created)";
        if dir.is_file() {
            return Err(ConfigError(format!(
                "dataDir: {} is a file, not a directory; {fix}",
                dir.display()
            )));
        }
        // The nearest part of the path that exists must be a directory to create the rest in.
        let nearest = dir.ancestors().find(|a| a.symlink_metadata().is_ok());
        if let Some(part) = nearest.filter(|a| !a.is_dir()) {
            let what = if part.is_file() {
                "is a file, not a directory"
            } else {
                "is not a directory"
            };
            return Err(ConfigError(format!(
                "dataDir: {} cannot be used: {} {what}; {fix}",
                dir.display(),
                part.display()
            )));
        }
        Ok(())
    }
}
