//! Helpers for tests that work on a data directory without a server: the CLI with a
//! config file, the standalone verifier, sled's lock, and the appending child process
//! that crash tests SIGKILL.

use super::commands::{create, visit, POLICY};
use sharelog::domain::{Command, ShareId};
use sharelog::store::{Store, StoreError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output};
use std::time::Duration;

/// Creates share number `n` named `name` and gives its id.
pub fn created(store: &Store, n: u128, name: &str) -> ShareId {
    store
        .execute_blocking(create(n, name), None)
        .unwrap()
        .unwrap()
        .share
        .id
}

/// A config file naming `dir`, so every command runs with `--config` as an operator would.
pub fn config_for(dir: &Path) -> PathBuf {
    let path = dir.with_extension("yaml");
    let yaml = format!(
        "dataDir: {}\npublicUrl: {}\n",
        dir.display(),
        super::PUBLIC_URL
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Runs the real binary with `--config` and `args`.
pub fn sharelog(config: &Path, args: &[&str]) -> Output {
    Process::new(env!("CARGO_BIN_EXE_sharelog"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs `scripts/verify_audit.py`, the verifier written from docs/audit.md alone.
pub fn verify_py(args: &[&str]) -> Output {
    Process::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/verify_audit.py"
        ))
        .args(args)
        .output()
        .unwrap()
}

/// A raw `sled::Db` (a test writing an old layout) lets go of its file lock from
/// sled's I/O threads a moment after it drops; wait for that. Our own `Store::close`
/// and `Log` wait for it themselves.
pub fn wait_until_released(dir: &Path) {
    let file = std::fs::File::open(dir.join("db")).unwrap();
    for _ in 0..500 {
        if file.try_lock().is_ok() {
            file.unlock().unwrap();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the data directory stayed locked");
}

/// The body of a crash test's child process: opens the store in `SHARELOG_CHILD_DIR`
/// and appends from `threads` threads until it is killed: even threads through
/// `execute_blocking`, printing `ack <seq>` for every acknowledged event; odd ones
/// through `Store::visit`, printing `visited <share> <n>` after the n-th acknowledged visit. With `SHARELOG_CHILD_MODE=open-only` it only opens.
/// Does nothing when the variable is absent (the entry point is an ignored test).
pub fn appender_child(threads: u128) {
    let Ok(dir) = std::env::var("SHARELOG_CHILD_DIR") else {
        return;
    };
    let store = match Store::open(Path::new(&dir), POLICY) {
        Ok(s) => s,
        Err(StoreError::Locked(_)) => return println!("open failed: locked"),
        Err(e) => return println!("open failed: {e}"),
    };
    if std::env::var("SHARELOG_CHILD_MODE").as_deref() == Ok("open-only") {
        return;
    }
    // New ids every run, so a child started on a used directory creates fresh shares.
    let base = store.checkpoint().unwrap().map_or(0, |c| c.last_seq) as u128 * 1000;
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let id = store
                    .execute_blocking(create(base + t, "a share"), None)
                    .unwrap()
                    .unwrap()
                    .share
                    .id;
                if t % 2 == 1 {
                    // Half the threads visit as the public page does: `Store::visit`, which
                    // acknowledges without a seq, so they print the visits acknowledged so far.
                    let Ok(rt) = actix_rt::Runtime::new() else {
                        return;
                    };
                    let mut n = 0u64;
                    while let Command::Visit(v) = visit(&id) {
                        if !matches!(rt.block_on(store.visit(v)), Ok(Ok(()))) {
                            break;
                        }
                        n += 1;
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "visited {id} {n}");
                        let _ = out.flush();
                    }
                    return;
                }
                while let Ok(Ok(o)) = store.execute_blocking(visit(&id), None) {
                    let mut out = std::io::stdout().lock();
                    for seq in o.seqs {
                        let _ = writeln!(out, "ack {seq}");
                    }
                    let _ = out.flush();
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}
