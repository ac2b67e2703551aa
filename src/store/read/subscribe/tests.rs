//! The feed alone: queues, drops and the cap, without a store.
#![allow(clippy::unwrap_used)]
use super::*;

fn lines(seqs: std::ops::RangeInclusive<u64>) -> Vec<u8> {
    seqs.flat_map(|s| format!("{{\"seq\":{s}}}\n").into_bytes())
        .collect()
}

fn publish(feed: &Feed, first: u64, last: u64) {
    feed.publish(first, last, &mut lines(first..=last));
}

#[actix_web::test]
async fn a_follower_gets_batches_published_after_it_subscribed_with_their_seqs() {
    let feed = Arc::new(Feed::new(2));
    publish(&feed, 3, 3);
    let mut sub = feed.subscribe(4, 8).unwrap();
    publish(&feed, 4, 6);
    let batch = sub.recv().await.unwrap();
    assert_eq!((batch.first_seq, batch.last_seq), (4, 6));
    let got: Vec<(u64, Vec<u8>)> = batch.lines().map(|(s, l)| (s, l.to_vec())).collect();
    assert_eq!(got[2], (6, b"{\"seq\":6}".to_vec()));
    assert_eq!(got.len(), 3);
    assert_eq!(feed.durable_seq(), 6);
}

#[actix_web::test]
async fn a_full_queue_misses_batches_without_blocking_the_publisher() {
    let feed = Arc::new(Feed::new(0));
    let mut sub = feed.subscribe(1, 8).unwrap();
    for seq in 1..=100 {
        publish(&feed, seq, seq);
    }
    assert_eq!(feed.durable_seq(), 100);
    // Only the first fitted; the follower sees a gap at the next one.
    assert!(!sub.dry_after_a_miss(), "not dry: batch 1 is still queued");
    assert_eq!(sub.recv().await.unwrap().last_seq, 1);
    publish(&feed, 101, 101);
    assert_eq!(sub.recv().await.unwrap().first_seq, 101);
}

#[actix_web::test]
async fn a_follower_whose_last_batches_were_dropped_is_told_once_its_queue_is_dry() {
    let feed = Arc::new(Feed::new(0));
    let mut sub = feed.subscribe(1, 8).unwrap();
    publish(&feed, 1, 1);
    assert!(!sub.dry_after_a_miss(), "nothing dropped yet");
    publish(&feed, 2, 2); // dropped, and nothing comes after it to show the gap
    assert_eq!(sub.recv().await.unwrap().last_seq, 1);
    assert!(sub.dry_after_a_miss());
    assert_eq!(feed.durable_seq(), 2, "what is missing is up to here");
    assert!(!sub.dry_after_a_miss(), "said once");
    publish(&feed, 3, 3);
    assert!(!sub.dry_after_a_miss(), "batch 3 fitted");
}

#[test]
fn the_cap_counts_live_followers_only() {
    let feed = Arc::new(Feed::new(0));
    let one = feed.subscribe(1, 2).unwrap();
    let _two = feed.subscribe(1, 2).unwrap();
    assert_eq!(feed.subscribe(1, 2).err().map(|e| e.max), Some(2));
    drop(one);
    assert!(feed.subscribe(1, 2).is_ok());
    assert!(Arc::new(Feed::new(0)).subscribe(1, 0).is_err());
}

#[test]
fn with_nobody_listening_nothing_is_taken_or_queued() {
    let feed = Feed::new(0);
    let mut batch = lines(1..=2);
    feed.publish(1, 2, &mut batch);
    assert_eq!(batch, lines(1..=2), "not taken: nobody would read them");
    assert_eq!(feed.durable_seq(), 2);
}

#[actix_web::test]
async fn closing_the_feed_ends_every_follower() {
    let feed = Arc::new(Feed::new(0));
    let mut sub = feed.subscribe(4, 8).unwrap();
    feed.close();
    assert!(sub.recv().await.is_none());
}
