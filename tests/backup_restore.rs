//! `sharelog restore` from an export, offline: the restored log is the original
//! byte for byte, and every kind of bad input stops it with a clear message and
//! exit 1, leaving no data directory (and no half-built one) behind.

use crate::support;

use support::commands::{create, delete, rename, visit, POLICY};
use support::offline::{config_for, created, sharelog};

use sharelog::store::{Log, Store};
use std::path::{Path, PathBuf};
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A closed log with creates, updates, a delete and visits, from share numbers `base..`.
fn write_log(dir: &Path, base: u128) {
    let store = Store::open(dir, POLICY).unwrap();
    let ids: Vec<_> = (base..base + 4)
        .map(|n| created(&store, n, &format!("share {n}")))
        .collect();
    store
        .execute_blocking(rename(&ids[0], Some(1), "renamed"), None)
        .unwrap()
        .unwrap();
    for id in &ids {
        store.execute_blocking(visit(id), None).unwrap().unwrap();
    }
    store
        .execute_blocking(visit(&ids[1]), None)
        .unwrap()
        .unwrap();
    store
        .execute_blocking(delete(&ids[3]), None)
        .unwrap()
        .unwrap();
    store.close();
    drop(store);
}

/// The export of a fresh log (in `tmp/name`), as bytes.
fn export_of(tmp: &Path, name: &str, base: u128) -> Vec<u8> {
    let dir = tmp.join(name);
    write_log(&dir, base);
    let out = sharelog(&config_for(&dir), &["audit", "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

fn restore(tmp: &Path, target: &Path, export: &[u8]) -> Output {
    let file = tmp.join("input.jsonl");
    std::fs::write(&file, export).unwrap();
    sharelog(
        &config_for(target),
        &["restore", "--from", file.to_str().unwrap()],
    )
}

fn lines(export: &[u8]) -> Vec<Vec<u8>> {
    export
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Nothing of a failed restore is left: no target, no `.name.restoring` beside it.
fn assert_nothing_written(target: &Path) {
    assert!(!target.exists(), "{} was created", target.display());
    let parent = target.parent().unwrap();
    let leftovers: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".restoring"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

fn assert_refused(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert!(
        stderr(out).contains(message),
        "stderr lacks {message:?}: {}",
        stderr(out)
    );
}

#[test]
fn a_restored_log_exports_the_input_byte_for_byte_with_the_same_projections() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    let export = export_of(tmp.path(), "original", 1);
    let target = tmp.path().join("restored");

    let out = restore(tmp.path(), &target, &export);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("restored 11 events (last seq 11"));

    // The export mirror is complete and marked clean: exports and the first start read it.
    assert!(target.join("events.jsonl.clean").exists());
    assert_eq!(std::fs::read(target.join("events.jsonl")).unwrap(), export);
    let again = sharelog(&config_for(&target), &["audit", "export"]);
    assert_eq!(again.stdout, export);
    let verify = sharelog(&config_for(&target), &["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));

    let (a, b) = (Log::open(&original).unwrap(), Log::open(&target).unwrap());
    assert_eq!(a.projections().unwrap(), b.projections().unwrap());
    assert_eq!(a.checkpoint().unwrap(), b.checkpoint().unwrap());
    drop((a, b));

    // The restored log takes new events where the original stopped.
    let store = Store::open(&target, POLICY).unwrap();
    let next = store
        .execute_blocking(create(99, "after"), None)
        .unwrap()
        .unwrap();
    assert_eq!(next.seqs, vec![12]);
    store.close();
}

#[test]
fn an_empty_target_directory_is_replaced_by_the_restored_one() {
    let tmp = tempfile::tempdir().unwrap();
    let export = export_of(tmp.path(), "original", 1);
    let target = tmp.path().join("restored");
    std::fs::create_dir(&target).unwrap();
    let out = restore(tmp.path(), &target, &export);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(target.join("db").exists());
}

#[test]
fn a_truncated_export_is_refused_naming_the_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let export = export_of(tmp.path(), "original", 1);
    let cut = &export[..export.len() - 40];
    let target = tmp.path().join("restored");
    assert_refused(
        &restore(tmp.path(), &target, cut),
        "FAIL seq 11 (line 11): not a JSON event",
    );
    assert_nothing_written(&target);
}

#[test]
fn a_tampered_line_is_refused_naming_its_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let export = export_of(tmp.path(), "original", 1);
    let text = String::from_utf8(export).unwrap();
    let tampered = text.replacen("\"renamed\"", "\"Renamed\"", 1);
    assert_ne!(tampered, text);
    let target = tmp.path().join("restored");
    assert_refused(
        &restore(tmp.path(), &target, tampered.as_bytes()),
        "FAIL seq 5: hash does not match the event's content",
    );
    assert_nothing_written(&target);
}

#[test]
fn events_out_of_order_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = lines(&export_of(tmp.path(), "original", 1));
    lines.swap(6, 7);
    let target = tmp.path().join("restored");
    assert_refused(
        &restore(tmp.path(), &target, &lines.concat()),
        "FAIL seq 7: missing (the next line has seq 8)",
    );
    assert_nothing_written(&target);
}

#[test]
fn a_file_that_continues_with_another_logs_events_is_refused_at_the_join() {
    let tmp = tempfile::tempdir().unwrap();
    let ours = lines(&export_of(tmp.path(), "ours", 1));
    let theirs = lines(&export_of(tmp.path(), "theirs", 100));
    let spliced = [&ours[..6], &theirs[6..]].concat().concat();
    let target = tmp.path().join("restored");
    assert_refused(
        &restore(tmp.path(), &target, &spliced),
        "FAIL seq 7: prevHash does not match the previous event's hash",
    );
    assert_nothing_written(&target);
}

/// Re-seals export lines after they were edited: every `prevHash` and `hash` computed
/// again, as someone who wanted a tampered file to pass the chain check would.
fn resealed(events: &[serde_json::Value]) -> Vec<u8> {
    use sharelog::store::chain;
    let mut prev = chain::GENESIS;
    let mut out = Vec::new();
    for e in events {
        let mut e = e.clone();
        let m = e.as_object_mut().unwrap();
        m.remove("hash");
        m.insert("prevHash".into(), chain::to_hex(&prev).into());
        let hash = chain::link(&prev, &chain::canonical_bytes(&e));
        e["hash"] = chain::to_hex(&hash).into();
        out.extend_from_slice(&chain::canonical_bytes(&e));
        out.push(b'\n');
        prev = hash;
    }
    out
}

fn events_of(export: &[u8]) -> Vec<serde_json::Value> {
    lines(export)
        .iter()
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

/// Restores `events` re-sealed and expects the refusal `message`, with nothing written.
fn assert_resealed_refused(tmp: &Path, events: &[serde_json::Value], message: &str) {
    let target = tmp.join("restored");
    let export = resealed(events);
    // The file passes the chain check: only the rules can refuse it.
    let file = tmp.join("resealed.jsonl");
    std::fs::write(&file, &export).unwrap();
    let verify = sharelog(
        &config_for(&tmp.join("none")),
        &["audit", "verify", "--file", file.to_str().unwrap()],
    );
    assert!(verify.status.success(), "{}", stderr(&verify));
    assert_refused(&restore(tmp, &target, &export), message);
    assert_nothing_written(&target);
}

#[test]
fn a_resealed_export_unchanged_restores() {
    let tmp = tempfile::tempdir().unwrap();
    let export = export_of(tmp.path(), "original", 1);
    // The re-sealing itself changes nothing: the refusals below come from the edits.
    assert_eq!(resealed(&events_of(&export)), export);
}

#[test]
fn a_resealed_visit_to_a_share_that_never_existed_is_refused_naming_its_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let mut events = events_of(&export_of(tmp.path(), "original", 1));
    assert_eq!(events[5]["type"], "ShareVisited");
    events[5]["stream"] = "NeverCreated".into();
    assert_resealed_refused(
        tmp.path(),
        &events,
        "event 6 breaks the rules a server keeps: ShareVisited of a share that was never created",
    );
}

#[test]
fn a_resealed_second_create_of_one_share_is_refused_naming_its_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let mut events = events_of(&export_of(tmp.path(), "original", 1));
    assert_eq!(events[1]["type"], "ShareCreated");
    events[1]["stream"] = events[0]["stream"].clone();
    assert_resealed_refused(
        tmp.path(),
        &events,
        "event 2 breaks the rules a server keeps: ShareCreated of a share that already exists",
    );
}

#[test]
fn a_resealed_version_that_jumps_is_refused_naming_its_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let mut events = events_of(&export_of(tmp.path(), "original", 1));
    assert_eq!(events[4]["type"], "ShareUpdated");
    events[4]["version"] = 7.into();
    assert_resealed_refused(
        tmp.path(),
        &events,
        "event 5 breaks the rules a server keeps: version 7 where the stream's next version is 2",
    );
}

