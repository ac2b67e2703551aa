//! `notify:`: where owners may send notifications (`allowedTargets`, URL prefixes;
//! none = notifications off) and the secret that signs JSON deliveries. An owner picks
//! a URL on the API, so the allow-list is what keeps the server from being made to
//! call an internal address; each entry must name a scheme, a host and the `/` after
//! it, so that `https://ntfy.example/` cannot be stretched to `https://ntfy.example.evil`.

use super::env::EnvVar;
use super::{ConfigError, Settings};
use serde::Deserialize;
use std::fmt;

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Notify {
    /// URL prefixes a notification URL must start with. Empty: notifications are off.
    pub allowed_targets: Vec<String>,
    /// Signs `json` deliveries (HMAC-SHA256, `X-Sharelog-Signature`).
    pub secret: String,
}

// Hand-written so the secret never reaches a log line.
impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("allowed_targets", &self.allowed_targets)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The checks of `notify:` that need more than a type.
pub(super) fn validate(s: &Settings) -> Result<(), ConfigError> {
    for target in &s.notify.allowed_targets {
        let key = "notify.allowedTargets";
        super::validate::check_url(key, target)?;
        let after_scheme = target.split_once("://").map_or("", |(_, rest)| rest);
        if !after_scheme.contains('/') {
            return Err(ConfigError(format!(
                "{key}: {target:?} must end the host with a `/` (e.g. {target}/), \
                 or any URL that begins with it would match, another host's too"
            )));
        }
    }
    if !s.notify.allowed_targets.is_empty() && s.notify.secret.len() < 16 {
        return Err(ConfigError(
            "notify.secret: at least 16 characters while notify.allowedTargets is set: it \
             signs every JSON delivery (SHARELOG_NOTIFY_SECRET)"
                .into(),
        ));
    }
    Ok(())
}

pub(super) const ALLOWED_TARGETS: EnvVar = EnvVar {
    name: "SHARELOG_NOTIFY_ALLOWED_TARGETS",
    key: "notify.allowedTargets",
    accepts: "comma-separated URL prefixes, each ending its host with / (empty = off)",
    default: |s| s.notify.allowed_targets.join(","),
    apply: |s, v| {
        s.notify.allowed_targets = v
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        Ok(())
    },
};

pub(super) const SECRET: EnvVar = EnvVar {
    name: "SHARELOG_NOTIFY_SECRET",
    key: "notify.secret",
    accepts: "a secret of at least 16 characters",
    default: |_| String::new(),
    apply: |s, v| {
        s.notify.secret = v.to_string();
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    fn with(targets: &[&str], secret: &str) -> Settings {
        let mut s = Settings::default();
        s.notify.allowed_targets = targets.iter().map(|t| t.to_string()).collect();
        s.notify.secret = secret.into();
        s
    }

    #[test]
    fn a_target_must_end_its_host_with_a_slash_and_carry_no_password() {
        let secret = "a-secret-of-16-chars";
        assert!(validate(&with(&["https://ntfy.example/"], secret)).is_ok());
        assert!(validate(&with(&["http://hooks.local:8080/sharelog"], secret)).is_ok());
        let e = validate(&with(&["https://ntfy.example"], secret)).unwrap_err();
        assert!(e.0.contains("must end the host with a `/`"), "{}", e.0);
        let e = validate(&with(&["https://u:pw@ntfy.example/"], secret)).unwrap_err();
        assert!(!e.0.contains("pw"), "{}", e.0);
        assert!(validate(&with(&["ftp://x/"], secret)).is_err());
    }

    #[test]
    fn targets_need_a_secret_to_sign_with() {
        let e = validate(&with(&["https://ntfy.example/"], "short")).unwrap_err();
        assert!(e.0.contains("notify.secret"), "{}", e.0);
        assert!(!e.0.contains("short"), "{}", e.0);
        assert!(validate(&with(&[], "")).is_ok());
    }
}
