//! A half-written `ip-hash.key` never stops the service: a start that hits a full disk while
//! writing it (simulated by tests/support/fault_shim.c) leaves no partial key behind, and a 0-byte or short key left by an older version is replaced by a
//! new one with a warning (a new key only changes future visitor hashes).

use crate::support::binary;

use binary::{fault_shim, Binary};
use std::time::Duration;

const KEY: &str = "ip-hash.key";

#[test]
fn a_zero_byte_or_truncated_key_is_replaced_with_a_warning() {
    for damaged in [&b""[..], &[42u8; 17][..]] {
        let work = tempfile::tempdir().unwrap();
        let data = work.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join(KEY), damaged).unwrap();

        let mut app = Binary::start(work.path(), &data, &[]);
        assert!(
            app.log().contains("not a 32-byte key"),
            "no warning:\n{}",
            app.log()
        );
        let key = std::fs::read(data.join(KEY)).unwrap();
        assert_eq!(key.len(), 32);
        // Visits are hashed with the new key and recorded.
        let id = app.create_share();
        let (status, _) = app.send("GET", &format!("/share/{id}"), None).unwrap();
        assert_eq!(status, 200);
        assert!(app.sigterm().success());
    }
}

#[test]
fn a_start_whose_key_write_hits_a_full_disk_leaves_no_partial_key_and_the_next_start_works() {
    // The event log opens, then the disk is full exactly when the key is written: the
    // shim fails every write to a file named `ip-hash.key*` with ENOSPC.
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let shim = fault_shim();
    let mut app = Binary::spawn(
        work.path(),
        &data,
        &[
            ("LD_PRELOAD", shim.to_str().unwrap()),
            ("FAULT_SHIM_ENOSPC_NAME", KEY),
        ],
    );
    let status = app.wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "started without a key:\n{}", app.log());
    assert!(
        app.log().contains(KEY) && app.log().contains("No space left"),
        "{}",
        app.log()
    );
    let names: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(KEY)),
        "a partial key was left behind: {names:?}"
    );

    let mut app = Binary::start(work.path(), &data, &[]);
    assert_eq!(std::fs::read(data.join(KEY)).unwrap().len(), 32);
    let id = app.create_share();
    assert_eq!(
        app.send("GET", &format!("/share/{id}"), None).unwrap().0,
        200
    );
    assert!(app.sigterm().success());
}
