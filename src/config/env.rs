//! The `SHARELOG_*` environment variables: one table, read by `Settings::load`,
//! listed by `sharelog serve --help`, and used to warn about misspelled names.

use super::{Cidr, ConfigError, Settings, UpstreamAuth};
use std::path::PathBuf;

/// One environment variable and the key it overrides.
pub struct EnvVar {
    pub name: &'static str,
    /// The YAML key it overrides.
    pub key: &'static str,
    /// What it accepts, for `--help` and error messages.
    pub accepts: &'static str,
    /// Shows the embedded default (never a secret: secrets default to empty).
    pub default: fn(&Settings) -> String,
    /// Parses a non-empty value into the settings; the error says what is accepted.
    pub apply: fn(&mut Settings, &str) -> Result<(), String>,
}

/// Names that are not settings but are read before the settings are: the config file.
pub const CONFIG_VAR: &str = "SHARELOG_CONFIG";

const BOOL: &str = "true or false";
const COUNT: &str = "a whole number from 0 to 4294967295";

pub const ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: "SHARELOG_LISTEN",
        key: "listen",
        accepts: "IP:PORT, e.g. 127.0.0.1:4534 or [::]:4534",
        default: |s| s.listen.to_string(),
        apply: |s, v| parsed(v, "IP:PORT, e.g. 127.0.0.1:4534").map(|a| s.listen = a),
    },
    EnvVar {
        name: "SHARELOG_DATA_DIR",
        key: "dataDir",
        accepts: "a directory path",
        default: |s| s.data_dir.display().to_string(),
        apply: |s, v| {
            s.data_dir = PathBuf::from(v);
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_PUBLIC_URL",
        key: "publicUrl",
        accepts: "an http(s) base URL without query or fragment",
        default: |s| s.public_url.clone(),
        apply: |s, v| {
            s.public_url = v.to_string();
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_TRUSTED_PROXIES",
        key: "trustedProxies",
        accepts: "comma-separated CIDRs, e.g. 10.0.0.0/8,::1",
        default: |s| cidr_list(&s.trusted_proxies),
        apply: |s, v| {
            s.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(Cidr::parse)
                .collect::<Result<_, _>>()?;
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_SHARING_ENABLED",
        key: "sharing.enabled",
        accepts: BOOL,
        default: |s| s.sharing.enabled.to_string(),
        apply: |s, v| parsed(v, BOOL).map(|b| s.sharing.enabled = b),
    },
    EnvVar {
        name: "SHARELOG_ALLOW_DOWNLOADS",
        key: "sharing.allowDownloads",
        accepts: BOOL,
        default: |s| s.sharing.allow_downloads.to_string(),
        apply: |s, v| parsed(v, BOOL).map(|b| s.sharing.allow_downloads = b),
    },
    super::sharing::ALLOWED_USERS,
    super::sharing::DEFAULT_EXPIRES_IN,
    super::sharing::MAX_EXPIRES_IN,
    super::sharing::DEFAULT_DOWNLOADABLE,
    super::sharing::REQUIRE_PASSWORD,
    super::notify::ALLOWED_TARGETS,
    super::notify::SECRET,
    EnvVar {
        name: "SHARELOG_MAX_BITRATE",
        key: "sharing.maxBitrate",
        accepts: "kbps, a whole number (0 = unlimited)",
        default: |s| s.sharing.max_bitrate.to_string(),
        apply: |s, v| parsed(v, COUNT).map(|n| s.sharing.max_bitrate = n),
    },
    EnvVar {
        name: "SHARELOG_UPSTREAM_URL",
        key: "upstream.url",
        accepts: "the music server's http(s) base URL",
        default: |s| s.upstream.url.clone(),
        apply: |s, v| {
            s.upstream.url = v.to_string();
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_UPSTREAM_USERNAME",
        key: "upstream.username",
        accepts: "the music-server user sharelog acts as",
        default: |s| s.upstream.username.clone(),
        apply: |s, v| {
            s.upstream.username = v.to_string();
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_UPSTREAM_PASSWORD",
        key: "upstream.password",
        accepts: "that user's password (secret)",
        default: |_| String::new(),
        apply: |s, v| {
            s.upstream.password = v.to_string();
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_UPSTREAM_AUTH",
        key: "upstream.auth",
        accepts: "token or password",
        default: |s| upstream_auth_name(s.upstream.auth).to_string(),
        apply: |s, v| {
            s.upstream.auth = match v {
                "token" => UpstreamAuth::Token,
                "password" => UpstreamAuth::Password,
                _ => return Err("expected token or password".into()),
            };
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_JWT_SECRET",
        key: "auth.jwtSecret",
        accepts: "at least 12 bytes (secret); empty = off",
        default: |_| String::new(),
        apply: |s, v| {
            s.auth.jwt_secret = v.to_string();
            Ok(())
        },
    },
    EnvVar {
        name: "SHARELOG_NAVIDROME_URL",
        key: "auth.navidromeUrl",
        accepts: "Navidrome's http(s) base URL; empty = off",
        default: |s| s.auth.navidrome_url.clone(),
        apply: |s, v| {
            s.auth.navidrome_url = v.to_string();
            Ok(())
        },
    },
    super::store::ENGINE_VAR,
    super::store::POSTGRES_URL_VAR,
];

/// Overlays every set, non-empty variable; the error names the variable and what it accepts.
pub(super) fn apply_all(
    settings: &mut Settings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for var in ENV_VARS {
        let Some(value) = env(var.name).filter(|v| !v.is_empty()) else {
            continue;
        };
        (var.apply)(settings, value.trim()).map_err(|why| {
            // Never quote a secret's value.
            let shown = if var.accepts.contains("secret") {
                String::new()
            } else {
                format!(" {value:?}")
            };
            ConfigError(format!("{}: cannot use{shown}: {why}", var.name))
        })?;
    }
    Ok(())
}

/// A sentence for each `SHARELOG_*` name in `names` that sharelog does not read
/// (a typo would otherwise be silently ignored), with the closest real name.
pub fn unknown_vars(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let known = || ENV_VARS.iter().map(|v| v.name).chain([CONFIG_VAR]);
    names
        .into_iter()
        .filter(|n| n.starts_with("SHARELOG_") && !known().any(|k| k == n))
        .map(|n| {
            let closest = known()
                .map(|k| (edit_distance(&n, k), k))
                .min()
                .filter(|(d, _)| *d <= 3);
            match closest {
                Some((_, k)) => format!("{n} is not a sharelog setting and is ignored (did you mean {k}?)"),
                None => format!("{n} is not a sharelog setting and is ignored (`sharelog serve --help` lists them)"),
            }
        })
        .collect()
}

/// The environment section of `sharelog serve --help`: every variable, its key and default.
pub fn help_text() -> String {
    let defaults = Settings::default();
    let mut out = String::from(
        "Environment variables (each overrides the config file's key; an empty value is ignored):\n",
    );
    out.push_str(&format!(
        "  {CONFIG_VAR:<28} the YAML config file, like --config\n"
    ));
    for var in ENV_VARS {
        let default = (var.default)(&defaults);
        let default = if default.is_empty() {
            "\"\"".into()
        } else {
            default
        };
        out.push_str(&format!(
            "  {:<28} {}: {} [default: {default}]\n",
            var.name, var.key, var.accepts
        ));
    }
    out.push_str(
        "  RUST_LOG                     log filter, e.g. info or sharelog=debug [default: info]\n",
    );
    out
}

fn parsed<T: std::str::FromStr>(v: &str, accepts: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("expected {accepts}"))
}

fn cidr_list(cidrs: &[Cidr]) -> String {
    cidrs
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn upstream_auth_name(auth: UpstreamAuth) -> &'static str {
    match auth {
        UpstreamAuth::Token => "token",
        UpstreamAuth::Password => "password",
    }
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
