//! Startup with the real binary: bad configuration fails at once naming the key
//! (and never echoing a secret); /livez and /readyz answer as the contract says.
use crate::support;

use std::process::Command;

fn sharelog(config: &str, env: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sharelog.yaml");
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("SHARELOG_DATA_DIR", dir.path().join("data"))
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn invalid_configuration_fails_at_startup_naming_the_key() {
    let cases = [
        ("sharing:\n  enabeld: true\n", "enabeld"),
        ("sharing:\n  maxBitrate: lots\n", "maxBitrate"),
        ("trustedProxies: [\"10.0.0.0/33\"]\n", "trustedProxies"),
        ("publicAccess:\n  deny: [\"not-a-network\"]\n", "deny"),
        ("upstream:\n  url: \"ftp://music\"\n", "upstream.url"),
        ("audit:\n  clientIp: sometimes\n", "clientIp"),
    ];
    for (yaml, key) in cases {
        let out = sharelog(yaml, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{yaml} was accepted");
        assert!(
            stderr.contains(key),
            "{yaml}: the error does not name {key}: {stderr}"
        );
    }
}

#[test]
fn a_wrong_value_in_the_file_reads_like_the_environment_variables_error() {
    // Given values of the wrong type in the file, and the same in the environment
    let cases = [
        (
            "sharing:\n  maxBitrate: lots\n",
            "sharing.maxBitrate (line 2): cannot use \"lots\": expected kbps, a whole number",
            ("SHARELOG_MAX_BITRATE", "lots"),
        ),
        (
            "sharing:\n  enabled: yes please\n",
            "sharing.enabled (line 2): cannot use \"yes please\": expected true or false",
            ("SHARELOG_SHARING_ENABLED", "yes please"),
        ),
        (
            "listen: localhost\n",
            "listen (line 1): invalid socket address syntax; expected IP:PORT",
            ("SHARELOG_LISTEN", "localhost"),
        ),
    ];
    for (yaml, says, (var, value)) in cases {
        let out = sharelog(yaml, &[]);
        let file_err = String::from_utf8_lossy(&out.stderr).into_owned();
        // Then the file's error names the key, its line, the value and what is accepted,
        // in words rather than Rust types, with the configuration error's status
        assert_eq!(out.status.code(), Some(2), "{yaml}: {file_err}");
        assert!(file_err.contains(says), "{yaml}: {file_err}");
        for rust in ["u32", "a boolean", "invalid type", "column"] {
            assert!(!file_err.contains(rust), "{yaml}: {file_err}");
        }
        // As the variable's error does (the same value, the same "cannot use" or reason)
        let out = sharelog("", &[(var, value)]);
        let env_err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{var}: {env_err}");
        assert!(env_err.contains(var), "{env_err}");
    }
}

#[test]
fn a_zero_transfer_limit_names_only_the_key_that_is_zero() {
    let out = sharelog("limits:\n  transfers: 0\n", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("limits.transfers: must be at least 1"),
        "{err}"
    );
    assert!(!err.contains("transfersPerClient"), "{err}");
    let out = sharelog("limits:\n  transfersPerClient: 0\n", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("limits.transfersPerClient: must be at least 1"),
        "{err}"
    );
}

#[test]
fn a_bad_environment_variable_is_named_and_secrets_are_not_echoed() {
    let out = sharelog(
        "",
        &[
            ("SHARELOG_MAX_BITRATE", "fast"),
            ("SHARELOG_JWT_SECRET", "s3cr3t-value-123456"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("SHARELOG_MAX_BITRATE"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-value-123456"), "{stderr}");
}

#[test]
fn livez_and_readyz_answer_and_readyz_reports_the_upstream_without_failing() {
    let app = support::spawn_app(|s| s.upstream.url = "http://127.0.0.1:9".into());
    let live = app.req("GET", "/livez", None, None);
    assert_eq!(live.status(), 200);
    let ready = app.req("GET", "/readyz", None, None);
    assert_eq!(
        ready.status(),
        200,
        "an unreachable upstream never fails readiness"
    );
    assert_eq!(ready.json()["upstream"], "unreachable");
    assert_eq!(ready.json()["store"], "ok");
    // A fresh log has no last event: `null`, as docs/api.md says, not 0.
    assert!(ready.json()["lastSeq"].is_null(), "{}", ready.text());
    let app = app.restart(|_| {});
    assert_eq!(
        app.req("GET", "/readyz", None, None).json()["upstream"],
        "reachable"
    );
}
