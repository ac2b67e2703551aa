//! A share password in clear never leaves the request that carried it: not in an answer,
//! a log line (at `RUST_LOG=debug`), the audit feed, the history, an export, or any file
//! of the data directory. Only its argon2id hash is kept.

use crate::support;

use serde_json::json;
use support::binary::Binary;
use support::offline::{config_for, sharelog};
use support::{admin, http_send, upstream};

const FIRST: &str = "Zq-Unique-Passw0rd-77";
const SECOND: &str = "Yx-Second-Passw0rd-88";
/// Refused for its length (129 characters), so never hashed either.
const REFUSED: &str = "Refused-password-far-too-long-Refused-password-far-too-long-Refused-password-far-too-long-Refused-password-far-too-long-Refused-p";

#[test]
fn a_clear_password_is_in_no_answer_log_line_feed_export_or_file() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut server = Binary::start(work.path(), &data, &[("RUST_LOG", "debug")]);
    let song = &upstream::shared().album("Alpha").songs[0].id;
    let mut answers = String::new();
    let mut send = |method: &str, path: &str, body: Option<serde_json::Value>| {
        let (status, answer) = server.send(method, path, body.as_ref()).unwrap();
        answers.push_str(&answer.to_string());
        (status, answer)
    };
    let (status, share) = send(
        "POST",
        "/api/share",
        Some(json!({"songs": [song], "password": FIRST, "maxVisits": 5})),
    );
    assert_eq!(status, 201, "{share}");
    let id = share["id"].as_str().unwrap().to_string();
    let (status, _) = send(
        "PUT",
        &format!("/api/share/{id}"),
        Some(json!({"password": SECOND})),
    );
    assert_eq!(status, 200);
    let (status, refused) = send(
        "POST",
        "/api/share",
        Some(json!({"songs": [song], "password": REFUSED})),
    );
    assert_eq!(status, 400, "{refused}");
    let (status, _) = send(
        "POST",
        &format!("/api/share/{id}/links"),
        Some(json!({"label": "Bob"})),
    );
    assert_eq!(status, 201);
    for path in [
        "/api/share".to_string(),
        format!("/api/share/{id}"),
        format!("/api/share/{id}/history"),
        format!("/api/share/{id}/links"),
    ] {
        let (status, _) = send("GET", &path, None);
        assert_eq!(status, 200, "{path}");
    }
    let feed = http_send(
        "GET",
        &format!("http://127.0.0.1:{}/api/audit", server.port),
        &[("X-ND-Authorization", &format!("Bearer {}", admin()))],
        None,
    );
    assert_eq!(feed.status, 200);
    let feed = String::from_utf8(feed.body).unwrap();
    assert!(
        feed.contains("\"password\":\"$argon2id$"),
        "the hash is logged: {feed}"
    );
    assert!(server.sigterm().success());
    let log = server.log();
    assert!(
        log.contains("/api/share"),
        "the log has the requests: {log}"
    );

    let export = sharelog(&config_for(&data), &["audit", "export"]);
    assert!(export.status.success(), "{export:?}");
    let mut files = Vec::new();
    // On PostgreSQL the server needs no data dir, and may have made none.
    let entries: Vec<_> = match std::fs::read_dir(&data) {
        Err(e) if support::postgres::on_postgres() && e.kind() == std::io::ErrorKind::NotFound => {
            Vec::new()
        }
        entries => entries.unwrap().collect(),
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    // On PostgreSQL the log's bytes are in its database, not in the data dir.
    if support::postgres::on_postgres() {
        let url = support::postgres::shared().database_for(&data);
        let dump = support::postgres::shared().dump(&url);
        assert!(dump.contains("sharelog_events"), "{dump}");
        files.push(("the database (pg_dump)".into(), dump.into_bytes()));
    }
    let texts = [
        ("answers".to_string(), answers.into_bytes()),
        ("log".to_string(), log.into_bytes()),
        ("audit feed".to_string(), feed.into_bytes()),
        ("export".to_string(), export.stdout),
    ];
    for (what, bytes) in texts.iter().chain(&files) {
        assert_eq!(REFUSED.chars().count(), 129);
        for secret in [FIRST, SECOND, REFUSED] {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret:?} in {what}");
        }
    }
    let log_file = match support::postgres::on_postgres() {
        true => "(pg_dump)",
        false => "db",
    };
    assert!(
        files.iter().any(|(name, _)| name.ends_with(log_file)),
        "{files:?}"
    );
}
