//! The PostgreSQL engine's own cases, on a real PostgreSQL: the schema migrated once
//! when replicas start together, projections rebuilt when they are not as of the
//! log, a schema from a newer sharelog refused, a database that cannot be reached
//! named without its password, connections killed by the server survived, and long
//! ranges read in chunks. Replicas serving together are in `store_replicas`.
use crate::support;

use serde_json::json;
use sharelog::config::{Engine, Settings};
use sharelog::domain::{Policy, ShareId};
use sharelog::store::Store;
use std::time::{Duration, Instant};
use support::binary::Binary;
use support::commands::visit;
use support::*;

fn on(url: &str) -> impl FnOnce(&mut Settings) {
    let url = url.to_string();
    move |s| {
        s.store.engine = Engine::Postgres;
        s.store.postgres_url = url;
    }
}

fn pg() -> &'static postgres::Cluster {
    postgres::shared()
}

#[test]
fn replicas_starting_together_migrate_the_schema_once() {
    let url = pg().fresh_database();
    let apps: Vec<TestApp> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..4).map(|_| s.spawn(|| spawn_app(on(&url)))).collect();
        starts.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(
        pg().psql_url(
            &url,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM sharelog_schema_version"
        ),
        "1,2,3"
    );
    let song = &upstream::shared().album("Alpha").songs[0].id;
    for app in &apps {
        app.create(&alice(), json!({ "songs": [song] }));
    }
    assert_eq!(
        pg().psql_url(&url, "SELECT max(seq) FROM sharelog_events"),
        "4"
    );
}

#[test]
fn a_database_of_an_older_schema_is_migrated_at_start() {
    let url = pg().fresh_database();
    let app = spawn_app(on(&url));
    let song = &upstream::shared().album("Alpha").songs[0].id;
    let id = app.create_id(&alice(), json!({ "songs": [song] }));
    drop(app);
    let secrets = pg().psql_url(&url, "SELECT count(*) FROM sharelog_secrets");
    assert_ne!(secrets, "0");
    // As a sharelog of schema 1 left it: no secrets table, no cursors table.
    pg().psql_url(
        &url,
        "DROP TABLE sharelog_secrets; DROP TABLE sharelog_cursors; \
         DELETE FROM sharelog_schema_version WHERE version >= 2",
    );
    let app = spawn_app(on(&url));
    assert_eq!(
        pg().psql_url(
            &url,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM sharelog_schema_version"
        ),
        "1,2,3"
    );
    assert_eq!(
        pg().psql_url(&url, "SELECT count(*) FROM sharelog_secrets"),
        secrets
    );
    assert_eq!(
        app.raw("GET", &format!("/share/{id}"), &[], None).status(),
        200
    );
}

/// Every share as alice sees it, in one string.
fn listing(app: &TestApp) -> String {
    let r = app.req(
        "GET",
        "/api/share?_sort=createdAt&_order=ASC",
        Some(&alice()),
        None,
    );
    assert_eq!(r.status(), 200);
    r.text()
}

#[test]
fn projection_rows_that_are_not_as_of_the_log_are_rebuilt_at_start() {
    let url = pg().fresh_database();
    let mut app = spawn_app(on(&url));
    let songs = &upstream::shared().album("Alpha").songs;
    let ids: Vec<String> = (0..3)
        .map(|i| app.create_id(&alice(), json!({ "songs": [songs[i].id] })))
        .collect();
    for id in &ids[..2] {
        for _ in 0..3 {
            assert_eq!(
                app.raw("GET", &format!("/share/{id}"), &[], None).status(),
                200
            );
        }
    }
    let renamed = app.update(&alice(), &ids[1], json!({"description": "renamed"}));
    assert_eq!(renamed.status(), 200);
    let before = listing(&app);
    let tmp = app.stop();
    // Rows of an older schema, and wrong: the start must fold the log again.
    pg().psql_url(
        &url,
        "UPDATE sharelog_projection SET value = convert_to('{}', 'UTF8'); \
         DELETE FROM sharelog_projection WHERE get_byte(key, 0) = ascii('V'); \
         UPDATE sharelog_head SET rows_version = 0",
    );
    let mut s = settings_for(upstream::shared(), &app.data_dir);
    on(&url)(&mut s);
    let mut again = spawn_with(s);
    assert_eq!(listing(&again), before);
    assert_eq!(
        pg().psql_url(&url, "SELECT rows_version FROM sharelog_head"),
        sharelog::store::SCHEMA_VERSION.to_string()
    );
    // And the rebuilt rows load as they are at the next start.
    again.stop();
    drop(tmp);
    let third = spawn_app(on(&url));
    assert_eq!(listing(&third), before);
}

#[test]
fn a_schema_from_a_newer_sharelog_is_refused_at_start() {
    let url = pg().fresh_database();
    spawn_app(on(&url)).stop();
    pg().psql_url(
        &url,
        "INSERT INTO sharelog_schema_version (version) VALUES (99)",
    );
    let work = tempfile::tempdir().unwrap();
    let env = [
        ("SHARELOG_STORE_ENGINE", "postgres"),
        ("SHARELOG_POSTGRES_URL", url.as_str()),
    ];
    let mut b = Binary::spawn(work.path(), &work.path().join("data"), &env);
    assert!(!b.wait_exit(Duration::from_secs(30)).success());
    let log = b.log();
    assert!(
        log.contains("schema is at version 99, newer than this sharelog knows (3)"),
        "{log}"
    );
}

