//! A disk that fills up under the running service (a small tmpfs): the write that cannot be
//! stored gets a 503 JSON, nothing acknowledged is lost, and SIGTERM then exits non-zero
//! with a log line that says why, so systemd and compose see the failure.

use crate::support::binary;

use binary::{Binary, Tmpfs};

#[test]
fn sigterm_after_the_disk_filled_up_exits_non_zero_and_loses_no_acknowledged_visit() {
    let work = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(64);
    let data = disk.path.join("data");
    let mut app = Binary::start(work.path(), &data, &[]);
    let id = app.create_share();
    let visit = format!("/share/{id}");
    assert_eq!(app.send("GET", &visit, None).unwrap().0, 200);
    let mut acknowledged = 1;

    disk.fill();
    // sled may still have room in a block it holds; visits go on until one cannot be stored.
    let refusal = loop {
        let (status, body) = app.send("GET", &visit, None).unwrap();
        match status {
            200 => acknowledged += 1,
            _ => break (status, body),
        }
        assert!(acknowledged < 5000, "the full disk never refused a visit");
    };
    assert_eq!(refusal.0, 503, "{}", refusal.1);
    assert_eq!(refusal.1["code"], "store-unavailable");
    assert_eq!(app.send("GET", "/readyz", None).unwrap().0, 503);

    let status = app.sigterm();
    let log = app.log();
    assert!(!status.success(), "exit status says success:\n{log}");
    assert!(
        log.contains("event log was not closed cleanly"),
        "no clear log line:\n{log}"
    );

    disk.free();
    let app = Binary::start(work.path(), &data, &[]);
    let (status, share) = app.send("GET", &format!("/api/share/{id}"), None).unwrap();
    assert_eq!(status, 200);
    let count = share["visitCount"].as_u64().unwrap();
    assert!(
        count == acknowledged || count == acknowledged + 1,
        "{acknowledged} visits acknowledged, {count} in the log"
    );
}
