//! The YAML file's errors, worded like the environment variables' errors: the key, the line,
//! the value that was given and what the key accepts, instead of serde's Rust types
//! (`sharing.maxBitrate (line 2): cannot use "lots": expected kbps, a whole number (0 =
//! unlimited)` rather than `invalid type: string "lots", expected u32`). A secret's value is
//! never quoted.

use super::env::ENV_VARS;

/// What a key accepts, for the keys the YAML file writes differently from the environment
/// (lists), or that have no environment variable. Other keys use the variable's text.
const ACCEPTS: &[(&str, &str)] = &[
    (
        "trustedProxies",
        "a list of CIDRs, e.g. [\"127.0.0.1/32\", \"::1/128\"]",
    ),
    (
        "publicAccess.allow",
        "a list of CIDRs, e.g. [\"10.0.0.0/8\"]",
    ),
    (
        "publicAccess.deny",
        "a list of CIDRs, e.g. [\"10.0.0.0/8\"]",
    ),
    (
        "publicAccess.rateLimit.perMinute",
        "a whole number (0 = no limit)",
    ),
    ("publicAccess.rateLimit.burst", "a whole number"),
    (
        "publicAccess.previewAgents",
        "a list of User-Agent substrings",
    ),
    ("audit.clientIp", "full, truncate, hash or none"),
    ("audit.maxFollowers", "a whole number (0 = no live feed)"),
    (
        "audit.heartbeatSeconds",
        "a whole number of seconds, at least 1",
    ),
    ("audit.followerBuffer", "a whole number, at least 1"),
    (
        "audit.followerTimeoutSeconds",
        "a whole number of seconds, at least 1",
    ),
    (
        "limits.headerTimeout",
        "a whole number of seconds, at least 1",
    ),
    (
        "limits.bodyTimeout",
        "a whole number of seconds, at least 1",
    ),
    (
        "limits.firstByteTimeout",
        "a whole number of seconds, at least 1",
    ),
    (
        "limits.stallTimeout",
        "a whole number of seconds, at least 1",
    ),
    (
        "limits.transferTimeout",
        "a whole number of seconds, at least 1",
    ),
    ("limits.transfersPerClient", "a whole number, at least 1"),
    ("limits.transfers", "a whole number, at least 1"),
    ("limits.ipv6Prefix", "a prefix length from 1 to 128"),
];

