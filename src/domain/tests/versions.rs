//! Type versions of the controls' events, and what a restore refuses of them.

use super::controls::{add_link, hash, limited, link, open_via, run};
use super::*;

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
