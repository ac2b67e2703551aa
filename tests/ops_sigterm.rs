//! SIGTERM under load (docs/operations.md): the real binary stops accepting, finishes
//! what is in flight, flushes the log and exits 0, and every write that was
//! answered 2xx is in the log afterwards.

use crate::support;

use serde_json::json;
use sharelog::domain::ShareId;
use sharelog::store::Log;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// A tiny HTTP/1.0 client that reports failures instead of panicking: during a
/// shutdown, refused connections are expected.
fn try_send(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: x\r\nX-ND-Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let etag = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("etag:")
                .map(|v| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_default();
    Some((status, etag, body.to_string()))
}

#[test]
fn sigterm_under_load_exits_0_and_loses_no_answered_write() {
    let up = upstream::shared();
    let songs: Vec<String> = up
        .album("Alpha")
        .songs
        .iter()
        .map(|s| s.id.clone())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let port = support::free_port();
    let config = tmp.path().join("sharelog.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: 127.0.0.1:{port}\ndataDir: {}\npublicUrl: {PUBLIC_URL}\nauth:\n  jwtSecret: {SECRET}\nupstream:\n  url: {}\n  username: {}\n  password: {}\n  auth: password\n",
            dir.display(),
            up.url,
            up.admin.username,
            up.admin.password
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while try_send(port, "GET", "/readyz", "", "").map(|r| r.0) != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server never became ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // (share id, version) of every write answered 2xx.
    let acked: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (acked, stop, songs) = (acked.clone(), stop.clone(), songs.clone());
            std::thread::spawn(move || {
                let token = alice();
                let mut mine: Option<String> = None;
                let mut i = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let reply = match &mine {
                        Some(id) if i.is_multiple_of(2) => try_send(
                            port,
                            "PUT",
                            &format!("/api/share/{id}"),
                            &token,
                            &json!({"description": format!("w{w} n{i}")}).to_string(),
                        ),
                        _ => try_send(
                            port,
                            "POST",
                            "/api/share",
                            &token,
                            &json!({"songs": [songs[i % songs.len()]]}).to_string(),
                        ),
                    };
                    match reply {
                        Some((status, etag, body)) if (200..300).contains(&status) => {
                            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                            let id = v["id"].as_str().unwrap().to_string();
                            acked
                                .lock()
                                .unwrap()
                                .push((id.clone(), etag.parse().unwrap()));
                            mine = Some(id);
                        }
                        Some(_) => {}
                        // Refused or cut off: the server is going away.
                        None => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1500));
    let before = acked.lock().unwrap().len();
    assert!(before > 0, "no write was answered before SIGTERM");
    // SAFETY: signalling our own child process.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM");

    let acked = acked.lock().unwrap();
    let log = Log::open(&dir).unwrap();
    let shares = log.projections().unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    assert_eq!(rebuilt, shares);
    for (id, version) in acked.iter() {
        let share = shares
            .get(&ShareId::parse(id).unwrap())
            .unwrap_or_else(|| panic!("answered share {id} is not in the log"));
        assert!(
            share.version >= *version,
            "share {id}: answered version {version}, log has {}",
            share.version
        );
    }
    let mut events = 0;
    for (i, ev) in log.events(1).enumerate() {
        assert_eq!(ev.unwrap().seq, i as u64 + 1);
        events += 1;
    }
    eprintln!(
        "{} writes answered ({before} before SIGTERM), {events} events in the log",
        acked.len()
    );
    assert!(
        events >= acked.len(),
        "{events} events for {} answered writes",
        acked.len()
    );
}
