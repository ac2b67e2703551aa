//! The sharing policy (`sharing.*`), applied by `decide` to every front door's commands.

use super::controls::{add_link, hash, revoke, run};
use super::*;

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
