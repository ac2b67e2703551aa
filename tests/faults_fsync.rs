//! An fsync that fails (not a write): tests/support/fault_shim.c, preloaded into the real
//! binary, makes fsync/fdatasync fail with EIO once a trigger file exists. Every visit
//! answered 200 before the failure is in the log after a restart; the request whose fsync
//! failed gets a 503 JSON; the store then refuses every write and `/readyz` is 503; the log
//! says what happened; SIGTERM exits non-zero; and the service restarts cleanly.

use crate::support;
use crate::support::binary;

use binary::{fault_shim, Binary};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_failed_fsync_loses_nothing_acknowledged_and_stops_writes_until_restart() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let trigger = work.path().join("fsync-fails");
    let shim = fault_shim();
    let app = Binary::start(
        work.path(),
        &data,
        &[
            ("LD_PRELOAD", shim.to_str().unwrap()),
            ("FAULT_SHIM_FSYNC_TRIGGER", trigger.to_str().unwrap()),
        ],
    );
    let id = app.create_share();
    let visit = format!("/share/{id}");
    let app = Arc::new(app);

    // Four visitors in parallel, so the failure lands in the middle of group commits.
    let (acked, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failed = Arc::new(AtomicBool::new(false));
    let visitors: Vec<_> = (0..4)
        .map(|_| {
            let (app, visit) = (app.clone(), visit.clone());
            let (acked, refused, failed) = (acked.clone(), refused.clone(), failed.clone());
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    let (status, body) = app.send("GET", &visit, None).unwrap();
                    match status {
                        200 => {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        503 => {
                            assert_eq!(body["code"], "store-unavailable", "{body}");
                            refused.fetch_add(1, Ordering::SeqCst);
                            failed.store(true, Ordering::SeqCst);
                            return;
                        }
                        other => panic!("visit answered {other}: {body}"),
                    }
                    if failed.load(Ordering::SeqCst) {
                        return;
                    }
                }
            })
        })
        .collect();
    while acked.load(Ordering::SeqCst) < 50 {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(&trigger, b"").unwrap();
    for v in visitors {
        v.join().unwrap();
    }
    let (acked, refused) = (acked.load(Ordering::SeqCst), refused.load(Ordering::SeqCst));
    assert!(refused > 0, "no visit was refused ({acked} acknowledged)");
    assert!(
        std::fs::metadata(work.path().join("fsync-fails.hits")).is_ok(),
        "the shim never failed an fsync"
    );

    // Poisoned: later writes are refused even with the disk healthy again, readiness is off.
    std::fs::remove_file(&trigger).unwrap();
    let (status, body) = app
        .send(
            "POST",
            "/api/share",
            Some(&serde_json::json!({"songs": [support::upstream::shared().album("Alpha").songs[0].id]})),
        )
        .unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("store-unavailable"))
    );
    assert_eq!(app.send("GET", &visit, None).unwrap().0, 503);
    assert_eq!(app.send("GET", "/readyz", None).unwrap().0, 503);
    let log = app.log();
    assert!(
        log.contains("event log fsync failed") && log.contains("refused until restart"),
        "{log}"
    );

    let mut app = Arc::try_unwrap(app).ok().unwrap();
    let status = app.sigterm();
    assert!(!status.success(), "{}", app.log());

    // A clean restart, without the shim: every acknowledged visit is there. A refused one
    // may be there too (its bytes were written, only the fsync failed): its fate was unknown.
    let app = Binary::start(work.path(), &data, &[]);
    let (status, share) = app.send("GET", &format!("/api/share/{id}"), None).unwrap();
    assert_eq!(status, 200);
    let count = share["visitCount"].as_u64().unwrap();
    assert!(
        (acked..=acked + refused).contains(&count),
        "{acked} acknowledged, {refused} refused, {count} in the log"
    );
    assert_eq!(app.send("GET", &visit, None).unwrap().0, 200);
    drop(app);
    let verify = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["audit", "verify", "--config"])
        .arg(work.path().join("sharelog.yaml"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
