//! Every metric, declared once with its help text (docs/operations.md). Labels carry
//! route patterns, methods, formats and outcomes: never ids or addresses.

use crate::domain::{VisitFormat, VisitKind};
use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;

pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub share_visits: IntCounterVec,
    pub share_previews: IntCounterVec,
    pub shares: IntGauge,
    pub events_appended: IntCounterVec,
    pub commit_batch_size: Histogram,
    pub commit_seconds: Histogram,
    pub upstream_requests: IntCounterVec,
    pub audit_followers: IntGauge,
    pub audit_catch_ups: IntCounter,
    pub store_writable: IntGauge,
    pub unlock_failures: IntCounterVec,
}

/// The process-wide metrics. Global because a counter is process state by nature
/// and every layer (store, upstream, http) records into it.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// Registers `metric` with `r` and returns it: a metric is declared and registered in one step.
fn registered<C: Collector + Clone + 'static>(r: &Registry, metric: C) -> C {
    if let Err(e) = r.register(Box::new(metric.clone())) {
        log::error!("metric registration failed: {e}");
    }
    metric
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("{name}: {e}"));
    registered(r, c)
}

fn histogram(r: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
    let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        .unwrap_or_else(|e| unreachable!("{name}: {e}"));
    registered(r, h)
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    registered(
        r,
        IntGauge::new(name, help).unwrap_or_else(|e| unreachable!("{name}: {e}")),
    )
}

const HTTP_SECONDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
const BATCH_EVENTS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];
const COMMIT_SECONDS: [f64; 10] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
];

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        let (http_requests, http_duration) = http(r);
        let (share_visits, share_previews) = opens(r);
        let (events_appended, commit_batch_size, commit_seconds) = commits(r);
        let (audit_followers, audit_catch_ups) = audit_feed(r);
        // Held by the registry alone: it never changes.
        build_info(r);
        Metrics {
            http_requests,
            http_duration,
            share_visits,
            share_previews,
            shares: gauge(r, "sharelog_shares", "Live (not deleted) shares."),
            events_appended,
            commit_batch_size,
            commit_seconds,
            upstream_requests: counter(
                r,
                "sharelog_upstream_requests_total",
                "Requests to the music server's Subsonic API, by call and outcome.",
                &["call", "outcome"],
            ),
            audit_followers,
            audit_catch_ups,
            store_writable: gauge(
                r,
                "sharelog_store_writable",
                "1 while the event log accepts writes; 0 after a write or fsync failed (poisoned until restart).",
            ),
            unlock_failures: counter(
                r,
                "sharelog_share_unlock_failures_total",
                "Wrong passwords given for password shares, by how (the unlock form, HTTP Basic).",
                &["via"],
            ),
            registry,
        }
    }

    /// Adds a batch's durable visits and previews, by kind and format (indexed by
    /// `VisitKind::index` and `VisitFormat::index`: the store's `OpenTally`, named
    /// here by its shape so that metrics, which the store records into, need not know the store).
    pub fn count_opens(&self, opens: &[[u64; VisitFormat::ALL.len()]; VisitKind::ALL.len()]) {
        for kind in VisitKind::ALL {
            let counter = match kind {
                VisitKind::Visit => &self.share_visits,
                VisitKind::Preview => &self.share_previews,
            };
            for format in VisitFormat::ALL {
                let n = opens[kind.index()][format.index()];
                if n > 0 {
                    counter.with_label_values(&[format.as_str()]).inc_by(n);
                }
            }
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            log::error!("metrics encoding failed: {e}");
        }
        buf
    }
}

fn http(r: &Registry) -> (IntCounterVec, HistogramVec) {
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "sharelog_http_request_duration_seconds",
            "Time to answer an HTTP request (until the body starts), by method and route pattern.",
        )
        .buckets(HTTP_SECONDS.to_vec()),
        &["method", "route"],
    )
    .unwrap_or_else(|e| unreachable!("http duration: {e}"));
    let requests = counter(
        r,
        "sharelog_http_requests_total",
        "HTTP requests answered, by method, route pattern and status.",
        &["method", "route", "status"],
    );
    (requests, registered(r, duration))
}

fn opens(r: &Registry) -> (IntCounterVec, IntCounterVec) {
    let visits = counter(
        r,
        "sharelog_share_visits_total",
        "Visits to public share links that were recorded, by format.",
        &["format"],
    );
    let previews = counter(
        r,
        "sharelog_share_previews_total",
        "Opens of public share links by link-preview bots and prefetches that were recorded (not visits), by format.",
        &["format"],
    );
    (visits, previews)
}

fn commits(r: &Registry) -> (IntCounterVec, Histogram, Histogram) {
    let appended = counter(
        r,
        "sharelog_events_appended_total",
        "Events durably appended to the log, by event type.",
        &["type"],
    );
    let batch_size = histogram(
        r,
        "sharelog_event_commit_batch_size",
        "Events written per committer batch (one fsync may cover several).",
        &BATCH_EVENTS,
    );
    let seconds = histogram(
        r,
        "sharelog_event_commit_seconds",
        "Time from the start of a batch to the end of its fsync (decide, write, flush, fsync).",
        &COMMIT_SECONDS,
    );
    (appended, batch_size, seconds)
}

fn audit_feed(r: &Registry) -> (IntGauge, IntCounter) {
    let followers = gauge(
        r,
        "sharelog_audit_followers",
        "Clients following the audit feed (GET /api/audit?follow=true).",
    );
    let catch_ups = IntCounter::new(
        "sharelog_audit_follower_catch_ups_total",
        "Times an audit follower fell behind the live tail and read the missed events back from the log.",
    )
    .unwrap_or_else(|e| unreachable!("audit catch-ups: {e}"));
    (followers, registered(r, catch_ups))
}

/// `sharelog_build_info{version}`, always 1.
fn build_info(r: &Registry) -> IntGaugeVec {
    let info = IntGaugeVec::new(
        Opts::new("sharelog_build_info", "Build metadata; always 1."),
        &["version"],
    )
    .unwrap_or_else(|e| unreachable!("build info: {e}"));
    info.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
    registered(r, info)
}
