//! The owner's controls: visit limits, links per recipient, the password version.

use super::*;

pub(super) fn hash(n: u8) -> PasswordHash {
    PasswordHash::parse(&format!(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ{n}$aGFzaGhhc2g"
    ))
    .expect("a PHC string")
}

pub(super) fn link(n: u8) -> LinkId {
    LinkId::from_random([n; 16])
}

pub(super) fn add_link(n: u8, max_visits: Option<u32>) -> Command {
    Command::AddLink(AddLink {
        id: id(),
        actor: alice(),
        link: link(n),
        label: format!("friend {n}"),
        max_visits,
    })
}

pub(super) fn revoke(n: u8) -> Command {
    Command::RevokeLink(RevokeLink {
        id: id(),
        actor: alice(),
        link: link(n),
    })
}

pub(super) fn open_via(kind: VisitKind, n: Option<u8>) -> Command {
    let Command::Visit(mut v) = open(kind) else {
        unreachable!()
    };
    v.visit.link = n.map(link);
    Command::Visit(v)
}

pub(super) fn limited(max: u32) -> Option<Share> {
    let c = CreateShare {
        max_visits: Some(max),
        ..create_cmd()
    };
    let events = decide(None, &Command::Create(c), &ALLOW, NOW).expect("create");
    given(&events)
}

/// Decides and applies `cmd`, as the store does; the refusal if any.
pub(super) fn run(state: &mut Option<Share>, cmd: Command) -> Result<(), DomainError> {
    for e in when(state, cmd)? {
        *state = apply(state.take(), &id(), &e, NOW);
    }
    Ok(())
}

#[test]
fn a_share_at_its_limit_refuses_visits_but_takes_previews() {
    let mut s = limited(2);
    run(&mut s, visit()).unwrap();
    run(&mut s, visit()).unwrap();
    assert_eq!(run(&mut s, visit()), Err(DomainError::VisitLimitReached));
    run(&mut s, preview()).unwrap();
    let s = s.unwrap();
    assert_eq!((s.visit_count, s.preview_count), (2, 1));
}

#[test]
fn lowering_the_limit_below_the_count_spends_the_link_and_removing_it_reopens() {
    let mut s = limited(5);
    run(&mut s, visit()).unwrap();
    run(&mut s, visit()).unwrap();
    let lower = ShareChanges {
        max_visits: Some(Some(1)),
        ..Default::default()
    };
    run(&mut s, update(alice(), lower)).unwrap();
    assert_eq!(run(&mut s, visit()), Err(DomainError::VisitLimitReached));
    let remove = ShareChanges {
        max_visits: Some(None),
        ..Default::default()
    };
    run(&mut s, update(alice(), remove)).unwrap();
    run(&mut s, visit()).unwrap();
    assert_eq!(s.unwrap().max_visits, None);
}

#[test]
fn a_visit_limit_outside_1_to_a_million_is_refused_naming_the_field() {
    for bad in [0, MAX_VISITS + 1] {
        let c = CreateShare {
            max_visits: Some(bad),
            ..create_cmd()
        };
        assert!(matches!(
            when(&None, Command::Create(c)),
            Err(DomainError::Invalid {
                field: "maxVisits",
                ..
            })
        ));
    }
}

#[test]
fn a_visit_through_a_link_counts_for_the_link_and_the_share() {
    let mut s = given(&[created()]);
    run(&mut s, add_link(1, None)).unwrap();
    run(&mut s, add_link(2, None)).unwrap();
    run(&mut s, open_via(VisitKind::Visit, Some(1))).unwrap();
    run(&mut s, open_via(VisitKind::Preview, Some(1))).unwrap();
    run(&mut s, open_via(VisitKind::Visit, None)).unwrap();
    let s = s.unwrap();
    assert_eq!((s.visit_count, s.preview_count), (2, 1));
    let one = s.link(&link(1)).unwrap();
    assert_eq!((one.visit_count, one.preview_count), (1, 1));
    assert_eq!(one.last_visited_at, Some(NOW));
    assert_eq!(s.link(&link(2)).unwrap().visit_count, 0);
    assert_eq!(s.links.len(), 2);
    assert_eq!(s.links[0].label, "friend 1", "oldest first");
}

#[test]
fn a_link_at_its_own_limit_refuses_visits_while_the_share_and_other_links_go_on() {
    let mut s = given(&[created()]);
    run(&mut s, add_link(1, Some(1))).unwrap();
    run(&mut s, add_link(2, None)).unwrap();
    run(&mut s, open_via(VisitKind::Visit, Some(1))).unwrap();
    assert_eq!(
        run(&mut s, open_via(VisitKind::Visit, Some(1))),
        Err(DomainError::VisitLimitReached)
    );
    run(&mut s, open_via(VisitKind::Preview, Some(1))).unwrap();
    run(&mut s, open_via(VisitKind::Visit, Some(2))).unwrap();
    run(&mut s, visit()).unwrap();
}

