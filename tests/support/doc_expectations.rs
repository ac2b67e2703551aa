//! What each of the docs' ```sh examples must show, found by a line it contains. Used by
//! tests/docs_examples.rs; an example without an expectation fails that test.

use super::doc_blocks::json_values;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// What an example must show: a check of its stdout and of the files it left in its
/// directory; `offline` runs it after the server stopped (it needs the data directory).
pub struct Expectation {
    pub marker: &'static str,
    pub offline: bool,
    pub check: fn(&str, &Path),
}

fn status_line(out: &str, status: u16) {
    assert!(
        out.lines()
            .any(|l| l.starts_with("HTTP/") && l.contains(&format!(" {status}"))),
        "no {status} status line in:\n{out}"
    );
}

fn body_after_headers(out: &str) -> Value {
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or(out);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body not JSON ({e}):\n{out}"))
}

/// The keys of the share object example in docs/api.md.
pub const SHARE_KEYS: &[&str] = &[
    "id",
    "userId",
    "username",
    "url",
    "description",
    "contents",
    "format",
    "maxBitRate",
    "visitCount",
    "previewCount",
    "lastVisitedAt",
    "downloadable",
    "expiresAt",
    "createdAt",
    "updatedAt",
    "hasPassword",
    "maxVisits",
];

fn is_share(v: &Value) {
    for k in SHARE_KEYS {
        assert!(v.get(k).is_some(), "share without {k}: {v}");
    }
}

