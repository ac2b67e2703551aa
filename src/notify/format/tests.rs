#![allow(clippy::unwrap_used)]
use super::*;
use crate::domain::{LinkId, ShareId, VisitFormat};
use crate::notify::news::{Kinds, Spent, Visit};
use serde_json::Value;
use time::macros::datetime;

fn news(link: bool, visit: bool) -> News {
    News {
        seq: 42,
        event_id: "0b9f6c1e-1111-4222-8333-944455556666".into(),
        at: datetime!(2026-12-01 10:00:05 UTC),
        kinds: Kinds::default(),
        spent: Spent::default(),
        share: ShareId::parse("Share1").unwrap(),
        link: link.then(|| LinkId::parse("Link1").unwrap()),
        visit: visit.then(|| Visit {
            format: VisitFormat::M3u,
            download: false,
            player: Some("VLC".into()),
        }),
    }
}

fn named(label: Option<&str>) -> Named {
    Named {
        share_title: "Road songs".into(),
        share_url: "https://music.example/share/Share1".into(),
        link_label: label.map(String::from),
        manage_url: "https://music.example/share/_manage".into(),
    }
}

fn header<'a>(o: &'a Outgoing, name: &str) -> &'a str {
    &o.headers.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn a_json_delivery_has_the_documented_fields_and_is_signed_over_its_exact_bytes() {
    let n = news(true, true);
    let o = outgoing(
        NotifyFormat::Json,
        NotifyOn::FirstVisit,
        &n,
        &named(Some("Bob")),
        "a-secret-of-16-chars",
    );
    assert_eq!(o.content_type, "application/json");
    let body: Value = serde_json::from_slice(&o.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "event": "first-visit",
            "seq": 42,
            "share": {"id": "Share1", "title": "Road songs", "url": "https://music.example/share/Share1"},
            "link": {"id": "Link1", "label": "Bob"},
            "visit": {"at": "2026-12-01T10:00:05Z", "format": "m3u", "player": "VLC"},
        })
    );
    assert_eq!(header(&o, "X-Sharelog-Event"), &*n.event_id);
    let expected = crate::hex::encode(&sign("a-secret-of-16-chars", &o.body));
    assert_eq!(
        header(&o, "X-Sharelog-Signature"),
        format!("sha256={expected}")
    );
    // RFC 4231, test case 2: the HMAC is the standard one.
    assert_eq!(
        crate::hex::encode(&sign("Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn a_revoked_link_has_no_visit_and_the_share_own_link_no_link() {
    let o = outgoing(
        NotifyFormat::Json,
        NotifyOn::LinkRevoked,
        &news(true, false),
        &named(Some("Bob")),
        "k",
    );
    let body: Value = serde_json::from_slice(&o.body).unwrap();
    assert_eq!(body["visit"], Value::Null);
    assert_eq!(body["link"]["label"], "Bob");
    let o = outgoing(
        NotifyFormat::Json,
        NotifyOn::Visit,
        &news(false, true),
        &named(None),
        "k",
    );
    let body: Value = serde_json::from_slice(&o.body).unwrap();
    assert_eq!(body["link"], Value::Null);
}

#[test]
fn an_ntfy_delivery_is_a_line_of_text_with_ntfys_headers() {
    let cases = [
        (
            NotifyOn::Visit,
            Some("Bob"),
            false,
            "Bob opened \"Road songs\"",
            "Visit",
            "headphones",
        ),
        (
            NotifyOn::Visit,
            None,
            false,
            "Someone opened \"Road songs\"",
            "Visit",
            "headphones",
        ),
        (
            NotifyOn::FirstVisit,
            Some("Bob"),
            false,
            "Bob opened \"Road songs\" for the first time",
            "First visit",
            "tada",
        ),
        (
            NotifyOn::Download,
            Some("Bob"),
            false,
            "Bob downloaded \"Road songs\"",
            "Download",
            "inbox_tray",
        ),
        (
            NotifyOn::LimitReached,
            Some("Bob"),
            true,
            "Bob opened \"Road songs\": the link for Bob is used up",
            "Visit limit reached",
            "no_entry",
        ),
        (
            NotifyOn::LimitReached,
            None,
            false,
            "Someone opened \"Road songs\": its visit limit is reached",
            "Visit limit reached",
            "no_entry",
        ),
        (
            NotifyOn::LinkRevoked,
            Some("Bob"),
            false,
            "The link for Bob to \"Road songs\" was revoked",
            "Link revoked",
            "scissors",
        ),
    ];
    for (kind, label, link_spent, text, title, tag) in cases {
        let mut n = news(label.is_some(), true);
        n.spent.link = link_spent;
        let o = outgoing(NotifyFormat::Ntfy, kind, &n, &named(label), "k");
        assert_eq!(String::from_utf8(o.body.clone()).unwrap(), text);
        assert_eq!(o.content_type, "text/plain; charset=utf-8");
        assert_eq!(header(&o, "Title"), title);
        assert_eq!(header(&o, "Tags"), tag);
        assert_eq!(header(&o, "Click"), "https://music.example/share/_manage");
    }
}
