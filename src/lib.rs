//! sharelog: public share links for a Subsonic music server, kept as an event log.
//!
//! - `domain`: pure rules: share state, commands, events, `decide`, `apply`
//! - `store`: the sled event log: group-committing writer, hash chain, reads
//! - `projection`: current shares and visit counters folded from the log
//! - `metrics`: every Prometheus metric, declared once
pub mod domain;
pub mod metrics;
pub mod projection;
pub mod store;
