//! `sharing:`: whether links are served at all, what they may offer, and the sharing
//! policy (who may share, for how long, with which defaults), which the domain applies
//! to every create and update (`domain::Policy`). Checked once at start, each error
//! naming its key.

use super::env::EnvVar;
use super::{ConfigError, Settings};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Sharing {
    pub enabled: bool,
    pub allow_downloads: bool,
    /// kbps; 0 = unlimited.
    pub max_bitrate: u32,
    /// Usernames that may create shares and links; empty = everyone. Admins always may.
    pub allowed_users: Vec<String>,
    /// Seconds; the expiry of a create that names none. 0 = none.
    pub default_expires_in: u64,
    /// Seconds; no share may expire later than this from now. 0 = no maximum.
    pub max_expires_in: u64,
    /// `downloadable` of a create that does not say.
    pub default_downloadable: bool,
    /// Every share needs a password.
    pub require_password: bool,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            enabled: true,
            allow_downloads: true,
            max_bitrate: 0,
            allowed_users: Vec::new(),
            default_expires_in: 0,
            max_expires_in: 0,
            default_downloadable: false,
            require_password: false,
        }
    }
}

/// The longest expiry the policy may name: ten years, as the owner API's `expiresIn`.
pub const MAX_POLICY_SECONDS: u64 = 10 * 366 * 86_400;
/// Access keys live at least this long: a page opened in the evening still plays in the
/// morning.
pub const MIN_ACCESS_KEY_HOURS: u32 = 12;
/// And at most a year: a key is a bearer proof, and one that never ends is a password.
pub const MAX_ACCESS_KEY_HOURS: u32 = 366 * 24;

impl Sharing {
    /// The server's rules a share command is decided under.
    pub fn policy(&self) -> crate::domain::Policy {
        crate::domain::Policy {
            allow_downloads: self.allow_downloads,
            allowed_users: self.allowed_users.clone(),
            default_expires_in: self.default_expires_in,
            max_expires_in: self.max_expires_in,
            default_downloadable: self.default_downloadable,
            require_password: self.require_password,
            notify_targets: Vec::new(),
        }
    }
}

/// The checks of `sharing:` and of `publicAccess.accessKeyHours` that need more than a type.
pub(super) fn validate(s: &Settings) -> Result<(), ConfigError> {
    let sharing = &s.sharing;
    for (key, value) in [
        ("sharing.defaultExpiresIn", sharing.default_expires_in),
        ("sharing.maxExpiresIn", sharing.max_expires_in),
    ] {
        if value > MAX_POLICY_SECONDS {
            return Err(ConfigError(format!(
                "{key}: at most {MAX_POLICY_SECONDS} seconds (ten years), got {value}"
            )));
        }
    }
    if sharing.max_expires_in > 0 && sharing.default_expires_in > sharing.max_expires_in {
        return Err(ConfigError(format!(
            "sharing.defaultExpiresIn ({}) is beyond sharing.maxExpiresIn ({}): \
             the default expiry must not be longer than the maximum",
            sharing.default_expires_in, sharing.max_expires_in
        )));
    }
    if sharing.allowed_users.iter().any(|u| u.trim().is_empty()) {
        return Err(ConfigError(
            "sharing.allowedUsers: an entry is empty (usernames only)".into(),
        ));
    }
    let hours = s.public_access.access_key_hours;
    if !(MIN_ACCESS_KEY_HOURS..=MAX_ACCESS_KEY_HOURS).contains(&hours) {
        return Err(ConfigError(format!(
            "publicAccess.accessKeyHours: must be {MIN_ACCESS_KEY_HOURS} to {MAX_ACCESS_KEY_HOURS} \
             (hours), got {hours}"
        )));
    }
    Ok(())
}

const BOOL: &str = "true or false";
const SECONDS: &str = "seconds, a whole number (0 = none)";

pub(super) const ALLOWED_USERS: EnvVar = EnvVar {
    name: "SHARELOG_SHARING_ALLOWED_USERS",
    key: "sharing.allowedUsers",
    accepts: "comma-separated usernames (empty = everyone)",
    default: |s| s.sharing.allowed_users.join(","),
    apply: |s, v| {
        s.sharing.allowed_users = v
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(String::from)
            .collect();
        Ok(())
    },
};

pub(super) const DEFAULT_EXPIRES_IN: EnvVar = EnvVar {
    name: "SHARELOG_SHARING_DEFAULT_EXPIRES_IN",
    key: "sharing.defaultExpiresIn",
    accepts: SECONDS,
    default: |s| s.sharing.default_expires_in.to_string(),
    apply: |s, v| parsed(v, SECONDS).map(|n| s.sharing.default_expires_in = n),
};

