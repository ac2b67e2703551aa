//! Opening a link: visits and previews, what they count and what they leave alone.

use super::*;

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
                    link: None,
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
