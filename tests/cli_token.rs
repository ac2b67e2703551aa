//! `sharelog token`: a local owner token for the configured secret, accepted by a
//! running server with that secret; refused, with a reason, when none is configured.
use crate::support;

use jwt_simple::prelude::*;
use std::process::{Command, Output};
use support::{spawn_app, SECRET};

fn token(args: &[&str], secret: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .arg("token")
        .args(args)
        .env("SHARELOG_JWT_SECRET", secret)
        .output()
        .unwrap()
}

fn minted(args: &[&str]) -> String {
    let out = token(args, SECRET);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "only the token on stdout: {text}");
    text.trim().to_string()
}

#[test]
fn without_a_secret_the_token_command_refuses_with_exit_2() {
    let out = token(&["--user", "alice"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("auth.jwtSecret") && err.contains("SHARELOG_JWT_SECRET"),
        "{err}"
    );
}

#[test]
fn a_minted_token_carries_navidromes_claims() {
    let t = minted(&["--user", "alice", "--admin"]);
    let key = HS256Key::from_bytes(SECRET.as_bytes());
    let claims = key
        .verify_token::<serde_json::Map<String, serde_json::Value>>(&t, None)
        .unwrap();
    assert_eq!(claims.subject.as_deref(), Some("alice"));
    assert_eq!(claims.custom["uid"], "alice");
    assert_eq!(claims.custom["adm"], true);
    let (iat, exp) = (claims.issued_at.unwrap(), claims.expires_at.unwrap());
    assert_eq!(exp.as_secs() - iat.as_secs(), 24 * 3600);
    // A signature with another secret does not verify
    assert!(HS256Key::from_bytes(b"another-secret-entirely")
        .verify_token::<NoCustomClaims>(&t, None)
        .is_err());
}

#[test]
fn a_running_server_accepts_minted_tokens_and_honours_the_admin_flag() {
    let app = spawn_app(|_| {});
    let user = minted(&["--user", "carol", "--uid", "u-carol", "--hours", "1"]);
    let admin = minted(&["--user", "root", "--admin"]);
    // The owner API answers both; only the admin reads the audit trail
    assert_eq!(
        app.req("GET", "/api/share", Some(&user), None).status(),
        200
    );
    assert_eq!(
        app.req("GET", "/api/share", Some(&admin), None).status(),
        200
    );
    assert_eq!(
        app.req("GET", "/api/audit", Some(&user), None).status(),
        403
    );
    assert_eq!(
        app.req("GET", "/api/audit", Some(&admin), None).status(),
        200
    );
}
