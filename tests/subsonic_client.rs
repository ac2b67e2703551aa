//! A real Subsonic client library from PyPI (py-sonic, module `libsonic`) drives the
//! `/rest` share endpoints against sharelog in front of the real supysonic upstream.

use crate::support;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use support::{alice, bob, spawn_app, upstream, PUBLIC_URL};

/// The version the test was written against; pinned so a new release cannot change the test.
const PY_SONIC: &str = "py-sonic==1.2.0";

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-upstream")
}

/// Installs py-sonic into the harness venv once, under the harness's own lock file.
fn venv_python_with_libsonic() -> PathBuf {
    let python = cache_dir().join("venv").join("bin").join("python");
    let install = format!(
        r#"
import fcntl, importlib.util, os, subprocess, sys
with open(os.path.join({cache:?}, "lock"), "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if importlib.util.find_spec("libsonic") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", {pkg:?}], check=True)
"#,
        cache = cache_dir().display().to_string(),
        pkg = PY_SONIC,
    );
    let out = Command::new(&python)
        .args(["-c", &install])
        .output()
        .expect("the harness venv's python");
    assert!(
        out.status.success(),
        "installing {PY_SONIC} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    python
}

#[test]
fn a_real_subsonic_client_creates_lists_updates_and_deletes_shares() {
    // Given a running sharelog, bob's share, and alice known to the owner API
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let python = venv_python_with_libsonic();
    let album = up.album("Alpha").id.clone();
    let bobs = app.create(&bob(), json!({"albums": [up.album("Beta").id]}));
    assert_eq!(
        app.req("GET", "/api/share", Some(&alice()), None).status(),
        200
    );

    // When py-sonic runs the whole share lifecycle as alice
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/subsonic_client.py");
    let out = Command::new(&python)
        .arg(script)
        .args(["http://127.0.0.1", &app.port.to_string(), &album])
        .arg(bobs["id"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "py-sonic scenario failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = report["id"].as_str().unwrap();

    // Then the link has the public shape and opens
    assert_eq!(report["url"], format!("{PUBLIC_URL}/share/{id}"));
    let page = app.raw("GET", &format!("/share/{id}"), &[], None);
    assert_eq!(page.status(), 200, "{}", page.text());
    assert!(report["wrongPassword"].as_str().is_some());

    // And the owner API sees the same shares, under alice's token user id
    let mine = app.req("GET", "/api/share", Some(&alice()), None).json();
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![id],
        "the deleted share is gone, bob's is not shown"
    );
    let share = &mine[0];
    assert_eq!(share["userId"], "u-alice");
    assert_eq!(share["description"], "updated by py-sonic");
    let expires = time::OffsetDateTime::parse(
        share["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let want = report["expectedExpiresMs"].as_i64().unwrap();
    assert_eq!((expires.unix_timestamp_nanos() / 1_000_000) as i64, want);
}
