//! Restore throughput and memory on a large export, and what follows a restore.
//!
//! `cargo bench --bench restore` (BENCH_EVENTS=N, default 1,000,000; BENCH_EXPORT=FILE
//! keeps the export for another run or a profiler). Writes a
//! synthetic but valid export (the log shape of `benches/rebuild.rs`: 10,000 shares
//! created, the rest visits), then measures, each as a child process:
//! - `sharelog restore --from export.jsonl`: events/s and peak RSS;
//! - the first `sharelog serve` on the restored directory: spawn to `/readyz` 200;
//! - `sharelog audit verify` (the data directory) and `audit verify --file`: peak RSS;
//! - and that `audit export` of the restored directory is the input, byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharelog::domain::*;
use sharelog::store::{chain, Envelope};
use std::io::{BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const SHARES: u64 = 10_000;

fn write_export(path: &std::path::Path, total: u64) {
    let start = OffsetDateTime::now_utc() - time::Duration::days(30);
    let ids: Vec<ShareId> = (0..SHARES)
        .map(|n| ShareId::from_random((n as u128 + 1).to_be_bytes()))
        .collect();
    let mut versions = vec![0u64; SHARES as usize];
    let mut prev = chain::GENESIS;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    for seq in 1..=total {
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
        let at = start + time::Duration::milliseconds(seq as i64);
        let env = Envelope {
            seq,
            id: format!("00000000-0000-4000-8000-{seq:012x}"),
            stream: ids[i].clone().into(),
            version: versions[i],
            at,
            actor: (seq <= SHARES).then(|| Actor {
                user_id: UserId("u-bench".into()),
                username: "bench".into(),
                is_admin: false,
            }),
            event,
            prev_hash: prev,
            hash: [0; 32],
        };
        let (env, line) = env.seal_to_line(&at.format(&Rfc3339).unwrap()).unwrap();
        prev = env.hash;
        out.write_all(&line).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

/// Runs a child to completion; returns (seconds, peak RSS in KiB from its own `VmHWM`, exit code).
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

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n");
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

fn main() {
    let total: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_sharelog");
    // BENCH_EXPORT=FILE keeps the export there (and reuses it), e.g. to profile a restore.
    let export = std::env::var_os("BENCH_EXPORT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("export.jsonl"));
    if !export.exists() {
        let t = Instant::now();
        write_export(&export, total);
        println!(
            "wrote an export of {total} events ({} MB) in {:.1} s",
            std::fs::metadata(&export).unwrap().len() / 1_000_000,
            t.elapsed().as_secs_f64()
        );
    }
    let dir = tmp.path().join("data");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = tmp.path().join("bench.yaml");
    std::fs::write(
        &config,
        format!("listen: 127.0.0.1:{port}\ndataDir: {}\n", dir.display()),
    )
    .unwrap();
    let sharelog = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.arg("--config").arg(&config).args(args);
        c.env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };

    let (secs, rss, code) = run_measured(&mut sharelog(&[
        "restore",
        "--from",
        export.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    println!(
        "sharelog restore: {secs:.2} s = {:.0} events/s, peak RSS {} MB",
        total as f64 / secs,
        rss / 1024
    );

    let t = Instant::now();
    let mut child = sharelog(&["serve"]).spawn().unwrap();
    while !ready(port) {
        assert!(t.elapsed() < Duration::from_secs(60), "never ready");
        std::thread::sleep(Duration::from_millis(2));
    }
    println!(
        "first start after restore, to ready (/readyz 200): {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));

    let (secs, rss, code) = run_measured(&mut sharelog(&["audit", "verify"]));
    assert_eq!(code, 0);
    println!(
        "sharelog audit verify (data directory): {secs:.2} s, peak RSS {} MB",
        rss / 1024
    );
    let (secs, rss, code) = run_measured(&mut sharelog(&[
        "audit",
        "verify",
        "--file",
        export.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    println!(
        "sharelog audit verify --file: {secs:.2} s, peak RSS {} MB",
        rss / 1024
    );

    let out = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .args(["audit", "export"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout == std::fs::read(&export).unwrap(),
        "the export differs from the input"
    );
    println!("audit export of the restored directory == the input: yes");
}