#[test]
fn a_resealed_visit_after_a_delete_is_refused_naming_its_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let mut events = events_of(&export_of(tmp.path(), "original", 1));
    // seq 11 deletes the fourth share; a visit to it after that, sealed in.
    assert_eq!(events[10]["type"], "ShareDeleted");
    let mut after = events[8].clone();
    assert_eq!(after["stream"], events[10]["stream"]);
    after["seq"] = 12.into();
    after["version"] = 4.into();
    events.push(after);
    assert_resealed_refused(
        tmp.path(),
        &events,
        "event 12 breaks the rules a server keeps: ShareVisited of a deleted share",
    );
}

#[test]
fn an_empty_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("restored");
    assert_refused(
        &restore(tmp.path(), &target, b""),
        "is empty: there are no events to restore",
    );
    assert_nothing_written(&target);
}

#[test]
fn a_non_empty_target_directory_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let export = export_of(tmp.path(), "original", 1);
    let target = tmp.path().join("restored");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "keep me").unwrap();
    assert_refused(
        &restore(tmp.path(), &target, &export),
        "is not empty (it holds notes.txt)",
    );
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);

    // A directory that holds a log is refused too, and its log is untouched.
    let original = tmp.path().join("original");
    let before = sharelog(&config_for(&original), &["audit", "export"]).stdout;
    assert_refused(
        &restore(tmp.path(), &original, &export),
        "already holds an event log",
    );
    assert_eq!(
        sharelog(&config_for(&original), &["audit", "export"]).stdout,
        before
    );
}

