#![allow(clippy::unwrap_used)]
use super::*;
use crate::domain::ShareId;
use crate::notify::news::Kinds;
use time::OffsetDateTime;

fn user(name: &str) -> UserId {
    UserId(name.into())
}

fn news(seq: u64) -> News {
    News {
        seq,
        event_id: format!("e{seq}").into(),
        at: OffsetDateTime::UNIX_EPOCH,
        kinds: Kinds::default(),
        spent: Default::default(),
        share: ShareId::parse("s").unwrap(),
        link: None,
        visit: None,
    }
}

const SMALL: Bounds = Bounds {
    per_owner: 2,
    total: 3,
};

/// A log where `owner_of(seq)` says whose news each event is (None: nobody's).
struct Log(Vec<Option<&'static str>>);

impl Log {
    fn owner(&self, seq: u64) -> Option<&'static str> {
        self.0[(seq - 1) as usize]
    }

    fn last(&self) -> u64 {
        self.0.len() as u64
    }

    /// Reads from where the outbox says, up to the end or `chunk` events.
    fn read(&self, o: &mut Outbox, chunk: u64) {
        let from = o.read_from();
        for seq in from..=self.last().min(from + chunk - 1) {
            o.take(seq, self.owner(seq).map(|u| (user(u), news(seq))));
        }
    }
}

/// Sends every due news of `owner` that succeeds, in order; the seqs sent.
fn send_all(o: &mut Outbox, owner: &str) -> Vec<u64> {
    let mut sent = Vec::new();
    while let Some((n, _)) = o.start(&user(owner)) {
        assert_eq!(o.finish(&user(owner)), Some(n.seq));
        sent.push(n.seq);
    }
    sent
}

#[test]
fn news_is_held_per_owner_in_order_and_the_cursor_waits_for_the_oldest() {
    let log = Log(vec![Some("a"), None, Some("b"), Some("a")]);
    let mut o = Outbox::new(0, BOUNDS);
    log.read(&mut o, 100);
    assert_eq!(o.held(), 3);
    assert_eq!(o.cursor(), 0, "a's news at 1 is not sent yet");
    let mut due = o.due(Instant::now());
    due.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(due, vec![user("a"), user("b")]);
    assert_eq!(send_all(&mut o, "b"), vec![3]);
    assert_eq!(o.cursor(), 0);
    assert_eq!(send_all(&mut o, "a"), vec![1, 4]);
    assert_eq!(o.cursor(), 4);
    assert_eq!(o.held(), 0);
    assert_eq!(o.read_from(), 5);
}

#[test]
fn an_owner_without_room_falls_behind_and_reads_the_log_again_in_order() {
    // a's target is down: a holds 2 and falls behind at 5; b goes on.
    let log = Log(vec![
        Some("a"),
        Some("a"),
        Some("b"),
        None,
        Some("a"),
        Some("b"),
        Some("a"),
    ]);
    let mut o = Outbox::new(0, SMALL);
    log.read(&mut o, 100);
    assert_eq!(o.read_to(), 7);
    assert_eq!(o.held(), 3, "a: 1, 2; b: 3; then the total is reached");
    assert_eq!(o.cursor(), 0);
    assert_eq!(o.read_from(), 8, "nobody behind has room");
    assert_eq!(send_all(&mut o, "b"), vec![3]);
    // b fell behind at 6 (the total was full); it has room now and reads again from 6.
    assert_eq!(o.read_from(), 6);
    log.read(&mut o, 100);
    assert_eq!(send_all(&mut o, "b"), vec![6]);
    // a's first failed and is retried later; nothing is lost meanwhile.
    let (n, failures) = o.start(&user("a")).unwrap();
    assert_eq!((n.seq, failures), (1, 0));
    let later = Instant::now() + std::time::Duration::from_secs(60);
    o.retry(&user("a"), later);
    assert!(o.due(Instant::now()).is_empty());
    assert_eq!(o.next_retry(), Some(later));
    assert_eq!(o.start(&user("a")).unwrap().1, 1, "one failure so far");
    assert_eq!(o.finish(&user("a")), Some(1));
    // a has room again: the log is read again from where a stopped (4), for a alone.
    assert_eq!(o.read_from(), 5);
    let mut sent = send_all(&mut o, "a");
    while o.read_from() <= log.last() {
        log.read(&mut o, 1);
        sent.extend(send_all(&mut o, "a"));
    }
    assert_eq!(sent, vec![2, 5, 7], "every news of a's, once, in order");
    assert_eq!(
        send_all(&mut o, "b"),
        Vec::<u64>::new(),
        "b got nothing twice"
    );
    assert_eq!(o.cursor(), 7);
    assert_eq!(o.held(), 0);
}

#[test]
fn memory_stays_within_the_bounds_however_many_events_come() {
    let mut o = Outbox::new(0, SMALL);
    for seq in 1..=10_000 {
        let owner = ["a", "b", "c", "d"][(seq % 4) as usize];
        o.take(seq, Some((user(owner), news(seq))));
        assert!(o.held() <= SMALL.total);
    }
    assert_eq!(o.held(), 3);
    assert_eq!(o.read_to(), 10_000);
    assert!(o.cursor() < 10, "the cursor waits at the oldest news");
}

#[test]
fn news_sent_before_a_restart_are_skipped_by_the_owners_mark() {
    let log = Log(vec![Some("a"), Some("b"), Some("a"), Some("a")]);
    // b's news at 2 was stuck; a had sent 1 and 3 (its mark: 3); the cursor stayed at 0.
    let mut o = Outbox::new(0, BOUNDS);
    o.set_mark(&user("a"), 3);
    assert!(o.knows_mark(&user("a")));
    log.read(&mut o, 100);
    assert_eq!(send_all(&mut o, "a"), vec![4]);
    assert_eq!(send_all(&mut o, "b"), vec![2]);
    assert_eq!(o.cursor(), 4);
}

#[test]
fn a_first_read_starts_after_the_cursor() {
    let mut o = Outbox::new(41, BOUNDS);
    assert_eq!(o.read_from(), 42);
    assert_eq!(o.cursor(), 41);
    o.take(42, None);
    assert_eq!(o.cursor(), 42);
}