/// serde's YAML error, reworded. Errors that name no key (a file that is not YAML at all)
/// keep serde's words, with the line.
pub(super) fn describe(e: &serde_norway::Error) -> String {
    let full = e.to_string();
    let line = e.location().map(|l| l.line());
    // serde_norway ends the message with " at line L column C": said as "(line L)" instead.
    let text = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    let (key, what) = match text.split_once(": ") {
        Some((k, w)) if is_key_path(k) => (Some(k), w),
        _ => (None, text),
    };
    let at = match (key, line) {
        (Some(k), Some(l)) => format!("{k} (line {l})"),
        (Some(k), None) => k.to_string(),
        (None, Some(l)) => format!("line {l}"),
        (None, None) => "the file".to_string(),
    };
    let secret = key.is_some_and(is_secret);
    if let Some((given, expected)) = what
        .strip_prefix("invalid type: ")
        .or_else(|| what.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "))
    {
        let accepts = key
            .and_then(accepts)
            .unwrap_or_else(|| plain_type(expected));
        return format!(
            "{at}: cannot use {}: expected {accepts}",
            shown(given, secret)
        );
    }
    if let Some((variant, expected)) = what
        .strip_prefix("unknown variant ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        let accepts = key.and_then(accepts).unwrap_or(expected);
        return format!(
            "{at}: cannot use {}: expected {accepts}",
            shown(variant, secret)
        );
    }
    match key.and_then(accepts) {
        // A parser of our own or of std said why (a CIDR, a socket address): keep its words.
        Some(accepts) if !what.starts_with("unknown field") && !what.starts_with("missing") => {
            format!("{at}: {what}; expected {accepts}")
        }
        _ => format!("{at}: {what}"),
    }
}

/// `sharing.maxBitrate`, `trustedProxies[0]`: words of letters joined by dots.
fn is_key_path(k: &str) -> bool {
    !k.is_empty()
        && k.split('.').all(|part| {
            let name = part.split('[').next().unwrap_or("");
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// The key without a list index: `trustedProxies[1]` is `trustedProxies`.
fn base_key(k: &str) -> String {
    k.split('.')
        .map(|part| part.split('[').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(".")
}

fn is_secret(key: &str) -> bool {
    ENV_VARS
        .iter()
        .any(|v| v.key == base_key(key) && v.accepts.contains("secret"))
}

fn accepts(key: &str) -> Option<&'static str> {
    let key = base_key(key);
    ACCEPTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, a)| *a)
        .or_else(|| ENV_VARS.iter().find(|v| v.key == key).map(|v| v.accepts))
}

/// serde's description of the given value (`string "lots"`, `integer \`-1\``, `sequence`),
/// as a person would write it, or `that value` for a secret.
fn shown(given: &str, secret: bool) -> String {
    if secret {
        return "that value".into();
    }
    if let Some(q) = given.find('"') {
        return given[q..].to_string();
    }
    if let (Some(a), Some(b)) = (given.find('`'), given.rfind('`')) {
        if a < b {
            return given[a + 1..b].to_string();
        }
    }
    match given {
        "sequence" => "a list".into(),
        "map" => "a mapping".into(),
        "unit value" => "an empty value".into(),
        other => format!("a {other}"),
    }
}

/// serde's expected Rust type, for a key with no description of its own.
fn plain_type(expected: &str) -> &str {
    match expected {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "usize" => "a whole number",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        "path string" => "a path",
        other if other.starts_with("struct ") => "a mapping of keys (docs/configuration.md)",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;

    fn error(yaml: &str) -> String {
        Settings::from_yaml(yaml).unwrap_err().0
    }

    #[test]
    fn a_wrong_type_reads_like_the_environment_variables_error() {
        assert_eq!(
            error("sharing:\n  maxBitrate: lots\n"),
            "sharing.maxBitrate (line 2): cannot use \"lots\": expected kbps, a whole number (0 = unlimited)"
        );
        assert_eq!(
            error("sharing:\n  enabled: yes please\n"),
            "sharing.enabled (line 2): cannot use \"yes please\": expected true or false"
        );
        assert_eq!(
            error("limits:\n  transfers: -1\n"),
            "limits.transfers (line 2): cannot use -1: expected a whole number, at least 1"
        );
        assert_eq!(
            error("trustedProxies: 10.0.0.0/8\n"),
            "trustedProxies (line 1): cannot use \"10.0.0.0/8\": expected a list of CIDRs, e.g. [\"127.0.0.1/32\", \"::1/128\"]"
        );
        assert_eq!(
            error("audit:\n  clientIp: sometimes\n"),
            "audit.clientIp (line 2): cannot use sometimes: expected full, truncate, hash or none"
        );
    }

    #[test]
    fn a_parsers_own_reason_is_kept_with_what_is_accepted() {
        let e = error("listen: localhost\n");
        assert!(
            e.starts_with("listen (line 1): ") && e.contains("expected IP:PORT"),
            "{e}"
        );
    }

    #[test]
    fn a_secrets_value_is_never_quoted() {
        let e = error("upstream:\n  password: [\"918273645546\"]\n");
        assert!(
            e.starts_with("upstream.password (line 2): cannot use that value: expected"),
            "{e}"
        );
        assert_eq!(super::shown("string \"pa55\"", true), "that value");
        assert_eq!(super::shown("string \"pa55\"", false), "\"pa55\"");
    }
}
