//! The backup drill: a server under mixed load from several threads, `sharelog
//! backup --follow` streaming from it over real HTTP and killed with SIGKILL twice
//! during the load; once the load stops and the backup has caught up, `sharelog
//! restore` builds a new data directory and a second server on it must answer
//! exactly as the first: every share object, every history, every ETag and the
//! whole audit export. Every write the load was told succeeded is in the restored log.

use crate::support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::offline::{config_for, sharelog};
use support::*;

/// What the server acknowledged (a 2xx answer) during the load.
#[derive(Default)]
struct Acked {
    created: Vec<String>,
    /// (share, version) of every acknowledged update.
    updated: Vec<(String, u64)>,
    deleted: Vec<String>,
    visits: HashMap<String, u64>,
}

fn call(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let auth = format!("Bearer {}", alice());
    let headers = [
        ("Content-Type", "application/json"),
        ("X-ND-Authorization", auth.as_str()),
    ];
    let body = body.map(|b| serde_json::to_vec(b).unwrap());
    let r = http_send(method, &format!("{base}{path}"), &headers, body.as_deref());
    let json = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, json)
}

fn create(base: &str, album: &str, n: usize) -> String {
    let (status, v) = call(
        base,
        "POST",
        "/api/share",
        Some(&json!({"albums": [album], "description": format!("drill {n}")})),
    );
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// Creates, updates and deletes its own shares until `stop`.
fn writer(base: &str, album: &str, t: usize, stop: &AtomicBool, acked: &Mutex<Acked>) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let id = create(base, album, t * 100_000 + n);
        acked.lock().unwrap().created.push(id.clone());
        for k in 0..2 {
            let body = json!({"description": format!("drill {t}/{n} edit {k}"), "maxBitRate": 64 * (k + 1)});
            let (status, v) = call(base, "PUT", &format!("/api/share/{id}"), Some(&body));
            assert_eq!(status, 200, "{v}");
            let version = v_version(base, &id);
            acked.lock().unwrap().updated.push((id.clone(), version));
        }
        if n % 3 == 0 {
            let (status, v) = call(base, "DELETE", &format!("/api/share/{id}"), None);
            assert_eq!(status, 200, "{v}");
            acked.lock().unwrap().deleted.push(id);
        }
    }
}

/// The version of a share right after this thread's own update (nobody else writes it).
fn v_version(base: &str, id: &str) -> u64 {
    let auth = format!("Bearer {}", alice());
    let r = http_send(
        "GET",
        &format!("{base}/api/share/{id}"),
        &[("X-ND-Authorization", auth.as_str())],
        None,
    );
    assert_eq!(r.status, 200);
    r.header("ETag").unwrap().trim_matches('"').parse().unwrap()
}

