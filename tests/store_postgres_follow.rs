//! Followers of the log on PostgreSQL (the notification worker is one): their cursors
//! are kept in the database for every replica, and exactly one replica leads a piece
//! of work, until its session ends (closed, or gone as with a kill -9), when another
//! takes it over. On a real PostgreSQL, with two stores on one database.
use crate::support;

use sharelog::domain::Policy;
use sharelog::store::{DatabaseUrl, Location, Store};
use std::time::{Duration, Instant};
use support::postgres;

fn replica(url: &str) -> Store {
    Store::open_at(
        &Location::Postgres(DatabaseUrl::new(url)),
        Policy::open(true),
    )
    .unwrap()
}

/// Polls `f` until it holds, for at most 5 s.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(5), "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_cursor_is_kept_for_every_replica_and_across_restarts() {
    let url = postgres::shared().fresh_database();
    let (a, b) = (replica(&url), replica(&url));
    assert_eq!(a.cursor("notify").unwrap(), 0);
    a.set_cursor("notify", 7).unwrap();
    assert_eq!(b.cursor("notify").unwrap(), 7);
    b.set_cursor("notify", 9).unwrap();
    b.set_cursor("other", 3).unwrap();
    assert_eq!(a.cursor("notify").unwrap(), 9);
    a.close();
    b.close();
    let c = replica(&url);
    assert_eq!(
        (c.cursor("notify").unwrap(), c.cursor("other").unwrap()),
        (9, 3)
    );
    // Asked from an async runtime (a server's worker may), the calls do not panic.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        c.set_cursor("notify", 10).unwrap();
        assert_eq!(c.cursor("notify").unwrap(), 10);
        assert!(c.leads("notify").unwrap());
    });
    c.close();
}

#[test]
fn one_replica_leads_a_work_until_its_session_ends_and_then_another_does() {
    let url = postgres::shared().fresh_database();
    let (a, b) = (replica(&url), replica(&url));
    assert!(a.leads("notify").unwrap());
    assert!(!b.leads("notify").unwrap());
    // Asking again changes nothing; another work is led apart.
    assert!(a.leads("notify").unwrap());
    assert!(!b.leads("notify").unwrap());
    assert!(b.leads("digest").unwrap());
    assert!(!a.leads("digest").unwrap());

    // a's session ends as a killed process's does: the server drops it.
    let killed = postgres::shared().psql_url(
        &url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
         WHERE locktype = 'advisory' AND objsubid = 2 AND granted \
           AND objid::bigint = hashtext('notify')::bigint & 4294967295",
    );
    assert_eq!(killed, "1");
    eventually("b takes the work over", || b.leads("notify").unwrap());
    // a learns it no longer leads, and does not take it back.
    assert!(!a.leads("notify").unwrap());
    assert!(b.leads("notify").unwrap());

    // A replica that closes lets go at once.
    b.close();
    eventually("a takes the work over from a closed replica", || {
        a.leads("notify").unwrap()
    });
    assert!(a.leads("digest").unwrap());
    a.close();
}
