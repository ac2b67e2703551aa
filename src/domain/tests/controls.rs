//! The owner's controls: passwords, visit limits, links per recipient, the policy.

use super::*;

fn hash(n: u8) -> PasswordHash {
    PasswordHash::parse(&format!(
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ{n}$aGFzaGhhc2g"
    ))
    .expect("a PHC string")
}

fn link(n: u8) -> LinkId {
    LinkId::from_random([n; 16])
}

fn add_link(n: u8, max_visits: Option<u32>) -> Command {
    Command::AddLink(AddLink {
        id: id(),
        actor: alice(),
        link: link(n),
        label: format!("friend {n}"),
        max_visits,
    })
}

fn revoke(n: u8) -> Command {
    Command::RevokeLink(RevokeLink {
        id: id(),
        actor: alice(),
        link: link(n),
    })
}

fn open_via(kind: VisitKind, n: Option<u8>) -> Command {
    let Command::Visit(mut v) = open(kind) else {
        unreachable!()
    };
    v.visit.link = n.map(link);
    Command::Visit(v)
}

fn limited(max: u32) -> Option<Share> {
    let c = CreateShare {
        max_visits: Some(max),
        ..create_cmd()
    };
    let events = decide(None, &Command::Create(c), &ALLOW, NOW).expect("create");
    given(&events)
}

