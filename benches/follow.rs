//! Append rate over real HTTP with audit followers that never read, against none:
//! a stalled follower must not slow the committer nor grow memory without bound.
//! Run: `cargo bench --bench follow` (figures go to docs/performance.md).

#[path = "../tests/support/commands.rs"]
mod commands;

use commands::{create, POLICY};
use sharelog::config::Settings;
use sharelog::domain::{Actor, UserId};
use sharelog::startup::Application;
use sharelog::store::Store;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const RUN_FOR: Duration = Duration::from_secs(6);
const WRITERS: usize = 16;
const SECRET: &str = "bench-secret";

type Failure = Box<dyn std::error::Error>;

/// One request on its own connection; the status code.
fn request(port: u16, head: &str, body: &[u8]) -> Result<u16, Failure> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let status = String::from_utf8_lossy(&answer[..answer.len().min(12)])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    Ok(status)
}

fn rename(port: u16, token: &str, id: &str, n: u64) -> Result<u16, Failure> {
    let body = format!(r#"{{"description":"{n:08} {}"}}"#, "x".repeat(1000));
    let head = format!(
        "PUT /api/share/{id} HTTP/1.0\r\nHost: b\r\nX-ND-Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    request(port, &head, body.as_bytes())
}

/// A follower that sends its request and then never reads a byte.
fn stalled_follower(port: u16, token: &str) -> Result<TcpStream, Failure> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    let head = format!(
        "GET /api/audit?follow=true HTTP/1.1\r\nHost: b\r\nX-ND-Authorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(head.as_bytes())?;
    Ok(s)
}

/// Durable updates per second from `WRITERS` threads over `RUN_FOR`.
fn append_rate(port: u16, token: &str, ids: &[String]) -> f64 {
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .iter()
            .map(|id| {
                s.spawn(move || {
                    let mut n = 0u64;
                    while start.elapsed() < RUN_FOR {
                        if matches!(rename(port, token, id, n), Ok(200)) {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn metric(port: u16, name: &str) -> String {
    let mut s = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    let _ = s.write_all(b"GET /metrics HTTP/1.0\r\nHost: b\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_string))
        .unwrap_or_default()
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() -> Result<(), Failure> {
    let dir = tempfile::tempdir()?;
    let ids: Vec<String> = {
        let store = Store::open(dir.path(), POLICY)?;
        let ids = (0..WRITERS as u128)
            .map(|n| {
                store
                    .execute_blocking(create(n, "bench"), None)
                    .map_err(|e| e.to_string())?
                    .map(|o| o.share.id.as_str().to_string())
                    .map_err(|r| r.to_string())
            })
            .collect::<Result<_, String>>()?;
        store.close();
        ids
    };
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    settings.auth.jwt_secret = SECRET.into();
    settings.public_access.rate_limit.per_minute = 0;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(settings) {
                Ok(app) => {
                    let _ = tx.send(Ok((app.port(), app.handle())));
                    let _ = app.run_until_stopped().await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                }
            }
        })
    });
    let (port, handle) = rx.recv()??;
    let admin = Actor {
        user_id: UserId("u-root".into()),
        username: "root".into(),
        is_admin: true,
    };
    let token = sharelog::auth::issue(SECRET, &admin, jwt_simple::prelude::Duration::from_hours(1))
        .map_err(|e| e.to_string())?;

    println!(
        "durable updates (1 KiB descriptions) over HTTP, {WRITERS} writers, {}s per run",
        RUN_FOR.as_secs()
    );
    // Alternating, because the log grows run by run (and this machine is shared):
    // a trend over the runs is the disk's, a gap between neighbours the followers'.
    for (round, attached) in [0, 8, 0, 8, 0, 8].into_iter().enumerate() {
        let followers = (0..attached)
            .map(|_| stalled_follower(port, &token))
            .collect::<Result<Vec<_>, _>>()?;
        let rate = append_rate(port, &token, &ids);
        println!(
            "run {}: {attached} stalled followers: {rate:>7.0} updates/s  (attached at the end: {}, RSS {:.0} MiB, load {})",
            round + 1,
            metric(port, "sharelog_audit_followers"),
            rss_mib(),
            std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or("?"),
        );
        drop(followers);
        // Their places free up at the server's next write to them.
        let freed = Instant::now();
        while metric(port, "sharelog_audit_followers") != "0"
            && freed.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    actix_web::rt::System::new().block_on(handle.stop(true));
    Ok(())
}
