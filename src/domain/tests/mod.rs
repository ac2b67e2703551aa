//! Given / when / then: one behaviour per test, against `decide` and `apply` only.

use super::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);
const ALLOW: Policy = Policy {
    allow_downloads: true,
};

fn alice() -> Actor {
    Actor {
        user_id: UserId("u-alice".into()),
        username: "alice".into(),
        is_admin: false,
    }
}
fn bob() -> Actor {
    Actor {
        user_id: UserId("u-bob".into()),
        username: "bob".into(),
        is_admin: false,
    }
}
fn admin() -> Actor {
    Actor {
        user_id: UserId("u-root".into()),
        username: "root".into(),
        is_admin: true,
    }
}
fn id() -> ShareId {
    ShareId::from_random([7; 16])
}
fn one_song() -> ShareItems {
    ShareItems {
        songs: vec![SongItem {
            id: "s1".into(),
            title: "T".into(),
            artist: "A".into(),
            album: "B".into(),
        }],
        ..Default::default()
    }
}
fn create_cmd() -> CreateShare {
    CreateShare {
        id: id(),
        actor: alice(),
        description: Some("mix".into()),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: false,
        expires_at: None,
        items: one_song(),
    }
}

/// Given these events happened, the state they fold into.
fn given(events: &[Event]) -> Option<Share> {
    events.iter().fold(None, |s, e| apply(s, &id(), e, NOW))
}

fn created() -> Event {
    match decide(None, &Command::Create(create_cmd()), &ALLOW, NOW) {
        Ok(mut events) => events.remove(0),
        Err(e) => panic!("create refused: {e}"),
    }
}

fn when(state: &Option<Share>, cmd: Command) -> Result<Vec<Event>, DomainError> {
    decide(state.as_ref(), &cmd, &ALLOW, NOW)
}

fn update(actor: Actor, changes: ShareChanges) -> Command {
    Command::Update(UpdateShare {
        id: id(),
        actor,
        expected_version: None,
        changes,
    })
}

fn open(kind: VisitKind) -> Command {
    Command::Visit(VisitShare {
        id: id(),
        kind,
        visit: VisitData {
            format: VisitFormat::Html,
            download: false,
            player: None,
            client_ip: None,
            user_agent: None,
        },
    })
}

fn visit() -> Command {
    open(VisitKind::Visit)
}

fn preview() -> Command {
    open(VisitKind::Preview)
}