pub(super) const MAX_EXPIRES_IN: EnvVar = EnvVar {
    name: "SHARELOG_SHARING_MAX_EXPIRES_IN",
    key: "sharing.maxExpiresIn",
    accepts: SECONDS,
    default: |s| s.sharing.max_expires_in.to_string(),
    apply: |s, v| parsed(v, SECONDS).map(|n| s.sharing.max_expires_in = n),
};

pub(super) const DEFAULT_DOWNLOADABLE: EnvVar = EnvVar {
    name: "SHARELOG_SHARING_DEFAULT_DOWNLOADABLE",
    key: "sharing.defaultDownloadable",
    accepts: BOOL,
    default: |s| s.sharing.default_downloadable.to_string(),
    apply: |s, v| parsed(v, BOOL).map(|b| s.sharing.default_downloadable = b),
};

pub(super) const REQUIRE_PASSWORD: EnvVar = EnvVar {
    name: "SHARELOG_SHARING_REQUIRE_PASSWORD",
    key: "sharing.requirePassword",
    accepts: BOOL,
    default: |s| s.sharing.require_password.to_string(),
    apply: |s, v| parsed(v, BOOL).map(|b| s.sharing.require_password = b),
};

fn parsed<T: std::str::FromStr>(v: &str, accepts: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("expected {accepts}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = Settings::from_yaml(yaml)?;
        super::super::env::apply_all(&mut s, |k| env.get(k).cloned())?;
        s.validate()?;
        Ok(s)
    }

    #[test]
    fn the_policy_defaults_to_no_rules_and_keys_of_twelve_hours() {
        let s = load("", &[]).unwrap();
        assert_eq!(s.sharing.policy(), crate::domain::Policy::open(true));
        assert_eq!(s.public_access.access_key_hours, 12);
    }

    #[test]
    fn every_key_is_read_from_yaml_and_from_the_environment() {
        let yaml = "sharing:\n  allowedUsers: [alice, bob]\n  defaultExpiresIn: 3600\n  \
                    maxExpiresIn: 86400\n  defaultDownloadable: true\n  requirePassword: true\n\
                    publicAccess:\n  accessKeyHours: 24\n";
        let s = load(yaml, &[]).unwrap();
        let p = s.sharing.policy();
        assert_eq!(p.allowed_users, vec!["alice", "bob"]);
        assert_eq!((p.default_expires_in, p.max_expires_in), (3600, 86400));
        assert!(p.default_downloadable && p.require_password);
        assert_eq!(s.public_access.access_key_hours, 24);
        let s = load(
            "",
            &[
                ("SHARELOG_SHARING_ALLOWED_USERS", " carol , dave,"),
                ("SHARELOG_SHARING_DEFAULT_EXPIRES_IN", "60"),
                ("SHARELOG_SHARING_MAX_EXPIRES_IN", "120"),
                ("SHARELOG_SHARING_DEFAULT_DOWNLOADABLE", "true"),
                ("SHARELOG_SHARING_REQUIRE_PASSWORD", "true"),
            ],
        )
        .unwrap();
        let p = s.sharing.policy();
        assert_eq!(p.allowed_users, vec!["carol", "dave"]);
        assert_eq!((p.default_expires_in, p.max_expires_in), (60, 120));
        assert!(p.default_downloadable && p.require_password);
    }

    #[test]
    fn a_default_beyond_the_maximum_is_a_start_error_naming_both_keys() {
        let err = load(
            "sharing:\n  defaultExpiresIn: 7200\n  maxExpiresIn: 3600\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("sharing.defaultExpiresIn"), "{err}");
        assert!(err.contains("sharing.maxExpiresIn"), "{err}");
        // No maximum: any default.
        assert!(load("sharing:\n  defaultExpiresIn: 7200\n", &[]).is_ok());
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        for (yaml, key) in [
            (
                "publicAccess:\n  accessKeyHours: 11\n",
                "publicAccess.accessKeyHours",
            ),
            (
                "sharing:\n  maxExpiresIn: 999999999999\n",
                "sharing.maxExpiresIn",
            ),
            ("sharing:\n  allowedUsers: [\"\"]\n", "sharing.allowedUsers"),
            ("sharing:\n  requirePassword: maybe\n", "requirePassword"),
        ] {
            let err = load(yaml, &[]).unwrap_err().to_string();
            assert!(err.contains(key), "{yaml}: {err}");
        }
        let err = load("", &[("SHARELOG_SHARING_MAX_EXPIRES_IN", "-5")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("SHARELOG_SHARING_MAX_EXPIRES_IN"), "{err}");
    }
}
