//! The webhook receiver that docs/operations.md ("Notifications") offers operators, run as
//! written (its ```python block, by the real python3) against real deliveries of a real
//! sharelog: it accepts them (their signature checks out with the secret it is given),
//! prints each once, and refuses a forged one.
use crate::notify_delivery::{open, share};
use crate::support;

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};
use support::upstream::http_send;
use support::*;

const NOTIFY_SECRET: &str = "the secret the receiver is given";

/// The one ```python block of docs/operations.md's "Notifications" section.
fn documented_receiver() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let section = doc.split("\n## Notifications\n").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let blocks: Vec<&str> = section
        .split("```python\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 1, "one python receiver in the section");
    blocks[0].to_string()
}

/// The receiver's process, killed when dropped, and its printed lines.
struct Python {
    child: Child,
    lines: Receiver<String>,
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Python {
    fn start(script: &Path, port: u16) -> Python {
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .env("SHARELOG_NOTIFY_SECRET", NOTIFY_SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 (a tool the tests need, docs/testing.md)");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the receiver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Python { child, lines }
    }

    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the receiver printed a notification within 30 s")
    }
}

#[test]
fn the_documented_python_receiver_verifies_real_deliveries_and_refuses_a_forged_one() {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("receiver.py");
    std::fs::write(&script, documented_receiver()).unwrap();
    let port = free_port();
    let python = Python::start(&script, port);
    let base = format!("http://127.0.0.1:{port}/");
    let allowed = base.clone();
    let app = spawn_app(move |s| {
        s.notify.allowed_targets = vec![allowed];
        s.notify.secret = NOTIFY_SECRET.into();
    });
    let body = json!({"url": format!("{base}alice"), "format": "json", "on": ["visit"]});
    let r = app.req("PUT", "/api/notifications", Some(&alice()), Some(&body));
    assert_eq!(r.status(), 200, "{}", r.text());

    let id = share(&app, json!({}));
    let bob = {
        let r = app.req(
            "POST",
            &format!("/api/share/{id}/links"),
            Some(&alice()),
            Some(&json!({"label": "Bob"})),
        );
        assert_eq!(r.status(), 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    };
    open(&app, &id, "format=raw");
    assert_eq!(python.next_line(), "visit: someone opened \"Road songs\"");
    open(&app, &bob, "format=raw");
    assert_eq!(python.next_line(), "visit: Bob opened \"Road songs\"");

    // Signed with another secret: refused, and nothing printed.
    let forged = br#"{"event":"visit","seq":1,"share":{"id":"x","title":"Forged","url":"x"},"link":null,"visit":null}"#;
    let r = http_send(
        "POST",
        &format!("{base}alice"),
        &[
            ("Content-Type", "application/json"),
            ("X-Sharelog-Event", "forged"),
            (
                "X-Sharelog-Signature",
                &format!("sha256={}", "0".repeat(64)),
            ),
        ],
        Some(forged),
    );
    assert_eq!(r.status, 401);
    // A third visit is the next line: the forged one printed nothing.
    open(&app, &id, "format=m3u");
    assert_eq!(python.next_line(), "visit: someone opened \"Road songs\"");
}
