use super::*;

fn t(id: &str) -> Vec<Track> {
    vec![Track {
        id: id.into(),
        title: String::new(),
        artist: String::new(),
        album: String::new(),
        track: 0,
        duration: 0,
        content_type: String::new(),
        suffix: String::new(),
    }]
}

async fn fetch(id: &str) -> Result<Vec<Track>, UpstreamError> {
    Ok(t(id))
}

#[actix_web::test]
async fn a_hit_does_not_fetch_again() {
    let c = MetaCache::new(Duration::from_secs(60), 10);
    c.get_or_fetch(Kind::Album, "a", fetch("1")).await.unwrap();
    let again = c
        .get_or_fetch(Kind::Album, "a", async { Err(UpstreamError::NotFound) })
        .await
        .unwrap();
    assert_eq!(again[0].id, "1");
}

#[actix_web::test]
async fn the_cache_never_holds_more_than_its_bound() {
    let c = MetaCache::new(Duration::from_secs(60), 3);
    for i in 0..10 {
        let id = i.to_string();
        c.get_or_fetch(Kind::Song, &id, fetch(&id)).await.unwrap();
    }
    assert_eq!(c.len(), 3);
}

#[actix_web::test]
async fn one_request_refetches_an_expired_entry_while_the_others_serve_it_as_it_was() {
    // 1 s: the steps below must fall between expired (1 s) and gone (2 s) on a busy machine.
    let c = MetaCache::new(Duration::from_millis(1000), 3);
    c.get_or_fetch(Kind::Album, "a", fetch("1")).await.unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    // The refetch is under way (its future polled once, then parked on the music server).
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let refetch = c.get_or_fetch(Kind::Album, "a", async {
        let _ = rx.await;
        fetch("2").await
    });
    let mut refetch = Box::pin(refetch);
    assert!(futures_util::FutureExt::now_or_never(&mut refetch).is_none());
    let meanwhile = c
        .get_or_fetch(Kind::Album, "a", async { panic!("a second fetch") })
        .await
        .unwrap();
    assert_eq!(meanwhile[0].id, "1");
    let _ = tx.send(());
    assert_eq!(refetch.await.unwrap()[0].id, "2");
    assert_eq!(
        c.get_or_fetch(Kind::Album, "a", fetch("3")).await.unwrap()[0].id,
        "2"
    );
}

#[actix_web::test]
async fn a_refetch_that_is_dropped_or_fails_lets_the_next_request_try_and_serves_the_old_list() {
    // A ttl of 1 s leaves 0.9 s between "expired" and "gone" for the steps below: a busy
    // machine (50 ms left 40 ms, which a loaded CI machine overran) cannot make it flaky.
    let c = MetaCache::new(Duration::from_millis(1000), 3);
    c.get_or_fetch(Kind::Song, "s", fetch("1")).await.unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let mut dropped = Box::pin(c.get_or_fetch(Kind::Song, "s", std::future::pending()));
    assert!(futures_util::FutureExt::now_or_never(&mut dropped).is_none());
    drop(dropped);
    // The music server is down: the expired list is served rather than a 502.
    let failed = c
        .get_or_fetch(Kind::Song, "s", async {
            Err(UpstreamError::Unavailable("down".into()))
        })
        .await;
    assert_eq!(failed.unwrap()[0].id, "1");
    assert_eq!(
        c.get_or_fetch(Kind::Song, "s", fetch("2")).await.unwrap()[0].id,
        "2"
    );
    // Past twice the ttl an entry is gone: a failure is a failure again.
    std::thread::sleep(Duration::from_millis(2100));
    let gone = c
        .get_or_fetch(Kind::Song, "s", async {
            Err(UpstreamError::Unavailable("down".into()))
        })
        .await;
    assert!(gone.is_err());
}

#[actix_web::test]
async fn expired_entries_are_fetched_again_and_failures_are_not_kept() {
    let c = MetaCache::new(Duration::from_millis(0), 3);
    c.get_or_fetch(Kind::Album, "a", fetch("1")).await.unwrap();
    let r = c
        .get_or_fetch(Kind::Album, "a", async {
            Err(UpstreamError::Unavailable("down".into()))
        })
        .await;
    assert!(r.is_err());
}

#[actix_web::test]
async fn concurrent_misses_fetch_once_and_share_the_answer_or_the_failure() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let c = MetaCache::new(Duration::from_secs(60), 10);
    let calls = AtomicUsize::new(0);
    for (outcome, id) in [(Ok(()), "a"), (Err(()), "b")] {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let rx = std::sync::Mutex::new(Some(rx));
        let one = |_| {
            c.get_or_fetch(Kind::Album, id, async {
                calls.fetch_add(1, Ordering::SeqCst);
                let waiting = rx.lock().unwrap().take();
                if let Some(rx) = waiting {
                    let _ = rx.await;
                }
                match outcome {
                    Ok(()) => fetch("1").await,
                    Err(()) => Err(UpstreamError::Unavailable("down".into())),
                }
            })
        };
        let mut all: Vec<_> = (0..16).map(|i| Box::pin(one(i))).collect();
        for f in all.iter_mut() {
            assert!(futures_util::FutureExt::now_or_never(f).is_none());
        }
        let _ = tx.send(());
        let results = futures_util::future::join_all(all).await;
        assert!(results.iter().all(|r| r.is_ok() == outcome.is_ok()));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one fetch per key");
    // A shared failure is not kept: the next request fetches again.
    let again = c.get_or_fetch(Kind::Album, "b", fetch("2")).await.unwrap();
    assert_eq!(again[0].id, "2");
}