#[test]
fn the_shares_limit_counts_visits_through_every_link() {
    let mut s = limited(2);
    run(&mut s, add_link(1, None)).unwrap();
    run(&mut s, add_link(2, None)).unwrap();
    run(&mut s, open_via(VisitKind::Visit, Some(1))).unwrap();
    run(&mut s, open_via(VisitKind::Visit, Some(2))).unwrap();
    assert_eq!(
        run(&mut s, open_via(VisitKind::Visit, Some(1))),
        Err(DomainError::VisitLimitReached)
    );
    assert_eq!(run(&mut s, visit()), Err(DomainError::VisitLimitReached));
}

#[test]
fn a_revoked_link_is_gone_for_visits_and_previews_and_cannot_be_revoked_again() {
    let mut s = given(&[created()]);
    run(&mut s, add_link(1, None)).unwrap();
    run(&mut s, revoke(1)).unwrap();
    for kind in VisitKind::ALL {
        assert_eq!(
            run(&mut s, open_via(kind, Some(1))),
            Err(DomainError::LinkRevoked)
        );
    }
    assert_eq!(run(&mut s, revoke(1)), Err(DomainError::LinkRevoked));
    assert_eq!(s.unwrap().links[0].revoked_at, Some(NOW));
}

#[test]
fn an_unknown_link_is_not_found_and_links_of_another_users_share_are_hidden() {
    let mut s = given(&[created()]);
    assert_eq!(
        run(&mut s, open_via(VisitKind::Visit, Some(9))),
        Err(DomainError::NotFound)
    );
    assert_eq!(run(&mut s, revoke(9)), Err(DomainError::NotFound));
    let by_bob = Command::AddLink(AddLink {
        actor: bob(),
        ..match add_link(1, None) {
            Command::AddLink(a) => a,
            _ => unreachable!(),
        }
    });
    assert_eq!(run(&mut s, by_bob), Err(DomainError::NotFound));
}

#[test]
fn a_label_and_a_links_limit_keep_their_rules_and_a_share_has_at_most_100_links() {
    let mut s = given(&[created()]);
    let labelled = |label: &str| {
        Command::AddLink(AddLink {
            id: id(),
            actor: alice(),
            link: link(200),
            label: label.into(),
            max_visits: None,
        })
    };
    assert!(matches!(
        when(&s, labelled(" ")),
        Err(DomainError::Invalid { field: "label", .. })
    ));
    assert!(matches!(
        when(&s, add_link(1, Some(0))),
        Err(DomainError::Invalid {
            field: "maxVisits",
            ..
        })
    ));
    let trimmed = when(&s, labelled("  Bob ")).unwrap();
    assert!(matches!(&trimmed[0], Event::ShareLinkAdded(l) if l.label == "Bob"));
    // `link(7)` is spelled like the share's own id (`id()`): refused like a taken id.
    assert_eq!(
        run(&mut s, add_link(7, None)),
        Err(DomainError::AlreadyExists)
    );
    for n in 100..200 {
        run(&mut s, add_link(n, None)).unwrap();
    }
    assert!(matches!(
        run(&mut s, add_link(250, None)),
        Err(DomainError::Invalid { field: "label", .. })
    ));
    assert_eq!(
        run(&mut s, add_link(150, None)),
        Err(DomainError::AlreadyExists)
    );
}

#[test]
fn the_password_version_moves_with_every_set_change_and_removal_only() {
    let c = CreateShare {
        password: Some(hash(1)),
        ..create_cmd()
    };
    let mut s = given(&decide(None, &Command::Create(c), &ALLOW, NOW).unwrap());
    assert_eq!(s.as_ref().unwrap().password_version, 1);
    let rename = ShareChanges {
        description: Some(Some("other".into())),
        ..Default::default()
    };
    run(&mut s, update(alice(), rename)).unwrap();
    run(&mut s, visit()).unwrap();
    assert_eq!(s.as_ref().unwrap().password_version, 1);
    let change = ShareChanges {
        password: Some(Some(hash(2))),
        ..Default::default()
    };
    run(&mut s, update(alice(), change)).unwrap();
    assert_eq!(s.as_ref().unwrap().password_version, 4);
    let remove = ShareChanges {
        password: Some(None),
        ..Default::default()
    };
    run(&mut s, update(alice(), remove.clone())).unwrap();
    let after = s.as_ref().unwrap();
    assert_eq!((after.password_version, after.has_password()), (5, false));
    assert_eq!(
        when(&s, update(alice(), remove)),
        Ok(vec![]),
        "nothing to remove"
    );
}
