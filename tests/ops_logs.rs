//! The real binary's log lines at `RUST_LOG=debug` after real traffic: one line per
//! request with the route pattern, and never a token, the JWT secret, the upstream
//! password (plain or `enc:` hex), a share id, or the raw visitor address.

use crate::support;

use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

#[test]
fn logs_carry_route_patterns_and_no_secrets_ids_or_visitor_addresses() {
    let up = upstream::shared();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = tmp.path().join("sharelog.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\ndataDir: {}\npublicUrl: {PUBLIC_URL}\nauth:\n  jwtSecret: {SECRET}\n\
             upstream:\n  url: {}\n  username: {}\n  password: {}\n  auth: password\n\
             trustedProxies: [\"127.0.0.1/32\"]\naudit:\n  clientIp: hash\n",
            tmp.path().join("data").display(),
            up.url,
            up.admin.username,
            up.admin.password
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Given traffic on every kind of route, from a visitor behind the trusted proxy
    let token = alice();
    let auth = format!("Bearer {token}");
    let body = serde_json::to_vec(&json!({"albums": [up.album("Alpha").id]})).unwrap();
    let created = http_send(
        "POST",
        &format!("{url}/api/share"),
        &[("X-ND-Authorization", &auth)],
        Some(&body),
    );
    assert_eq!(created.status, 201);
    let share: serde_json::Value = serde_json::from_slice(&created.body).unwrap();
    let id = share["id"].as_str().unwrap().to_string();
    let visitor = "203.0.113.77";
    let page = http_send(
        "GET",
        &format!("{url}/share/{id}?player=web"),
        &[("X-Forwarded-For", visitor)],
        None,
    );
    assert_eq!(page.status, 200);
    let track = &up.album("Alpha").songs[0].id;
    let stream = http_send(
        "GET",
        &format!("{url}/share/{id}/stream/{track}"),
        &[("X-Forwarded-For", visitor)],
        None,
    );
    assert_eq!(stream.status, 200);
    let bad = http_send(
        "GET",
        &format!("{url}/api/share"),
        &[("X-ND-Authorization", "Bearer not.a.token")],
        None,
    );
    assert_eq!(bad.status, 401);

    // When the server stops
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let logs = String::from_utf8_lossy(&out.stderr).into_owned()
        + String::from_utf8_lossy(&out.stdout).as_ref();

    // Then its log has a line per request by route pattern, and nothing it must not have
    assert!(logs.contains("POST /api/share 201"), "{logs}");
    assert!(logs.contains("GET /share/{id} 200"), "{logs}");
    assert!(
        logs.contains("GET /share/{id}/stream/{track} 200"),
        "{logs}"
    );
    let enc_password: String = up
        .admin
        .password
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    for secret in [
        token.as_str(),
        SECRET,
        up.admin.password.as_str(),
        enc_password.as_str(),
        id.as_str(),
        visitor,
    ] {
        assert!(
            !logs.contains(secret),
            "the log contains {secret:?}:\n{logs}"
        );
    }
}
