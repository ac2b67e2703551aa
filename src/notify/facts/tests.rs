#![allow(clippy::unwrap_used)]
use super::*;
use crate::domain::{StreamId, VisitKind};
use crate::notify::test_log::*;

/// Every visit of the log with its seq, its share and its stream version.
fn visits(store: &Store) -> Vec<(u64, ShareId, u64)> {
    store
        .events(1)
        .map(|e| e.unwrap())
        .filter(|e| matches!(e.event, Event::ShareVisited(_)))
        .map(|e| match &e.stream {
            StreamId::Share(id) => (e.seq, id.clone(), e.version),
            StreamId::Owner(_) => unreachable!(),
        })
        .collect()
}

/// The facts of every visit, asked in seq order with each event advanced first (as the
/// worker reads), or cold (each asked of an empty cache: folded from the stream).
fn facts(store: &Store, warm: bool) -> Vec<VisitFacts> {
    let mut f = Facts::default();
    let mut out = Vec::new();
    for env in store.events(1).map(|e| e.unwrap()) {
        let StreamId::Share(id) = &env.stream else {
            continue;
        };
        if warm {
            f.advance(id, &env);
        }
        if matches!(env.event, Event::ShareVisited(_)) {
            let mut cold = Facts::default();
            let cache = if warm { &mut f } else { &mut cold };
            out.push(cache.visit(store, id, env.version).unwrap());
        }
    }
    out
}

#[test]
fn first_visits_once_per_share_and_per_link_and_used_up_limits_exactly() {
    let store = store();
    let a = create(&store, 1, "A", Some(3));
    let b = create(&store, 2, "B", None);
    let bob = add_link(&store, &a, 1, "Bob", Some(1));
    let carol = add_link(&store, &a, 2, "Carol", None);
    open(&store, &a, None, VisitKind::Preview, false)
        .unwrap()
        .unwrap(); // a preview is no visit
    visit(&store, &a, None); // A's first
    visit(&store, &b, None); // B's first
    visit(&store, &a, Some(&bob)); // Bob's first, and his link's limit (1)
    visit(&store, &b, None);
    visit(&store, &a, Some(&carol)); // Carol's first, and A's limit (3)
    assert!(
        matches!(
            open(&store, &a, None, VisitKind::Visit, false),
            Ok(Err(crate::store::Refusal::Rule(
                crate::domain::DomainError::VisitLimitReached
            )))
        ),
        "A is used up"
    );

    let first = |share, link| VisitFacts {
        first: true,
        spent: Spent { share, link },
    };
    let expected = vec![
        first(false, false),
        first(false, false),
        first(false, true),
        VisitFacts::default(),
        first(true, false),
    ];
    assert_eq!(facts(&store, true), expected, "read in order");
    assert_eq!(
        facts(&store, false),
        expected,
        "each folded from its stream"
    );
    assert_eq!(visits(&store).len(), 5);
}

/// A recipient opening the share before anyone used its own link does not stand for the
/// share's own link: each tells its first opening once.
#[test]
fn the_shares_own_link_has_its_first_visit_also_after_a_recipients() {
    let store = store();
    let a = create(&store, 1, "A", None);
    let bob = add_link(&store, &a, 1, "Bob", None);
    visit(&store, &a, Some(&bob)); // Bob's first
    visit(&store, &a, None); // the share's own first
    visit(&store, &a, Some(&bob));
    visit(&store, &a, None);
    let first = VisitFacts {
        first: true,
        spent: Spent::default(),
    };
    let expected = vec![first, first, VisitFacts::default(), VisitFacts::default()];
    assert_eq!(facts(&store, true), expected, "read in order");
    assert_eq!(
        facts(&store, false),
        expected,
        "each folded from its stream"
    );
}

#[test]
fn an_older_visit_is_answered_from_the_fold_and_a_share_not_kept_is_folded_again() {
    let store = store();
    let a = create(&store, 1, "A", None);
    for _ in 0..3 {
        visit(&store, &a, None);
    }
    let v = visits(&store);
    let mut f = Facts::default();
    // Asked about the last visit first: folded up to it; then the first, from the fold.
    assert!(!f.visit(&store, &a, v[2].2).unwrap().first);
    assert!(f.visit(&store, &a, v[0].2).unwrap().first);
    // More shares than are kept: the first is dropped, and folded again when asked.
    for n in 0..MAX_SHARES as u128 {
        f.keep(ShareId::from_random((n + 100).to_be_bytes()));
    }
    assert_eq!(f.len(), MAX_SHARES);
    assert!(!f.folds.contains_key(&a));
    assert!(f.visit(&store, &a, v[0].2).unwrap().first);
    assert_eq!(f.len(), MAX_SHARES);
}

#[test]
fn a_kept_fold_drops_the_items_of_the_share() {
    let store = store();
    let a = create(&store, 1, "A", None);
    visit(&store, &a, None);
    let mut f = Facts::default();
    f.visit(&store, &a, 2).unwrap();
    let share = f.folds[&a].share.as_ref().unwrap();
    assert!(share.items.is_empty());
    assert_eq!(share.visit_count, 1);
}
