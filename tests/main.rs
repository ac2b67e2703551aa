//! Every black-box test of sharelog, in one test binary: the crate and the
//! shared `support` code compile and link once instead of once per file (44
//! files used to be 44 binaries). Each file below is still one subject; run one
//! with `cargo test --test suite store_log::`.
//!
//! Cargo's automatic test discovery is off (`autotests = false` in Cargo.toml),
//! so a new `tests/*.rs` must be added here; `every_test_file_is_in_the_suite`
//! fails when one is not, rather than letting it silently never run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

// The log on disk: appends, kill -9, the export mirror, previews in the log, replicas on PostgreSQL.
mod store_close;
mod store_controls;
mod store_controls_fixture;
mod store_log;
mod store_mirror;
mod store_owners;
mod store_postgres;
mod store_postgres_follow;
mod store_postgres_offline;
mod store_previews;
mod store_properties;
mod store_replicas;
mod store_replicas_limits;

// Backups, restore and the audit trail.
mod audit_api;
mod audit_follow;
mod audit_vectors;
mod backup_cli;
mod backup_drill;
mod backup_restore;
mod cli_audit;

// The owner API and the Subsonic front door.
mod api_body_first;
mod api_controls;
mod api_previews;
mod api_share;
mod api_visits;
mod controls_secrets;
mod openapi_schemathesis;
mod subsonic_client;
mod subsonic_controls;
mod subsonic_shares;
mod upstream_harness;
mod upstream_login_check;

// Who may do what: tokens and delegated login.
mod auth_time_window;
mod delegated_auth;

// Public links: JSON/M3U, visits, streams, the page for people, protected shares.
mod public_access;
mod public_access_exact;
mod public_access_limits;
mod public_access_links;
mod public_access_player;
mod public_access_throttle;
mod public_access_transfers;
mod public_artist_share;
mod public_pages;
mod public_streams;
mod public_visits;
mod share_page;
mod share_page_browser;
mod share_page_deep_link;
mod share_page_locked_browser;
mod share_page_prerender;
mod share_page_proxy;
mod share_page_shown;

// The owner's page: sign-in, sessions, CSRF, the page in a browser, the search.
mod api_search;
mod manage_page_browser;
mod manage_page_edit_browser;
mod manage_session;

// What an attacker and a broken environment do.
mod faults_disk_full;
mod faults_fsync;
mod faults_http2_off;
mod faults_key_file;
mod hardening_bodies;
mod hardening_ipv6;
mod hardening_metrics;
mod hardening_proxied_types;
mod hardening_transfer_ends;
mod hardening_transfers;
mod hardening_upstream;

// Owners' notifications: the API, deliveries to a real receiver, kill -9 and memory.
mod notify_api;
mod notify_delivery;
mod notify_links;
mod notify_receiver_doc;
mod notify_restart;

// Running it: CLI, logs, metrics, alerts, SIGTERM, the proxy configs, the demo.
mod cli_backup;
mod cli_config;
mod cli_messages;
mod cli_token;
mod demo_script;
mod deploy_follow;
mod deploy_proxy;
mod docs_examples;
mod ops_alerts;
mod ops_logs;
mod ops_metrics;
mod ops_sigterm;

/// A test file that is not declared above would never be compiled or run.
#[test]
fn every_test_file_is_in_the_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs") {
            if module != "main" && !this.contains(&format!("\nmod {module};\n")) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not declared in tests/main.rs: {missing:?}"
    );
}
