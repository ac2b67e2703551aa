//! Property tests over random sequences of share commands (create, update, add and
//! revoke links, visits and previews, bursts of concurrent visits, delete): whatever
//! the sequence, the projection folded live equals the one rebuilt from the log, and
//! no visit was ever let in past a limit (every logged event passes the rules a
//! restore checks, `check_logged`, which refuses a visit past the share's or the
//! link's limit).

use crate::support;

use proptest::prelude::*;
use sharelog::domain::*;
use sharelog::projection::Projection;
use sharelog::store::{Log, Store};
use support::commands::*;

#[derive(Debug, Clone)]
enum Op {
    Create {
        share: u8,
        max: Option<u32>,
    },
    Limit {
        share: u8,
        max: Option<u32>,
    },
    Password {
        share: u8,
        set: bool,
    },
    AddLink {
        share: u8,
        link: u8,
        max: Option<u32>,
    },
    Revoke {
        share: u8,
        link: u8,
    },
    Visit {
        share: u8,
        link: Option<u8>,
        preview: bool,
    },
    Burst {
        share: u8,
        link: Option<u8>,
        visitors: usize,
    },
    Delete {
        share: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let share = 0u8..3;
    let link = 0u8..3;
    let max = proptest::option::of(1u32..5);
    prop_oneof![
        2 => (share.clone(), max.clone()).prop_map(|(share, max)| Op::Create { share, max }),
        1 => (share.clone(), max.clone()).prop_map(|(share, max)| Op::Limit { share, max }),
        1 => (share.clone(), any::<bool>()).prop_map(|(share, set)| Op::Password { share, set }),
        2 => (share.clone(), link.clone(), max)
            .prop_map(|(share, link, max)| Op::AddLink { share, link, max }),
        1 => (share.clone(), link.clone()).prop_map(|(share, link)| Op::Revoke { share, link }),
        6 => (share.clone(), proptest::option::of(link.clone()), any::<bool>())
            .prop_map(|(share, link, preview)| Op::Visit { share, link, preview }),
        2 => (share.clone(), proptest::option::of(link), 2usize..8)
            .prop_map(|(share, link, visitors)| Op::Burst { share, link, visitors }),
        1 => share.prop_map(|share| Op::Delete { share }),
    ]
}

fn share_id(n: u8) -> ShareId {
    ShareId::from_random((u128::from(n) + 1).to_be_bytes())
}

fn link_no(share: u8, link: u8) -> u128 {
    u128::from(share) * 10 + u128::from(link)
}

fn hash() -> PasswordHash {
    PasswordHash::parse(
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
    )
    .unwrap()
}

fn update(share: u8, changes: ShareChanges) -> Command {
    Command::Update(UpdateShare {
        id: share_id(share),
        actor: alice_actor(),
        expected_version: None,
        changes,
    })
}

fn opened(share: u8, link: Option<u8>, preview_it: bool) -> Command {
    let id = share_id(share);
    let cmd = if preview_it { preview(&id) } else { visit(&id) };
    match link {
        Some(l) => via_link(cmd, link_no(share, l)),
        None => cmd,
    }
}

fn commands(op: &Op) -> Vec<Command> {
    match *op {
        Op::Create { share, max } => {
            let Command::Create(c) = create(u128::from(share) + 1, "p") else {
                unreachable!()
            };
            vec![Command::Create(CreateShare {
                max_visits: max,
                ..c
            })]
        }
        Op::Limit { share, max } => vec![update(
            share,
            ShareChanges {
                max_visits: Some(max),
                ..Default::default()
            },
        )],
        Op::Password { share, set } => vec![update(
            share,
            ShareChanges {
                password: Some(set.then(hash)),
                ..Default::default()
            },
        )],
        Op::AddLink { share, link, max } => {
            vec![add_link(&share_id(share), link_no(share, link), max)]
        }
        Op::Revoke { share, link } => vec![revoke_link(&share_id(share), link_no(share, link))],
        Op::Visit {
            share,
            link,
            preview,
        } => vec![opened(share, link, preview)],
        Op::Burst {
            share,
            link,
            visitors,
        } => (0..visitors).map(|_| opened(share, link, false)).collect(),
        Op::Delete { share } => vec![delete(&share_id(share))],
    }
}

/// Runs `ops` on a fresh store; each burst's visitors at once, from threads.
fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), POLICY).unwrap();
    for op in ops {
        let cmds = commands(op);
        if cmds.len() == 1 {
            let _ = store.execute_blocking(cmds.into_iter().next().unwrap(), None);
            continue;
        }
        let handles: Vec<_> = cmds
            .into_iter()
            .map(|c| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let _ = store.execute_blocking(c, None);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
    let live = store.projection().clone();
    // Every event as the rules a restore checks would take it: no visit past a limit,
    // none through a revoked or unknown link, versions in order.
    let mut state = std::collections::HashMap::<ShareId, Share>::new();
    for env in store.events(1) {
        let env = env.unwrap();
        let id = env.stream.share().cloned().unwrap();
        let before = state.remove(&id);
        let checked = check_logged(before.as_ref(), env.version, &env.event, env.at);
        prop_assert!(checked.is_ok(), "seq {}: {:?}", env.seq, checked);
        if let Some(next) = apply(before, &id, &env.event, env.at) {
            state.insert(id, next);
        }
    }
    prop_assert_eq!(&live, &Projection::replay(store.events(1)).unwrap());
    store.close();
    drop(store);
    let log = Log::open(tmp.path()).unwrap();
    let (rebuilt, _) = log.rebuild(&mut |_| {}).unwrap();
    prop_assert_eq!(&rebuilt, &live);
    prop_assert_eq!(
        &log.fold_while(|_| true, &mut |_| {}).unwrap().shares,
        &live
    );
    drop(log);
    let reopened = Store::open(tmp.path(), POLICY).unwrap();
    prop_assert_eq!(&*reopened.projection(), &live);
    reopened.close();
    Ok(())
}

proptest! {
    // Each case opens a real store and fsyncs every command: few cases, long sequences.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_log_rebuilds_the_live_projection_and_no_visit_passes_a_limit(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        // Most sequences start by creating something to act on.
        let mut all = vec![Op::Create { share: 0, max: Some(3) }];
        all.extend(ops);
        run(&all)?;
    }
}