/// Visits the shares nobody deletes until `stop`.
fn visitor(base: &str, shares: &[String], t: usize, stop: &AtomicBool, acked: &Mutex<Acked>) {
    let mut i = t;
    while !stop.load(Ordering::SeqCst) {
        let id = &shares[i % shares.len()];
        i += 1;
        let r = http_send(
            "GET",
            &format!("{base}/share/{id}?format=m3u&player=drill"),
            &[("Accept", "*/*")],
            None,
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        *acked.lock().unwrap().visits.entry(id.clone()).or_default() += 1;
    }
}

fn start_backup(url: &str, token: &Path, file: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(["backup", "--follow", "--url", url, "--token-file"])
        .arg(token)
        .arg("--to")
        .arg(file)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn kill9(child: &mut Child) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
}

fn admin_get(app: &TestApp, path: &str) -> Resp {
    let r = app.req("GET", path, Some(&admin()), None);
    assert_eq!(r.status(), 200, "{path}: {}", r.text());
    r
}

/// Every share object (admin's view, all fields) by id.
fn share_objects(app: &TestApp) -> BTreeMap<String, Value> {
    let r = admin_get(app, "/api/share?_start=0&_end=1000000");
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

#[test]
fn a_backup_killed_twice_under_load_restores_to_an_indistinguishable_server() {
    let original = spawn_app(|_| {});
    let base = original.url.clone();
    let album = upstream::shared().album("Alpha").id.clone();
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("token");
    std::fs::write(&token, admin()).unwrap();
    let (file, backup_log) = (
        tmp.path().join("backup.jsonl"),
        tmp.path().join("backup.log"),
    );

    let visited: Vec<String> = (0..4).map(|n| create(&base, &album, n)).collect();
    let acked = Arc::new(Mutex::new(Acked {
        created: visited.clone(),
        ..Acked::default()
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for t in 0..6 {
        let (base, album, stop, acked, visited) = (
            base.clone(),
            album.clone(),
            stop.clone(),
            acked.clone(),
            visited.clone(),
        );
        load.push(std::thread::spawn(move || match t % 2 {
            0 => writer(&base, &album, t, &stop, &acked),
            _ => visitor(&base, &visited, t, &stop, &acked),
        }));
    }

    // The backup follows the load; it is killed twice in the middle of it.
    let mut child = start_backup(&base, &token, &file, &backup_log);
    let mut sizes = vec![0];
    for pause in [900, 1300] {
        std::thread::sleep(Duration::from_millis(pause));
        kill9(&mut child);
        sizes.push(std::fs::metadata(&file).map_or(0, |m| m.len()));
        child = start_backup(&base, &token, &file, &backup_log);
    }
    // Each killed run had written something: the kills hit a working backup.
    assert!(sizes.windows(2).all(|w| w[1] > w[0]), "{sizes:?}");
    std::thread::sleep(Duration::from_millis(1200));
    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.join().unwrap();
    }

    // Caught up: the file holds exactly the server's whole audit trail.
    let export = admin_get(&original, "/api/audit").0.body;
    let started = Instant::now();
    while std::fs::read(&file).unwrap() != export {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the backup did not catch up; its log:\n{}",
            std::fs::read_to_string(&backup_log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    kill9(&mut child);

    let restored_dir = tmp.path().join("restored");
    let out = sharelog(
        &config_for(&restored_dir),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = spawn_with(settings_for(upstream::shared(), &restored_dir));

    assert_eq!(admin_get(&restored, "/api/audit").0.body, export);
    let shares = share_objects(&original);
    assert_eq!(share_objects(&restored), shares);
    let acked = acked.lock().unwrap();
    for id in &acked.created {
        let path = format!("/api/share/{id}/history");
        assert_eq!(
            admin_get(&restored, &path).json(),
            admin_get(&original, &path).json()
        );
        let one = format!("/api/share/{id}");
        let (a, b) = (
            original.req("GET", &one, Some(&admin()), None),
            restored.req("GET", &one, Some(&admin()), None),
        );
        assert_eq!(b.status(), a.status());
        assert_eq!(b.header("ETag"), a.header("ETag"));
    }

    // Every acknowledged write is in the restored log.
    let history = |id: &str| -> Vec<Value> {
        admin_get(&restored, &format!("/api/share/{id}/history"))
            .json()
            .as_array()
            .unwrap()
            .clone()
    };
    for id in &acked.created {
        assert_eq!(history(id)[0]["type"], "ShareCreated");
    }
    for (id, version) in &acked.updated {
        let events = history(id);
        let event = events
            .iter()
            .find(|e| e["version"] == *version)
            .unwrap_or_else(|| panic!("update {id} v{version} is missing"));
        assert_eq!(event["type"], "ShareUpdated");
    }
    for id in &acked.deleted {
        assert_eq!(history(id).last().unwrap()["type"], "ShareDeleted");
        assert!(!shares.contains_key(id));
    }
    for (id, n) in &acked.visits {
        assert_eq!(shares[id]["visitCount"], *n, "visits to {id}");
    }
    assert!(acked.deleted.len() >= 2 && acked.updated.len() >= 10);
    assert!(acked.visits.values().sum::<u64>() >= 100);
}
