//! The test vectors of docs/audit.md, checked against the Rust hasher: both
//! through the typed envelope and through the canonical bytes of the raw JSON.

use serde_json::Value;
use sharelog::domain::{Event, VisitFormat};
use sharelog::store::{chain, Envelope};
use time::format_description::well_known::Rfc3339;

const VECTORS: &str = include_str!("data/audit_vectors.jsonl");

#[test]
fn the_published_vectors_hash_as_documented() {
    let mut prev = chain::GENESIS;
    for line in VECTORS.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        let hash = chain::from_hex(v["hash"].as_str().unwrap()).unwrap();
        assert_eq!(chain::from_hex(v["prevHash"].as_str().unwrap()), Some(prev));
        v.as_object_mut().unwrap().remove("hash");
        assert_eq!(chain::link(&prev, &chain::canonical_bytes(&v)), hash);

        prev = hash;
    }
}

/// Vector 1's illustrative playlist tracks lack fields the current `Track` has,
/// so only the others (the update, the visit, the preview, and vectors 5 to 9 of the
/// owner's controls) decode as typed events.
#[test]
fn typed_envelopes_reseal_to_the_published_hashes() {
    for line in VECTORS.lines().skip(1) {
        let env = Envelope::from_line(line.as_bytes()).unwrap();
        assert!(env.is_sealed(), "seq {}", env.seq);
    }
}

#[test]
fn a_changed_field_breaks_the_seal() {
    let line = VECTORS.lines().nth(1).unwrap();
    let mut env = Envelope::from_line(line.as_bytes()).unwrap();
    env.version += 1;
    assert!(!env.is_sealed());
}

/// Vector 4 is what the committer writes for a preview: its direct writer (the
/// hot path, not the generic `Value` one) gives the published hash.
#[test]
fn the_preview_vector_is_what_the_committer_writes() {
    let line = VECTORS.lines().nth(3).unwrap();
    let env = Envelope::from_line(line.as_bytes()).unwrap();
    let Event::SharePreviewed(data) = &env.event else {
        panic!("vector 4 is not a preview: {:?}", env.event)
    };
    assert_eq!(data.format, VisitFormat::Html);
    let published = env.hash;
    let at = env.at.format(&Rfc3339).unwrap();
    let (sealed, stored) = Envelope {
        hash: [0; 32],
        ..env
    }
    .seal_to_line(&at)
    .unwrap();
    assert_eq!(sealed.hash, published);
    let stored: Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored, serde_json::from_str::<Value>(line).unwrap());
}

/// Vectors 5 to 9 are the owner's controls, one per new type and new field shape, each
/// with the type version docs/audit.md gives it; the committer's direct writer gives
/// every one of them its published bytes and hash (vector 7: a visit through a link).
#[test]
fn the_controls_vectors_are_what_the_committer_writes_with_their_type_versions() {
    let expected = [
        ("ShareCreated", 2),
        ("ShareLinkAdded", 1),
        ("ShareVisited", 2),
        ("ShareUpdated", 2),
        ("ShareLinkRevoked", 1),
    ];
    let lines: Vec<&str> = VECTORS.lines().skip(4).take(expected.len()).collect();
    assert_eq!(lines.len(), expected.len());
    for (line, (name, version)) in lines.into_iter().zip(expected) {
        let env = Envelope::from_line(line.as_bytes()).unwrap();
        assert_eq!(
            (env.event.type_name(), env.event.type_version()),
            (name, version)
        );
        let published = env.hash;
        let at = env.at.format(&Rfc3339).unwrap();
        let (sealed, stored) = Envelope {
            hash: [0; 32],
            ..env
        }
        .seal_to_line(&at)
        .unwrap();
        assert_eq!(sealed.hash, published, "{name}");
        assert_eq!(
            serde_json::from_slice::<Value>(&stored).unwrap(),
            serde_json::from_str::<Value>(line).unwrap()
        );
        // The same data under the other version is refused: one form per event.
        let mut v: Value = serde_json::from_str(line).unwrap();
        v["typeVersion"] = (3 - version).into();
        assert!(
            Envelope::from_json(v).is_err(),
            "{name} as version {}",
            3 - version
        );
    }
    let Event::ShareVisited(visit) =
        Envelope::from_line(VECTORS.lines().nth(6).unwrap().as_bytes())
            .unwrap()
            .event
    else {
        panic!("vector 7 is not a visit")
    };
    assert_eq!(visit.link.unwrap().as_str(), "Lq7RtY2vNw9Xk3PzM4cB8d");
}

/// Vector 10 is an owner's notification settings, on `owner:{userId}`: the committer's
/// direct writer gives its published bytes and hash, and it decodes to the owner's stream.
#[test]
fn the_owner_stream_vector_is_what_the_committer_writes() {
    use sharelog::domain::{NotifyOn, StreamId, UserId};
    let line = VECTORS.lines().nth(9).unwrap();
    let env = Envelope::from_line(line.as_bytes()).unwrap();
    assert_eq!(env.stream, StreamId::Owner(UserId("usr-2f9c1a".into())));
    let Event::NotifySettingsChanged(change) = &env.event else {
        panic!("vector 10 is not NotifySettingsChanged: {:?}", env.event)
    };
    let notify = change.notify.as_ref().unwrap();
    assert_eq!(notify.on, vec![NotifyOn::FirstVisit, NotifyOn::LinkRevoked]);
    let published = env.hash;
    let at = env.at.format(&Rfc3339).unwrap();
    let (sealed, stored) = Envelope {
        hash: [0; 32],
        ..env
    }
    .seal_to_line(&at)
    .unwrap();
    assert_eq!(sealed.hash, published);
    assert_eq!(
        serde_json::from_slice::<Value>(&stored).unwrap(),
        serde_json::from_str::<Value>(line).unwrap()
    );
}

/// The standalone verifier, written from docs/audit.md alone, reaches the head the
/// Rust hasher computes.
#[test]
fn the_python_verifier_agrees_on_the_head() {
    let last = VECTORS.lines().next_back().unwrap();
    let head = serde_json::from_str::<Value>(last).unwrap()["hash"].clone();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/verify_audit.py"
        ))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/audit_vectors.jsonl"
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let n = VECTORS.lines().count();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "OK {n} events, last seq {n}, head {}",
            head.as_str().unwrap()
        )
    );
}
