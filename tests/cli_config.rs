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