/// Decides and applies `cmd`, as the store does; the refusal if any.
fn run(state: &mut Option<Share>, cmd: Command) -> Result<(), DomainError> {
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

fn policy() -> Policy {
    Policy::open(true)
}

#[test]
fn a_user_outside_allowed_users_may_not_create_or_add_links_but_may_revoke_and_delete() {
    let only_bob = Policy {
        allowed_users: vec!["bob".into()],
        ..policy()
    };
    let create = Command::Create(create_cmd());
    assert_eq!(
        decide(None, &create, &only_bob, NOW),
        Err(DomainError::SharingNotAllowed)
    );
    let as_admin = Command::Create(CreateShare {
        actor: admin(),
        ..create_cmd()
    });
    assert!(
        decide(None, &as_admin, &only_bob, NOW).is_ok(),
        "admins always may"
    );
    let mut s = given(&[created()]);
    run(&mut s, add_link(1, None)).unwrap();
    let st = s.as_ref();
    assert_eq!(
        decide(st, &add_link(2, None), &only_bob, NOW),
        Err(DomainError::SharingNotAllowed)
    );
    assert!(decide(st, &revoke(1), &only_bob, NOW).is_ok());
    let del = Command::Delete(DeleteShare {
        id: id(),
        actor: alice(),
        expected_version: None,
    });
    assert!(decide(st, &del, &only_bob, NOW).is_ok());
}

#[test]
fn a_create_without_an_expiry_gets_the_default_else_the_maximum() {
    let expiry = |p: &Policy, e: Option<OffsetDateTime>| {
        let c = CreateShare {
            expires_at: e,
            ..create_cmd()
        };
        match decide(None, &Command::Create(c), p, NOW) {
            Ok(events) => match &events[0] {
                Event::ShareCreated(c) => Ok(c.expires_at),
                _ => unreachable!(),
            },
            Err(e) => Err(e),
        }
    };
    let both = Policy {
        default_expires_in: 3600,
        max_expires_in: 86_400,
        ..policy()
    };
    assert_eq!(expiry(&both, None), Ok(Some(NOW + Duration::hours(1))));
    let max_only = Policy {
        max_expires_in: 86_400,
        ..policy()
    };
    assert_eq!(expiry(&max_only, None), Ok(Some(NOW + Duration::days(1))));
    assert_eq!(expiry(&policy(), None), Ok(None));
    assert_eq!(
        expiry(&max_only, Some(NOW + Duration::days(2))),
        Err(DomainError::ExpiryTooFar {
            field: "expiresAt",
            max_seconds: 86_400
        })
    );
    assert_eq!(
        expiry(&max_only, Some(NOW + Duration::days(1))),
        Ok(Some(NOW + Duration::days(1)))
    );
}

#[test]
fn an_update_may_not_clear_or_push_the_expiry_past_the_maximum() {
    let max_only = Policy {
        max_expires_in: 86_400,
        ..policy()
    };
    let expiring = Event::ShareUpdated(ShareChanges {
        expires_at: Some(Some(NOW + Duration::hours(1))),
        ..Default::default()
    });
    let s = given(&[created(), expiring]);
    for e in [None, Some(NOW + Duration::days(3))] {
        let c = update(
            alice(),
            ShareChanges {
                expires_at: Some(e),
                ..Default::default()
            },
        );
        assert!(matches!(
            decide(s.as_ref(), &c, &max_only, NOW),
            Err(DomainError::ExpiryTooFar { .. })
        ));
    }
}

#[test]
fn downloadable_defaults_by_policy_only_where_downloads_are_allowed() {
    let downloadable = |p: &Policy| match decide(
        None,
        &Command::Create(CreateShare {
            downloadable: None,
            ..create_cmd()
        }),
        p,
        NOW,
    ) {
        Ok(events) => matches!(&events[0], Event::ShareCreated(c) if c.downloadable),
        Err(e) => panic!("{e}"),
    };
    let on = Policy {
        default_downloadable: true,
        ..policy()
    };
    assert!(downloadable(&on));
    assert!(!downloadable(&policy()));
    let off = Policy {
        default_downloadable: true,
        ..Policy::open(false)
    };
    assert!(!downloadable(&off), "a default never breaks allowDownloads");
}

#[test]
fn require_password_refuses_a_create_without_one_and_an_update_removing_it() {
    let strict = Policy {
        require_password: true,
        ..policy()
    };
    assert_eq!(
        decide(None, &Command::Create(create_cmd()), &strict, NOW),
        Err(DomainError::PasswordPolicy)
    );
    let c = CreateShare {
        password: Some(hash(1)),
        ..create_cmd()
    };
    let s = given(&decide(None, &Command::Create(c), &strict, NOW).unwrap());
    let remove = update(
        alice(),
        ShareChanges {
            password: Some(None),
            ..Default::default()
        },
    );
    assert_eq!(
        decide(s.as_ref(), &remove, &strict, NOW),
        Err(DomainError::PasswordPolicy)
    );
}

#[test]
fn events_with_a_new_key_are_type_version_2_and_read_back_only_as_such() {
    let c = CreateShare {
        password: Some(hash(1)),
        max_visits: Some(3),
        ..create_cmd()
    };
    let events = decide(None, &Command::Create(c), &ALLOW, NOW).unwrap();
    let plain = created();
    assert_eq!(plain.type_version(), 1);
    assert_eq!(events[0].type_version(), 2);
    let data = events[0].to_data().unwrap();
    assert_eq!(data["maxVisits"], 3);
    assert!(data["password"].as_str().unwrap().starts_with("$argon2id$"));
    assert_eq!(
        Event::from_data("ShareCreated", 2, data.clone()).ok(),
        Some(events[0].clone())
    );
    assert!(Event::from_data("ShareCreated", 1, data).is_err());
    assert!(Event::from_data("ShareCreated", 2, plain.to_data().unwrap()).is_err());
    let plain_data = plain.to_data().unwrap();
    assert!(plain_data.get("password").is_none() && plain_data.get("maxVisits").is_none());

    let removed = Event::ShareUpdated(ShareChanges {
        password: Some(None),
        max_visits: Some(None),
        ..Default::default()
    });
    let data = removed.to_data().unwrap();
    assert_eq!(
        data,
        serde_json::json!({"password": null, "maxVisits": null})
    );
    assert_eq!(
        Event::from_data("ShareUpdated", 2, data).ok(),
        Some(removed)
    );

    let Command::Visit(v) = open_via(VisitKind::Visit, Some(1)) else {
        unreachable!()
    };
    let via = Event::ShareVisited(v.visit);
    assert_eq!(via.type_version(), 2);
    assert_eq!(via.to_data().unwrap()["link"], link(1).as_str());
    assert!(Event::from_data("ShareVisited", 1, via.to_data().unwrap()).is_err());
    let added = when(&given(&[created()]), add_link(1, Some(3)))
        .unwrap()
        .remove(0);
    assert_eq!(added.type_version(), 1);
    assert_eq!(
        added.to_data().unwrap(),
        serde_json::json!({"link": link(1).as_str(), "label": "friend 1", "maxVisits": 3})
    );
    let clear = serde_json::json!({"password": "hunter22"});
    assert!(
        Event::from_data("ShareUpdated", 2, clear).is_err(),
        "a password in clear is no event"
    );
}

#[test]
fn a_restore_refuses_what_the_rules_never_log() {
    let state = given(&[created()]);
    let st = state.as_ref();
    let Command::Visit(v) = open_via(VisitKind::Visit, Some(1)) else {
        unreachable!()
    };
    assert!(check_logged(st, 2, &Event::ShareVisited(v.visit), NOW).is_err());
    let revoked = Event::ShareLinkRevoked(LinkRevoked { link: link(1) });
    assert!(check_logged(st, 2, &revoked, NOW).is_err());
    let mut s = limited(1);
    run(&mut s, visit()).unwrap();
    let Command::Visit(v) = visit() else {
        unreachable!()
    };
    assert!(
        check_logged(s.as_ref(), 3, &Event::ShareVisited(v.visit.clone()), NOW).is_err(),
        "a visit past the limit"
    );
    assert!(check_logged(s.as_ref(), 3, &Event::SharePreviewed(v.visit), NOW).is_ok());
}