/// A log written straight through `Log::import`: `shares` shares (the first one of
/// 80 songs, a line longer than a sled row) and `visits` visits spread over them: all
/// shares first, or with `spread`, one share created every `(shares + visits) / shares`
/// events, so that later restore batches introduce shares of their own.
/// Every event is one the rules allow: a restore refuses any other.
fn write_long_log(dir: &Path, shares: u64, visits: u64, spread: bool) {
    use sharelog::domain::*;
    use sharelog::store::{chain, Envelope};
    use time::format_description::well_known::Rfc3339;
    let start = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let ids: Vec<ShareId> = (0..shares)
        .map(|n| ShareId::from_random((n as u128 + 7).to_be_bytes()))
        .collect();
    let mut versions = vec![0u64; shares as usize];
    let mut prev = chain::GENESIS;
    let mut events = Vec::new();
    let total = shares + visits;
    let mut created = 0u64;
    for seq in 1..=total {
        let create = match spread {
            false => seq <= shares,
            true => (seq - 1) % (total / shares) == 0 && created < shares,
        };
        let i = match create {
            true => created as usize,
            false => ((seq - 1) % created) as usize,
        };
        created += u64::from(create);
        versions[i] += 1;
        let event = if create {
            Event::ShareCreated(ShareCreated {
                password: None,
                max_visits: None,
                owner_id: UserId("u-1".into()),
                owner_name: "ann".into(),
                description: Some(format!("share {seq} é")),
                format: Format::Raw,
                max_bit_rate: 0,
                downloadable: false,
                expires_at: None,
                items: ShareItems {
                    songs: (0..if seq == 1 { 80 } else { 1 })
                        .map(|n| SongItem {
                            id: format!("song-{seq}-{n}"),
                            title: format!("Song number {n} of a long share, é"),
                            artist: "Ann Artist".into(),
                            album: "An Album With A Long Name".into(),
                        })
                        .collect(),
                    ..Default::default()
                },
            })
        } else {
            Event::ShareVisited(VisitData {
                format: VisitFormat::M3u,
                download: seq % 3 == 0,
                player: Some("VLC \"3\"".into()),
                client_ip: None,
                user_agent: Some(format!("agent {seq}")),
                link: None,
            })
        };
        let at = start + time::Duration::milliseconds(seq as i64);
        let env = Envelope {
            seq,
            id: format!("00000000-0000-4000-8000-{seq:012x}"),
            stream: ids[i].clone().into(),
            version: versions[i],
            at,
            actor: None,
            event,
            prev_hash: prev,
            hash: [0; 32],
        };
        let (env, _) = env.seal_to_line(&at.format(&Rfc3339).unwrap()).unwrap();
        prev = env.hash;
        events.push(env);
    }
    let log = Log::create(dir).unwrap();
    log.import(events).unwrap();
    log.flush().unwrap();
    drop(log);
}