/// The state after `events`, applied one by one at their own times.
fn then(state: Option<Share>, events: &[(Event, OffsetDateTime)]) -> Share {
    events
        .iter()
        .fold(state, |s, (e, at)| apply(s, &id(), e, *at))
        .expect("share")
}

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
fn a_downloadable_share_is_refused_when_the_server_forbids_downloads() {
    let cmd = CreateShare {
        downloadable: true,
        ..create_cmd()
    };
    let r = decide(
        None,
        &Command::Create(cmd),
        &Policy {
            allow_downloads: false,
        },
        NOW,
    );
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
fn a_visit_to_a_live_share_counts_once() {
    let state = given(&[created()]);
    let events = when(&state, visit()).expect("ok");
    let after = events
        .iter()
        .fold(state, |s, e| apply(s, &id(), e, NOW))
        .expect("share");
    assert_eq!(after.visit_count, 1);
    assert_eq!(after.last_visited_at, Some(NOW));
}

#[test]
fn a_visit_to_an_expired_share_is_gone() {
    let expiring = Event::ShareUpdated(ShareChanges {
        expires_at: Some(Some(NOW - Duration::seconds(1))),
        ..Default::default()
    });
    let state = given(&[created(), expiring]);
    assert_eq!(when(&state, visit()), Err(DomainError::Expired));
}

#[test]
fn a_visit_to_a_deleted_share_is_not_found() {
    let state = given(&[created(), Event::ShareDeleted]);
    assert_eq!(when(&state, visit()), Err(DomainError::NotFound));
}

#[test]
fn creating_over_an_existing_id_is_refused() {
    let state = given(&[created()]);
    assert_eq!(
        when(&state, Command::Create(create_cmd())),
        Err(DomainError::AlreadyExists)
    );
}

#[test]
fn a_preview_is_logged_as_share_previewed_with_the_visit_data() {
    let state = given(&[created()]);
    let events = when(&state, preview()).expect("ok");
    assert!(matches!(
        events.as_slice(),
        [Event::SharePreviewed(VisitData {
            format: VisitFormat::Html,
            ..
        })]
    ));
    assert_eq!(events[0].type_name(), "SharePreviewed");
}

#[test]
fn a_preview_raises_the_preview_count_and_not_the_visit_count() {
    let state = given(&[created()]);
    let events = when(&state, preview()).expect("ok");
    let after = then(state, &[(events[0].clone(), NOW)]);
    assert_eq!(after.preview_count, 1);
    assert_eq!(after.visit_count, 0);
    assert_eq!(after.version, 2);
}

#[test]
fn a_preview_leaves_the_last_visit_time_alone() {
    let state = given(&[created()]);
    let visited = when(&state, visit()).expect("ok").remove(0);
    let previewed = when(&state, preview()).expect("ok").remove(0);
    let later = NOW + Duration::minutes(5);
    let after = then(state, &[(visited, NOW), (previewed, later)]);
    assert_eq!(after.last_visited_at, Some(NOW));
    assert_eq!((after.visit_count, after.preview_count), (1, 1));
}

#[test]
fn a_preview_of_an_expired_share_is_gone() {
    let expiring = Event::ShareUpdated(ShareChanges {
        expires_at: Some(Some(NOW - Duration::seconds(1))),
        ..Default::default()
    });
    let state = given(&[created(), expiring]);
    assert_eq!(when(&state, preview()), Err(DomainError::Expired));
}

#[test]
fn a_preview_of_a_deleted_or_unknown_share_is_not_found() {
    let deleted = given(&[created(), Event::ShareDeleted]);
    assert_eq!(when(&deleted, preview()), Err(DomainError::NotFound));
    assert_eq!(when(&None, preview()), Err(DomainError::NotFound));
}

#[test]
fn opening_a_link_does_not_change_the_content_version() {
    let state = given(&[created()]);
    let before = state.as_ref().map(Share::content_version);
    let v = when(&state, visit()).expect("ok").remove(0);
    let p = when(&state, preview()).expect("ok").remove(0);
    let after = then(state, &[(v, NOW), (p, NOW)]);
    assert_eq!(Some(after.content_version()), before);
    let changed = then(
        Some(after),
        &[(
            Event::ShareUpdated(ShareChanges {
                max_bit_rate: Some(64),
                ..Default::default()
            }),
            NOW,
        )],
    );
    assert_eq!(Some(changed.content_version()), before.map(|b| b + 1));
}

#[test]
fn a_run_of_opens_applied_at_once_equals_applying_them_one_by_one() {
    let state = given(&[created()]);
    let opens = [
        (VisitKind::Visit, NOW),
        (VisitKind::Preview, NOW + Duration::seconds(1)),
        (VisitKind::Visit, NOW + Duration::seconds(2)),
        (VisitKind::Preview, NOW + Duration::seconds(3)),
    ];
    let one_by_one = then(
        state.clone(),
        &opens
            .iter()
            .map(|(k, at)| {
                let data = VisitData {
                    format: VisitFormat::Raw,
                    download: false,
                    player: None,
                    client_ip: None,
                    user_agent: None,
                };
                (Event::of_counted(*k, data), *at)
            })
            .collect::<Vec<_>>(),
    );
    let mut run = Counted::default();
    for (k, at) in opens {
        run.add(k, at);
    }
    let mut at_once = state.expect("share");
    run.apply_to(&mut at_once);
    assert_eq!(at_once, one_by_one);
    assert_eq!(at_once.last_visited_at, Some(NOW + Duration::seconds(2)));
}

#[test]
fn html_is_a_way_to_open_a_link_but_never_a_share_format() {
    assert_eq!(Format::parse("html"), None);
    assert_eq!(VisitFormat::from(Format::M3u), VisitFormat::M3u);
    assert_eq!(VisitFormat::Html.as_str(), "html");
}

#[test]
fn every_event_type_name_is_listed_once_in_types() {
    for kind in VisitKind::ALL {
        assert!(Event::TYPES.contains(&kind.type_name()));
        assert_eq!(VisitKind::of_type_name(kind.type_name()), Some(kind));
    }
    assert_eq!(VisitKind::of_type_name("ShareCreated"), None);
    let distinct: std::collections::HashSet<_> = Event::TYPES.iter().collect();
    assert_eq!(distinct.len(), Event::TYPES.len());
}