#[test]
fn a_database_that_cannot_be_used_is_a_start_error_naming_it_without_the_password() {
    let work = tempfile::tempdir().unwrap();
    let nobody = free_port();
    let cases = [
        (
            format!("postgres://sharelog:{}@127.0.0.1:{nobody}/x", pg().password),
            format!("PostgreSQL at sharelog@127.0.0.1:{nobody}/x"),
            "error connecting to server",
        ),
        (
            pg().url("postgres")
                .replace(&pg().password, "wrong-password-7f3a"),
            format!("PostgreSQL at sharelog@127.0.0.1:{}/postgres", pg().port),
            "password authentication failed",
        ),
    ];
    for (i, (url, place, why)) in cases.iter().enumerate() {
        let env = [
            ("SHARELOG_STORE_ENGINE", "postgres"),
            ("SHARELOG_POSTGRES_URL", url.as_str()),
        ];
        let dir = work.path().join(i.to_string());
        std::fs::create_dir(&dir).unwrap();
        let mut b = Binary::spawn(&dir, &dir.join("data"), &env);
        assert!(!b.wait_exit(Duration::from_secs(30)).success());
        let log = b.log();
        assert!(
            log.contains(&format!("cannot open the event log in {place}")),
            "{log}"
        );
        assert!(log.contains(why), "{log}");
        assert!(
            !log.contains(&pg().password) && !log.contains("wrong-password-7f3a"),
            "{log}"
        );
    }
}

#[test]
fn a_replica_whose_connections_the_server_killed_goes_on_without_a_restart() {
    let url = pg().fresh_database();
    let (a, b) = (spawn_app(on(&url)), spawn_app(on(&url)));
    let song = &upstream::shared().album("Alpha").songs[0].id;
    let id = a.create_id(&alice(), json!({ "songs": [song] }));
    let sessions =
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
    for round in 0..3 {
        // Both committers and both watchers (at least) are connected, then all are killed.
        let started = Instant::now();
        while pg()
            .psql_url(&url, &format!("SELECT count(*) {sessions}"))
            .parse::<u32>()
            .unwrap()
            < 4
        {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "round {round}: not connected"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let killed: u32 = pg()
            .psql_url(
                &url,
                &format!("SELECT count(pg_terminate_backend(pid)) {sessions}"),
            )
            .parse()
            .unwrap();
        assert!(killed >= 4, "round {round}: {killed} connections killed");
        // Writes, reads and the other replica's catching up all come back by themselves.
        let started = Instant::now();
        let visit = a.raw("GET", &format!("/share/{id}"), &[], None);
        assert_eq!(visit.status(), 200, "round {round}: {}", visit.text());
        assert_eq!(a.raw("GET", "/readyz", &[], None).status(), 200);
        let audit = a.req("GET", "/api/audit", Some(&admin()), None);
        assert_eq!(audit.status(), 200, "round {round}: {}", audit.text());
        assert_eq!(audit.text().lines().count(), round + 2);
        while b
            .req("GET", &format!("/api/share/{id}"), Some(&alice()), None)
            .json()["visitCount"]
            != round + 1
        {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "round {round}: b never caught up"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn ranges_longer_than_a_chunk_are_read_whole_and_in_order() {
    let url = pg().fresh_database();
    let app = spawn_app(on(&url));
    let song = &upstream::shared().album("Alpha").songs[0].id;
    let first = app.create_id(&alice(), json!({ "songs": [song] }));
    let second = app.create_id(&alice(), json!({ "songs": [song] }));
    let dir = app.data_dir.clone();
    drop(app);
    let mut s = settings_for(upstream::shared(), &dir);
    on(&url)(&mut s);
    let store = Store::open_at(&s.store_location(), Policy::open(true)).unwrap();
    let ids = [
        ShareId::parse(&first).unwrap(),
        ShareId::parse(&second).unwrap(),
    ];
    // 5 000 visits, alternating between the two shares, from 32 threads.
    std::thread::scope(|scope| {
        for t in 0..32 {
            let (store, ids) = (&store, &ids);
            scope.spawn(move || {
                for k in (t * 157..(t + 1) * 157).filter(|k| *k < 5000) {
                    store
                        .execute_blocking(visit(&ids[k % 2]), None)
                        .unwrap()
                        .unwrap();
                }
            });
        }
    });
    let mut prev = [0u8; 32];
    let mut n = 0u64;
    for env in store.events(1) {
        let env = env.unwrap();
        n += 1;
        assert_eq!((env.seq, env.prev_hash), (n, prev));
        prev = env.hash;
    }
    assert_eq!(n, 5002);
    let history: Vec<u64> = store.history(&ids[0]).map(|e| e.unwrap().seq).collect();
    assert_eq!(history.len(), 2501);
    assert!(history.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(store.events(4000).count(), 1003);
    store.close();
}

/// `.ci/run` runs the suite a second time on PostgreSQL, with a list of modules: a new test
/// file must be put in that list or named among those left out (with why), not forgotten.
#[test]
fn every_suite_module_is_run_on_postgres_by_ci_or_named_as_left_out() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let main = std::fs::read_to_string(root.join("tests/main.rs")).unwrap();
    let words: std::collections::HashSet<&str> = ci
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let forgotten: Vec<&str> = main
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .filter(|m| *m != "support")
        .filter(|m| {
            let family = format!("{}_*", m.split('_').next().unwrap());
            !words.contains(m) && !ci.contains(&family)
        })
        .collect();
    assert!(
        forgotten.is_empty(),
        ".ci/run neither runs nor names: {forgotten:?}"
    );
}
