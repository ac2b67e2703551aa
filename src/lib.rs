//! sharelog: public share links for a Subsonic music server, kept as an event log.
//!
//! Data flows one way: HTTP handler -> command -> `domain::decide` -> `store`
//! appends (group commit, fsync) -> projection applies -> handler answers from it.
//!
//! - `domain`: pure rules: share state, commands, events, `decide`, `apply`
//! - `store`: the event log behind one seam (sled, memory): the committer, hash chain, reads
//! - `projection`: current shares and visit counters folded from the log
//! - `upstream`: the music server's Subsonic API client
//! - `timestamps`: times in JSON answers (RFC 3339 or null), one home for every front door
//! - `shares`: the share service: create, update, delete for every front door
//! - `api`: the owner API `/api/share` (handlers, body parsing, share view)
//! - `public`: the public links `/share/{id}`: raw, m3u, zip, stream and download proxies, visits
//! - `manage`: the owner's page `/share/_manage`: sign-in, sign-out, the page and its files
//! - `auth`: bearer tokens -> the acting user (local secret or delegated to Navidrome)
//! - `subsonic`: the Subsonic share endpoints under `/rest`, for Subsonic clients
//! - `config`: settings from defaults, YAML and `SHARELOG_*` variables
//! - `startup`: wiring; `Application::build` / `port` / `run_until_stopped`
//! - `http`: routes, bounded bodies, request logs, actix's own errors, health, OpenAPI
//! - `error`: failures -> HTTP status + stable code
//! - `metrics`: every Prometheus metric, declared once
//! - `notify`: owners' notifications, delivered from the log by a worker of their own
//! - `cli`: the command line: arguments, and the offline subcommands (audit, replay, rebuild, backup, restore, token)
//! - `fsutil`: whole files written atomically (temp file, fsync, rename, fsync of the directory)

// Locks, signals and files all have safe std APIs; nothing here needs unsafe.
#![forbid(unsafe_code)]
pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod error_code;
#[cfg(test)]
mod front_door_tests;
pub mod fsutil;
pub mod hex;
pub mod http;
pub mod manage;
pub mod metrics;
pub mod notify;
pub mod projection;
pub mod public;
pub mod shares;
pub mod startup;
pub mod state;
pub mod store;
pub mod subsonic;
pub mod subsonic_api;
pub mod timestamps;
pub mod upstream;
