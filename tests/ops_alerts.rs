//! `deploy/alerts.yml`: valid rules (`promtool check rules`), each alert firing
//! when it should and only then (`promtool test rules tests/alerts_test.yml`),
//! and every sharelog metric the rules name exported by a real server.

use crate::support;
use crate::support::promtool;

use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

fn run(args: &[&str]) -> String {
    let out = Command::new(promtool::promtool())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn the_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let checked = run(&["check", "rules", "deploy/alerts.yml"]);
    assert!(checked.contains("SUCCESS: 6 rules found"), "{checked}");
    let tested = run(&["test", "rules", "tests/alerts_test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// The `sharelog_*` names in `text`, with a histogram's suffixes taken off.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("sharelog_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(&name);
        names.insert(base.to_string());
    }
    names
}

#[test]
fn every_metric_the_alerts_use_is_exported() {
    // Given a server that has answered requests and called its music server
    let app = spawn_app(|_| {});
    let songs = &upstream::shared().album("Alpha").songs;
    app.create(&alice(), json!({"songs": [songs[0].id]}));
    let scrape = app.req("GET", "/metrics", None, None).text();
    let exported = metric_names(&scrape);
    // Then each metric deploy/alerts.yml names is in its scrape
    let rules =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/alerts.yml"))
            .unwrap();
    let used = metric_names(&rules);
    assert!(used.len() >= 5, "{used:?}");
    let missing: Vec<_> = used.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "alerts use metrics nobody exports: {missing:?}"
    );
    // And the store reports itself writable
    assert!(scrape.contains("\nsharelog_store_writable 1\n"), "{scrape}");
}