pub fn expectations() -> Vec<Expectation> {
    vec![
        Expectation {
            marker: "TOKEN=$(",
            offline: false,
            check: |out, _| {
                let list: Value = serde_json::from_str(out).unwrap();
                list.as_array().unwrap().iter().for_each(is_share);
            },
        },
        Expectation {
            marker: "-d '{\"label\":\"Bob\",\"maxVisits\":3}'",
            offline: false,
            check: |out, _| {
                let link: Value = serde_json::from_str(out).unwrap();
                assert_eq!(
                    (&link["label"], &link["maxVisits"]),
                    (&json!("Bob"), &json!(3))
                );
                assert!(link["url"].as_str().unwrap().contains("/share/"), "{out}");
            },
        },
        Expectation {
            marker: "$S/api/share/settings",
            offline: false,
            check: |out, _| {
                let settings: Value = serde_json::from_str(out).unwrap();
                assert_eq!(settings["canShare"], true, "{out}");
                assert_eq!(settings["requirePassword"], false, "{out}");
            },
        },
        Expectation {
            marker: "$S/api/share/search?query=alpha",
            offline: false,
            check: |out, _| {
                let albums = json_values(out);
                assert!(
                    albums.iter().any(|a| a["name"] == "Alpha"
                        && a["id"].as_str().is_some_and(|id| !id.is_empty())),
                    "{out}"
                );
            },
        },
        Expectation {
            marker: "_sort=visitCount",
            offline: false,
            check: |out, _| {
                let list: Value = serde_json::from_str(out).unwrap();
                assert!(!list.as_array().unwrap().is_empty(), "{out}");
                list.as_array().unwrap().iter().for_each(is_share);
            },
        },
        Expectation {
            marker: "curl -si -H \"$H\" \"$S/api/share/",
            offline: false,
            check: |out, _| {
                status_line(out, 200);
                assert!(out.to_ascii_lowercase().contains("etag: \"1\""), "{out}");
                is_share(&body_after_headers(out));
            },
        },
        Expectation {
            marker: "Idempotency-Key: 7f1c",
            offline: false,
            check: |out, _| {
                status_line(out, 201);
                assert!(
                    out.to_ascii_lowercase().contains("location: /api/share/"),
                    "{out}"
                );
                let share = body_after_headers(out);
                is_share(&share);
                assert_eq!(share["description"], "Road trip");
                assert!(share["expiresAt"].is_string(), "{share}");
            },
        },
        Expectation {
            marker: "-X PUT",
            offline: false,
            check: |out, _| {
                let share: Value = serde_json::from_str(out).unwrap();
                is_share(&share);
                assert_eq!(share["description"], "Road trip 2026");
                assert_eq!(share["expiresAt"], Value::Null);
            },
        },
        Expectation {
            marker: "-X DELETE -H \"$H\" \"$S/api/share/Xb3",
            offline: false,
            check: |out, _| {
                let v: Value = serde_json::from_str(out).unwrap();
                assert!(
                    v["id"].is_string() && v.as_object().unwrap().len() == 1,
                    "{out}"
                );
            },
        },
        Expectation {
            marker: "/history\" | jq",
            offline: false,
            check: |out, _| {
                let events = json_values(out);
                assert_eq!(events[0]["type"], "ShareCreated", "{out}");
                for e in &events {
                    for k in ["seq", "type", "at", "data"] {
                        assert!(e.get(k).is_some(), "{k} missing: {e}");
                    }
                }
            },
        },
        Expectation {
            marker: "> visits.jsonl",
            offline: false,
            check: |_, dir| {
                let text = std::fs::read_to_string(dir.join("visits.jsonl")).unwrap();
                let visits = json_values(&text);
                assert!(!visits.is_empty(), "no visits exported");
                assert!(visits.iter().all(|e| e["type"] == "ShareVisited"), "{text}");
            },
        },
        Expectation {
            marker: "jq '.tracks[] | {title, streamUrl}'",
            offline: false,
            check: |out, dir| {
                let zips: Vec<PathBuf> = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.extension().is_some_and(|x| x == "zip"))
                    .collect();
                assert_eq!(zips.len(), 1, "one zip saved: {zips:?}");
                assert_eq!(
                    zips[0].file_name().unwrap(),
                    "Road trip.zip",
                    "named from the description"
                );
                assert!(
                    out.contains("\"streamUrl\": \"http://share.example/share/"),
                    "{out}"
                );
                assert!(out.contains("#EXTM3U") && out.contains("#EXTINF:"), "{out}");
            },
        },
        Expectation {
            marker: "curl -s -u friend:'open sesame'",
            offline: false,
            check: |out, _| {
                assert_eq!(out.lines().next(), Some("#EXTM3U"), "{out}");
                let urls: Vec<&str> = out.lines().filter(|l| l.starts_with("http")).collect();
                assert!(!urls.is_empty(), "{out}");
                assert!(urls.iter().all(|u| u.contains("?key=")), "{out}");
                let cookie = out.lines().last().unwrap().to_ascii_lowercase();
                assert!(
                    cookie.starts_with("set-cookie: sharelog_unlock=")
                        && cookie.contains("httponly")
                        && cookie.contains("samesite=lax"),
                    "{out}"
                );
            },
        },
        Expectation {
            marker: "-o head.bin -D -",
            offline: false,
            check: |out, dir| {
                status_line(out, 206);
                assert!(
                    out.to_ascii_lowercase()
                        .contains("content-range: bytes 0-1023/"),
                    "{out}"
                );
                assert_eq!(std::fs::metadata(dir.join("head.bin")).unwrap().len(), 1024);
            },
        },
        Expectation {
            marker: "rest/createShare.view",
            offline: false,
            check: |out, _| {
                let answers = json_values(out);
                assert_eq!(answers.len(), 2, "{out}");
                assert_eq!(answers[0]["subsonic-response"]["status"], "ok", "{out}");
                assert!(
                    answers[1]["share"].is_array(),
                    "getShares lists the share: {out}"
                );
            },
        },
        Expectation {
            marker: "/readyz",
            offline: false,
            check: |out, _| {
                let values = json_values(out);
                let (ready, paths) = (&values[0], &values[1]);
                assert_eq!(ready["status"], "ready");
                assert_eq!(ready["upstream"], "reachable");
                assert!(ready["lastSeq"].is_u64(), "{ready}");
                assert!(
                    paths.as_array().unwrap().contains(&json!("/api/share")),
                    "{paths}"
                );
            },
        },
        Expectation {
            marker: "sharelog audit verify --file /var/backups/sharelog/audit.jsonl",
            offline: false,
            check: |out, _| {
                assert!(
                    out.starts_with("OK ") && out.contains(" events, last seq "),
                    "{out}"
                );
            },
        },
        Expectation {
            marker: "sharelog audit verify                        # the log in the database",
            offline: true,
            check: |out, _| {
                let lines: Vec<&str> = out.lines().collect();
                assert_eq!(lines.len(), 3, "{out}");
                assert!(lines.iter().all(|l| l.starts_with("OK ")), "{out}");
                assert_eq!(
                    lines[0], lines[1],
                    "the database and its complete export agree"
                );
            },
        },
        Expectation {
            marker: "python3 scripts/verify_audit.py export.jsonl",
            offline: true,
            check: |out, _| {
                let lines: Vec<&str> = out.lines().collect();
                assert_eq!(lines.len(), 3, "{out}");
                assert!(lines.iter().all(|l| l.starts_with("OK ")), "{out}");
                assert_eq!(lines[0], lines[2], "a file and stdin give the same answer");
            },
        },
        Expectation {
            marker: "sharelog restore --config",
            offline: false,
            check: |out, _| {
                assert!(out.contains("export identical"), "{out}");
                let count: u64 = out.lines().last().unwrap().trim().parse().unwrap();
                assert!(count >= 1, "{out}");
            },
        },
        Expectation {
            marker: "sharelog audit export > events.jsonl",
            offline: true,
            check: |_, dir| {
                let then: Value = serde_json::from_str(
                    &std::fs::read_to_string(dir.join("shares-then.json")).unwrap(),
                )
                .unwrap();
                assert_eq!(then, json!([]), "nothing existed in 2025");
                let at: Value = serde_json::from_str(
                    &std::fs::read_to_string(dir.join("shares-at-1200.json")).unwrap(),
                )
                .unwrap();
                at.as_array().unwrap().iter().for_each(is_share);
                let events =
                    json_values(&std::fs::read_to_string(dir.join("events.jsonl")).unwrap());
                assert_eq!(events[0]["seq"], 1, "a full export starts at seq 1");
            },
        },
        Expectation {
            marker: "audit-$(date +%F).jsonl",
            offline: true,
            check: |out, dir| {
                let saved = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .find(|n| n.starts_with("audit-"))
                    .unwrap();
                assert!(
                    !json_values(&std::fs::read_to_string(dir.join(saved)).unwrap()).is_empty()
                );
                let visits = json_values(out);
                assert!(!visits.is_empty(), "the examples above visited shares");
                assert!(visits.iter().all(|e| e["type"] == "ShareVisited"), "{out}");
            },
        },
    ]
}
