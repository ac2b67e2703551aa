//! Creating, updating and deleting a share: who may, and what is recorded.

use super::*;
use time::UtcOffset;

#[test]
fn creating_a_share_records_its_owner_and_settings() {
    let share = given(&[created()]).expect("share");
    assert_eq!(share.owner_name, "alice");
    assert_eq!(share.version, 1);
    assert_eq!(share.visit_count, 0);
    assert_eq!(share.created_at, NOW);
}

#[test]
fn a_share_without_items_is_refused() {
    let cmd = CreateShare {
        items: ShareItems::default(),
        ..create_cmd()
    };
    let err = when(&None, Command::Create(cmd)).unwrap_err();
    assert!(matches!(
        err,
        DomainError::Invalid {
            field: "albums",
            ..
        }
    ));
}

#[test]
fn a_description_of_1025_characters_is_refused_but_1024_cjk_characters_pass() {
    let long = CreateShare {
        description: Some("x".repeat(1025)),
        ..create_cmd()
    };
    assert!(matches!(
        when(&None, Command::Create(long)),
        Err(DomainError::Invalid {
            field: "description",
            ..
        })
    ));
    let cjk = CreateShare {
        description: Some("東".repeat(1024)),
        ..create_cmd()
    };
    assert!(when(&None, Command::Create(cjk)).is_ok());
}

#[test]
fn a_description_may_break_lines_but_holds_no_other_control_characters() {
    let with = |d: &str| {
        when(
            &None,
            Command::Create(CreateShare {
                description: Some(d.into()),
                ..create_cmd()
            }),
        )
    };
    assert!(with("side one\r\n\tside two").is_ok());
    for bad in ["nul\0here", "bell\u{7}", "escape\u{1b}[31m", "c1\u{85}"] {
        assert!(
            matches!(
                with(bad),
                Err(DomainError::Invalid {
                    field: "description",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn a_downloadable_share_is_refused_when_the_server_forbids_downloads() {
    let cmd = CreateShare {
        downloadable: Some(true),
        ..create_cmd()
    };
    let r = decide(None, &Command::Create(cmd), &Policy::open(false), NOW);
    assert_eq!(r.unwrap_err(), DomainError::DownloadsDisabled);
}

#[test]
fn an_expiry_in_the_past_is_refused() {
    let cmd = CreateShare {
        expires_at: Some(NOW - Duration::seconds(1)),
        ..create_cmd()
    };
    assert!(matches!(
        when(&None, Command::Create(cmd)),
        Err(DomainError::Invalid {
            field: "expiresAt",
            ..
        })
    ));
}

#[test]
fn an_expiry_written_with_an_offset_is_kept_in_utc_both_on_create_and_on_update() {
    let plus_14 = datetime!(2031-06-01 12:00 +14);
    let in_utc = datetime!(2031-05-31 22:00 UTC);
    let cmd = CreateShare {
        expires_at: Some(plus_14),
        ..create_cmd()
    };
    let events = when(&None, Command::Create(cmd)).expect("ok");
    let Event::ShareCreated(c) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        c.expires_at.map(|t| (t, t.offset())),
        Some((in_utc, UtcOffset::UTC))
    );

    let changes = ShareChanges {
        expires_at: Some(Some(datetime!(2031-06-01 00:00 -05:30))),
        ..Default::default()
    };
    let updated = when(&given(&[created()]), update(alice(), changes)).expect("ok");
    let Event::ShareUpdated(u) = &updated[0] else {
        panic!("{updated:?}")
    };
    let t = u.expires_at.flatten().expect("an expiry");
    assert_eq!(
        (t, t.offset()),
        (datetime!(2031-06-01 05:30 UTC), UtcOffset::UTC)
    );
}

#[test]
fn an_expiry_past_the_year_9999_in_utc_is_refused() {
    let cmd = CreateShare {
        expires_at: Some(datetime!(9999-12-31 23:59:59 -23:59)),
        ..create_cmd()
    };
    assert_eq!(
        when(&None, Command::Create(cmd)),
        Err(DomainError::Invalid {
            field: "expiresAt",
            message: "must be before the year 10000".into()
        })
    );
}

#[test]
fn an_update_changes_only_the_fields_it_names() {
    let state = given(&[created()]);
    let events = when(
        &state,
        update(
            alice(),
            ShareChanges {
                max_bit_rate: Some(128),
                ..Default::default()
            },
        ),
    )
    .expect("ok");
    let after = events
        .iter()
        .fold(state, |s, e| apply(s, &id(), e, NOW))
        .expect("share");
    assert_eq!(after.max_bit_rate, 128);
    assert_eq!(after.description.as_deref(), Some("mix"));
    assert!(!after.downloadable);
    assert_eq!(after.version, 2);
}

#[test]
fn an_update_to_the_current_values_records_nothing() {
    let state = given(&[created()]);
    let same = ShareChanges {
        description: Some(Some("mix".into())),
        max_bit_rate: Some(0),
        ..Default::default()
    };
    assert_eq!(when(&state, update(alice(), same)), Ok(vec![]));
}

#[test]
fn clearing_the_expiry_removes_it() {
    let expiring = Event::ShareUpdated(ShareChanges {
        expires_at: Some(Some(NOW + Duration::days(1))),
        ..Default::default()
    });
    let state = given(&[created(), expiring]);
    let events = when(
        &state,
        update(
            alice(),
            ShareChanges {
                expires_at: Some(None),
                ..Default::default()
            },
        ),
    )
    .expect("ok");
    let after = events
        .iter()
        .fold(state, |s, e| apply(s, &id(), e, NOW))
        .expect("share");
    assert_eq!(after.expires_at, None);
}

#[test]
fn another_users_share_is_not_found_for_update_and_delete() {
    let state = given(&[created()]);
    assert_eq!(
        when(&state, update(bob(), ShareChanges::default())),
        Err(DomainError::NotFound)
    );
    let del = Command::Delete(DeleteShare {
        id: id(),
        actor: bob(),
        expected_version: None,
    });
    assert_eq!(when(&state, del), Err(DomainError::NotFound));
}

#[test]
fn an_admin_may_change_any_share() {
    let state = given(&[created()]);
    let r = when(
        &state,
        update(
            admin(),
            ShareChanges {
                downloadable: Some(true),
                ..Default::default()
            },
        ),
    );
    assert!(matches!(r.as_deref(), Ok([Event::ShareUpdated(_)])));
}

#[test]
fn a_stale_if_match_version_is_a_conflict() {
    let state = given(&[
        created(),
        Event::ShareUpdated(ShareChanges {
            max_bit_rate: Some(1),
            ..Default::default()
        }),
    ]);
    let cmd = Command::Update(UpdateShare {
        id: id(),
        actor: alice(),
        expected_version: Some(1),
        changes: ShareChanges::default(),
    });
    assert_eq!(
        when(&state, cmd),
        Err(DomainError::VersionConflict {
            expected: 1,
            actual: 2
        })
    );
}

#[test]
fn a_deleted_share_cannot_be_deleted_again() {
    let state = given(&[created(), Event::ShareDeleted]);
    let del = Command::Delete(DeleteShare {
        id: id(),
        actor: alice(),
        expected_version: None,
    });
    assert_eq!(when(&state, del), Err(DomainError::NotFound));
}

#[test]
fn creating_over_an_existing_id_is_refused() {
    let state = given(&[created()]);
    assert_eq!(
        when(&state, Command::Create(create_cmd())),
        Err(DomainError::AlreadyExists)
    );
}