#[test]
fn a_long_export_with_lines_in_another_form_restores_every_row_and_history() {
    // Given a log of several restore batches (and of sled batches of `S` rows), with
    // a line longer than a sled row,
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    write_long_log(&original, 50, 20_000, false);
    let out = sharelog(&config_for(&original), &["audit", "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = out.stdout;
    // and an export in which some lines are valid but not canonical (a space, an
    // escaped character): their hashes still hold, over the canonical form.
    let mut input = lines(&export);
    let spaced = String::from_utf8(input[0].clone())
        .unwrap()
        .replacen(':', ": ", 1);
    input[0] = spaced.into_bytes();
    let escaped = String::from_utf8(input[9000].clone())
        .unwrap()
        .replacen("VLC", "VL\\u0043", 1);
    assert_ne!(escaped.as_bytes(), &input[9000][..]);
    input[9000] = escaped.into_bytes();
    // (and no newline after the last line)
    let mut input = input.concat();
    input.pop();

    // When it is restored,
    let target = tmp.path().join("restored");
    let out = restore(tmp.path(), &target, &input);
    assert!(out.status.success(), "{}", stderr(&out));

    // then the log holds every event in canonical form, in its rows in sled (not
    // only in the export mirror), with every share's history and projection.
    assert_restored(&original, &target, &export);
}

/// Shares that a later restore batch introduces keep their own ids: the writer hands
/// each emptied batch back to be filled again, and one that still listed the shares of
/// its first use numbered them twice, so every later share's events went to another id.
#[test]
fn shares_introduced_by_later_batches_keep_their_own_history() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    // Five restore batches, a new share every 3 333 events.
    write_long_log(&original, 12, 40_000, true);
    let out = sharelog(&config_for(&original), &["audit", "export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let target = tmp.path().join("restored");
    let restored = restore(tmp.path(), &target, &out.stdout);
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_restored(&original, &target, &out.stdout);
}

/// `target`, restored from `export` of `original`, holds its events (in sled's rows and
/// the export mirror), projections, checkpoint and every share's history.
fn assert_restored(original: &Path, target: &Path, export: &[u8]) {
    let (a, b) = (Log::open(original).unwrap(), Log::open(target).unwrap());
    let rows: Vec<Vec<u8>> = b.events(1).map(|e| e.unwrap().line.to_vec()).collect();
    let want: Vec<Vec<u8>> = lines(export)
        .into_iter()
        .map(|mut l| {
            l.pop();
            l
        })
        .collect();
    assert_eq!(rows.len(), want.len());
    assert!(rows == want, "the restored rows differ from the export");
    let shares = a.projections().unwrap();
    // Compared whole, reported short (the projections of 40 000 events print long).
    assert!(
        shares == b.projections().unwrap(),
        "the restored projections differ from the original's"
    );
    assert_eq!(a.checkpoint().unwrap(), b.checkpoint().unwrap());
    drop((a, b));
    let (a, b) = (
        Store::open(original, POLICY).unwrap(),
        Store::open(target, POLICY).unwrap(),
    );
    for share in shares.all() {
        let lines = |s: &Store| -> Vec<Vec<u8>> {
            s.history(&share.id)
                .map(|e| e.unwrap().line.to_vec())
                .collect()
        };
        let history = lines(&a);
        assert_eq!(history.len() as u64, share.version);
        assert_eq!(history, lines(&b));
    }
    a.close();
    b.close();
    assert_eq!(std::fs::read(target.join("events.jsonl")).unwrap(), export);
}
