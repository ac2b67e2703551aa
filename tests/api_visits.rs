//! `GET /api/share/{id}/visits?days=N`: a share's visits and previews per UTC day, oldest
//! first, every day present, from the per-day projection: over real HTTP, after a
//! restart, after a rebuild, and for days in the past (a log restored from an export).

use crate::support;

use serde_json::{json, Value};
use sharelog::domain::*;
use sharelog::store::{chain, Envelope};
use support::offline::{config_for, sharelog};
use support::*;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

fn visits(app: &TestApp, id: &str, query: &str) -> Resp {
    app.req(
        "GET",
        &format!("/api/share/{id}/visits{query}"),
        Some(&alice()),
        None,
    )
}

fn today() -> String {
    OffsetDateTime::now_utc().date().to_string()
}

#[test]
fn todays_visits_and_previews_are_counted_and_every_day_is_there() {
    let app = spawn_app(|_| {});
    let album = upstream::shared().album("Alpha");
    let id = app.create_id(&alice(), json!({"albums": [album.id]}));
    for _ in 0..3 {
        assert_eq!(
            app.raw("GET", &format!("/share/{id}"), &[], None).status(),
            200
        );
    }
    let bot = [(
        "User-Agent",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    )];
    assert_eq!(
        app.raw("GET", &format!("/share/{id}"), &bot, None).status(),
        200
    );

    let r = visits(&app, &id, "");
    assert_eq!(r.status(), 200, "{}", r.text());
    let days = r.json();
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 30, "30 days unless asked otherwise");
    let last = days.last().unwrap();
    assert_eq!(last, &json!({"day": today(), "visits": 3, "previews": 1}));
    assert!(days[..29]
        .iter()
        .all(|d| d["visits"] == 0 && d["previews"] == 0));
    // Oldest first, one per day, no gaps.
    let dates: Vec<&str> = days.iter().map(|d| d["day"].as_str().unwrap()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(dates, sorted);

    let one = visits(&app, &id, "?days=1").json();
    assert_eq!(one, json!([{"day": today(), "visits": 3, "previews": 1}]));
    assert_eq!(
        visits(&app, &id, "?days=366")
            .json()
            .as_array()
            .unwrap()
            .len(),
        366
    );
    for bad in ["?days=0", "?days=367", "?days=ten", "?days=-1"] {
        let r = visits(&app, &id, bad);
        assert_eq!(
            (r.status(), r.code().as_str()),
            (400, "invalid-field"),
            "{bad}"
        );
        assert_eq!(r.json()["field"], "days", "{bad}");
    }
    // Someone else's share does not exist for them; an admin sees it.
    let bob = token_for("bob", "u-bob", false);
    let other = app.req("GET", &format!("/api/share/{id}/visits"), Some(&bob), None);
    assert_eq!(other.status(), 404);
    let admin = token_for("root", "u-root", true);
    let seen = app.req(
        "GET",
        &format!("/api/share/{id}/visits?days=1"),
        Some(&admin),
        None,
    );
    assert_eq!(seen.json(), one);

    // Kept in the projection's rows: the same after a restart.
    let app = app.restart(|_| {});
    assert_eq!(visits(&app, &id, "?days=1").json(), one);
}

/// A log whose visits fall on earlier days (written directly, as a restore would find
/// them in an export), served by a server started on it: each day has its own counts.
#[test]
fn visits_of_earlier_days_are_counted_on_their_day_and_survive_a_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let id = ShareId::from_random([7; 16]);
    let created = Event::ShareCreated(ShareCreated {
        owner_id: UserId("u-alice".into()),
        owner_name: "alice".into(),
        description: Some("days".into()),
        format: Format::Raw,
        max_bit_rate: 0,
        downloadable: false,
        expires_at: None,
        items: ShareItems {
            songs: vec![SongItem {
                id: "s1".into(),
                title: "Song".into(),
                artist: "A".into(),
                album: "B".into(),
            }],
            ..Default::default()
        },
        password: None,
        max_visits: None,
    });
    let open = |kind: VisitKind| {
        Event::of_counted(
            kind,
            VisitData {
                format: VisitFormat::Raw,
                download: false,
                player: None,
                client_ip: None,
                user_agent: None,
                link: None,
            },
        )
    };
    // Created five days ago; two visits four days ago, a preview and a visit two days ago.
    let events = [
        (created, now - Duration::days(5)),
        (open(VisitKind::Visit), now - Duration::days(4)),
        (open(VisitKind::Visit), now - Duration::days(4)),
        (open(VisitKind::Preview), now - Duration::days(2)),
        (open(VisitKind::Visit), now - Duration::days(2)),
    ];
    let mut prev = chain::GENESIS;
    let mut export = Vec::new();
    for (i, (event, at)) in events.into_iter().enumerate() {
        let seq = i as u64 + 1;
        let env = Envelope {
            seq,
            id: format!("00000000-0000-4000-8000-{seq:012x}"),
            stream: id.clone().into(),
            version: seq,
            at,
            actor: None,
            event,
            prev_hash: prev,
            hash: [0; 32],
        };
        let (env, line) = env.seal_to_line(&at.format(&Rfc3339).unwrap()).unwrap();
        prev = env.hash;
        export.extend_from_slice(&line);
        export.push(b'\n');
    }
    let file = tmp.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let dir = tmp.path().join("data");
    let out = sharelog(
        &config_for(&dir),
        &["restore", "--from", file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let expected = |days: Value| {
        let days = days.as_array().unwrap().clone();
        let counts: Vec<(u64, u64)> = days
            .iter()
            .map(|d| {
                (
                    d["visits"].as_u64().unwrap(),
                    d["previews"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(counts, vec![(0, 0), (2, 0), (0, 0), (1, 1), (0, 0), (0, 0)]);
        assert_eq!(days[1]["day"], (now - Duration::days(4)).date().to_string());
    };
    let app = spawn_with(settings_for(upstream::shared(), &dir));
    expected(visits(&app, id.as_str(), "?days=6").json());
    drop(app);

    // `sharelog rebuild` writes the same per-day rows again.
    let rebuilt = sharelog(&config_for(&dir), &["rebuild"]);
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(String::from_utf8_lossy(&rebuilt.stdout).contains("unchanged"));
    let app = spawn_with(settings_for(upstream::shared(), &dir));
    expected(visits(&app, id.as_str(), "?days=6").json());
}
