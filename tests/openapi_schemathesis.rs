//! Schemathesis (PyPI) runs property-based tests against `/openapi.json` with a valid admin
//! token: no 5xx, no answer outside the schema, no undocumented status code or content type.
//!
//! Every operation of the document is run, `/metrics`, the public stream/download relays and
//! the Subsonic calls included, with 30 examples per operation (about 15 s on 2 cores).
//! Generated ids rarely name a real share, so the stream/download relays and the history
//! mostly see 404s here; tests/public_streams.rs and tests/audit_api.rs cover their 2xx.

use crate::support;

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;
use support::{admin, alice, spawn_app, upstream};

/// The version the test was written against; pinned so a new release cannot change the test.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// Statuses that answer a schema-valid request correctly without being a 2xx: generated
/// share and item ids do not exist (404, 422 `unknown-items`), a share may have expired by
/// the time it is read (410), and on create and update an `expiresAt` in the past is a 400
/// (`expiresAt: must be in the future`), a rule a schema cannot state. Invalid input may meet
/// an expired share (the stateful phase sets short expiries): the share's state is checked
/// before the query, so 410 counts as a refusal, as 404 does by default.
const CONFIG: &str = r#"
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "410", "422"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "410", "413", "415", "422", "428", "429"]

[[operations]]
include-operation-id = "createShare"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "409", "422"]

# oEmbed 1.0 asks a provider to answer 501 to a format it does not offer.
[[operations]]
include-operation-id = "oembed"
checks.not_a_server_error.expected-statuses = ["2xx", "4xx", "501"]
checks.negative_data_rejection.expected-statuses = ["400", "404", "410", "501"]

# A URL is accepted only under the admin's notify.allowedTargets (a setting, which a schema
# cannot state): a schema-valid one is otherwise 400 `notify-target`.
[[operations]]
include-operation-id = "setNotifications"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401"]

# The password form's target answers a right password (or a share without one) with a 303
# to the page.
[[operations]]
include-operation-id = "unlockShare"
checks.positive_data_acceptance.expected-statuses = ["2xx", "303", "401", "403", "404", "410", "429"]

# The owner's page's sign-in answers pages: 303 signed in, 401 a wrong password (what random
# names and passwords get), 429 once one name failed ten times. A pattern ending in `$` lets
# Python's regex engine (and so the generator) end a valid string with a newline, which the
# sign-in and the search refuse as a control character (400).
[[operations]]
include-operation-id = "ownerSignIn"
checks.positive_data_acceptance.expected-statuses = ["2xx", "303", "400", "401", "429"]

[[operations]]
include-operation-id = "searchMusic"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401"]

[[operations]]
include-operation-id = "ownerSignOut"
checks.positive_data_acceptance.expected-statuses = ["2xx", "303", "403"]

[[operations]]
include-operation-id = "updateShare"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "404", "409"]
"#;

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-upstream")
}

/// Installs schemathesis into the harness venv once, under the harness's own lock file.
fn venv_schemathesis() -> PathBuf {
    let bin = cache_dir().join("venv").join("bin");
    let install = format!(
        r#"
import fcntl, importlib.metadata, os, subprocess, sys
with open(os.path.join({cache:?}, "lock"), "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        have = importlib.metadata.version("schemathesis")
    except importlib.metadata.PackageNotFoundError:
        have = None
    if have != {pkg:?}.split("==")[1]:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", {pkg:?}], check=True)
"#,
        cache = cache_dir().display().to_string(),
        pkg = SCHEMATHESIS,
    );
    let out = Command::new(bin.join("python"))
        .args(["-c", &install])
        .output()
        .expect("the harness venv's python");
    assert!(
        out.status.success(),
        "installing {SCHEMATHESIS} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin.join("st")
}

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    // Given a running sharelog with shares by two users, and schemathesis
    let up = upstream::shared();
    let app = spawn_app(|_| {});
    let st = venv_schemathesis();
    let mine = app.create(
        &admin(),
        json!({"albums": [up.album("Alpha").id], "description": "mine"}),
    );
    app.create(
        &alice(),
        json!({"songs": [up.album("Beta").songs[0].id], "format": "m3u"}),
    );
    let visit = app.raw(
        "GET",
        &format!("/share/{}", mine["id"].as_str().unwrap()),
        &[],
        None,
    );
    assert_eq!(visit.status(), 200, "{}", visit.text());
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).unwrap();

    // When schemathesis runs every check against the document the server serves
    let started = Instant::now();
    let out = Command::new(&st)
        .current_dir(work.path())
        .arg("--config-file")
        .arg(&config)
        .args(["--no-color", "run"])
        .arg(format!("{}/openapi.json", app.url))
        // One worker: with two, CPython 3.11's `ast.parse` (which hypothesis calls to
        // describe lambdas) sometimes fails across threads ("AST constructor recursion
        // depth mismatch"), a crash inside the tool, not a finding about the server.
        .args(["--checks", "all", "--max-examples", "30", "--workers", "1"])
        .args(["--generation-database", "none", "--request-timeout", "10"])
        .arg("-H")
        .arg(format!("X-ND-Authorization: Bearer {}", admin()))
        .output()
        .expect("run schemathesis");
    let took = started.elapsed();

    // Then it finds nothing
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.find("SUMMARY").map_or("", |i| &stdout[i..]);
    eprintln!("schemathesis took {took:.1?}\n{summary}");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
