//! Rebuild throughput, startup time and export memory on a large log.
//!
//! `cargo bench --bench rebuild` (BENCH_EVENTS=N to change the size, default 1,000,000).
//! Builds a synthetic but valid log (10,000 shares, the rest visits) through
//! `Log::import`, then measures:
//! - `Log::rebuild` and `sharelog rebuild`: events per second;
//! - `sharelog serve` on that log: time from spawn until `/readyz` answers 200;
//! - `sharelog audit export > /dev/null`: peak RSS (from `wait4`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharelog::domain::*;
use sharelog::store::{chain, Envelope, Log, Store};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const SHARES: u64 = 10_000;

fn actor() -> Actor {
    Actor {
        user_id: UserId("u-bench".into()),
        username: "bench".into(),
        is_admin: false,
    }
}

/// A valid chain: `SHARES` creates, then visits spread over the shares.
fn synthetic(total: u64) -> impl Iterator<Item = Envelope> {
    let start = OffsetDateTime::now_utc() - time::Duration::days(30);
    let ids: Vec<ShareId> = (0..SHARES)
        .map(|n| ShareId::from_random((n as u128 + 1).to_be_bytes()))
        .collect();
    let mut versions = vec![0u64; SHARES as usize];
    let mut prev = chain::GENESIS;
    (1..=total).map(move |seq| {
        let i = ((seq - 1) % SHARES) as usize;
        versions[i] += 1;
        let event = if seq <= SHARES {
            Event::ShareCreated(ShareCreated {
                password: None,
                max_visits: None,
                owner_id: UserId("u-bench".into()),
                owner_name: "bench".into(),
                description: Some(format!("share {seq}")),
                format: Format::Raw,
                max_bit_rate: 0,
                downloadable: false,
                expires_at: None,
                items: ShareItems {
                    songs: vec![SongItem {
                        id: format!("song-{seq}"),
                        title: "Title".into(),
                        artist: "Artist".into(),
                        album: "Album".into(),
                    }],
                    ..Default::default()
                },
            })
        } else {
            Event::ShareVisited(VisitData {
                format: VisitFormat::M3u,
                download: false,
                player: Some("VLC".into()),
                client_ip: Some("hash:5c1f0e9a7b3d2c48".into()),
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
                link: None,
            })
        };
        let env = Envelope {
            seq,
            id: format!("00000000-0000-4000-8000-{seq:012x}"),
            stream: ids[i].clone().into(),
            version: versions[i],
            at: start + time::Duration::milliseconds(seq as i64),
            actor: (seq <= SHARES).then(actor),
            event,
            prev_hash: prev,
            hash: [0; 32],
        }
        .seal()
        .unwrap();
        prev = env.hash;
        env
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n");
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

/// Runs a child to completion; returns (seconds, peak RSS in KiB, exit status).
/// Peak RSS is the child's own `VmHWM`, polled from /proc: `wait4`'s `ru_maxrss`
/// would report this (large) benchmark process's size, inherited across fork.
fn run_measured(cmd: &mut Command) -> (f64, u64, i32) {
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    (
        started.elapsed().as_secs_f64(),
        peak,
        status.code().unwrap_or(-1),
    )
}

fn main() {
    let total: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().unwrap();
    // BENCH_DIR keeps the log between runs (it takes minutes to build).
    let dir = std::env::var_os("BENCH_DIR").map_or_else(|| tmp.path().join("data"), Into::into);
    let bin = env!("CARGO_BIN_EXE_sharelog");

    if !dir.join("db").exists() && std::env::var_os("BENCH_VIA_COMMITTER").is_some() {
        let t = Instant::now();
        through_committer(&dir, total);
        println!(
            "built a log of {total} events through the committer in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    if !dir.join("db").exists() {
        let t = Instant::now();
        let log = Log::create(&dir).unwrap();
        log.import(synthetic(total)).unwrap();
        log.flush().unwrap();
        println!(
            "built a log of {total} events in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    println!("log: {} MB on disk", dir_size(&dir) / 1_000_000);
    std::thread::sleep(Duration::from_millis(500)); // sled releases its lock from background threads

    let total = {
        let log = Log::open(&dir).unwrap();
        let t = Instant::now();
        let n = log.events(1).count();
        println!(
            "sled iteration alone: {n} events in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let mut k = 0usize;
        for ev in log.events(1) {
            let ev = ev.unwrap();
            k += ev.header().unwrap().stream.len();
        }
        println!(
            "iteration + header decode: {k} bytes of ids in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let (shares, cp) = log.rebuild(&mut |_| {}).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let total = cp.last_seq;
        assert_eq!(shares.live_count() as u64, SHARES.min(total));
        println!(
            "Log::rebuild (in process): {total} events in {secs:.2} s = {:.0} events/s",
            total as f64 / secs
        );
        total
    };
    std::thread::sleep(Duration::from_millis(500));

    let config = tmp.path().join("bench.yaml");
    let port = free_port();
    std::fs::write(
        &config,
        format!("listen: 127.0.0.1:{port}\ndataDir: {}\n", dir.display()),
    )
    .unwrap();
    let quiet = |c: &mut Command| {
        c.env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    };

    let mut cmd = Command::new(bin);
    cmd.args(["rebuild", "--config"]).arg(&config);
    quiet(&mut cmd);
    let (secs, rss, code) = run_measured(&mut cmd);
    assert_eq!(code, 0);
    println!(
        "sharelog rebuild (whole process): {secs:.2} s = {:.0} events/s, peak RSS {} MB",
        total as f64 / secs,
        rss / 1024
    );

    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--config"]).arg(&config);
    quiet(&mut cmd);
    let t = Instant::now();
    let mut child = cmd.spawn().unwrap();
    while !ready(port) {
        assert!(t.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(2));
    }
    println!(
        "startup to ready (/readyz 200): {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(200));

    let mut cmd = Command::new(bin);
    cmd.args(["audit", "export", "--config"]).arg(&config);
    quiet(&mut cmd);
    let (secs, rss, code) = run_measured(&mut cmd);
    assert_eq!(code, 0);
    println!(
        "sharelog audit export > /dev/null: {secs:.2} s ({:.0} events/s), peak RSS {} MB",
        total as f64 / secs,
        rss / 1024
    );

    let mut cmd = Command::new(bin);
    cmd.args(["audit", "verify", "--config"]).arg(&config);
    quiet(&mut cmd);
    let (secs, rss, code) = run_measured(&mut cmd);
    assert_eq!(code, 0);
    println!(
        "sharelog audit verify: {secs:.2} s ({:.0} events/s), peak RSS {} MB",
        total as f64 / secs,
        rss / 1024
    );
}

/// The production write path: `SHARES` creates, then visits from 128 threads
/// (group commit, fsync per batch).
fn through_committer(dir: &Path, total: u64) {
    let store = Store::open(dir, Policy::open(true)).unwrap();
    let ids: Vec<ShareId> = synthetic(SHARES)
        .map(|env| {
            let Event::ShareCreated(c) = env.event else {
                unreachable!()
            };
            let cmd = sharelog::domain::Command::Create(CreateShare {
                id: env.stream.share().cloned().unwrap(),
                actor: actor(),
                description: c.description,
                format: c.format,
                max_bit_rate: c.max_bit_rate,
                downloadable: Some(c.downloadable),
                expires_at: c.expires_at,
                items: c.items,
                password: None,
                max_visits: None,
            });
            store.execute_blocking(cmd, None).unwrap().unwrap().share.id
        })
        .collect();
    let threads = 128;
    let per_thread = (total - SHARES).div_ceil(threads);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (store, ids) = (&store, &ids);
            s.spawn(move || {
                for i in 0..per_thread {
                    let id = &ids[((t * per_thread + i) % SHARES) as usize];
                    let visit = VisitData {
                        format: VisitFormat::M3u,
                        download: false,
                        player: Some("VLC".into()),
                        client_ip: Some("hash:5c1f0e9a7b3d2c48".into()),
                        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
                        link: None,
                    };
                    let cmd = sharelog::domain::Command::Visit(VisitShare {
                        id: id.clone(),
                        kind: VisitKind::Visit,
                        visit,
                    });
                    store.execute_blocking(cmd, None).unwrap().unwrap();
                }
            });
        }
    });
    store.close();
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
