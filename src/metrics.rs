//! Every metric, declared once with its help text (docs/operations.md). Labels carry
//! route patterns, methods, formats and outcomes: never ids or addresses.

use crate::domain::{VisitFormat, VisitKind};
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
    build_info: IntGaugeVec,
}

/// The process-wide metrics. Global because a counter is process state by nature
/// and every layer (store, upstream, http) records into it.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable!("{name}: {e}"))
}

fn histogram(name: &str, help: &str, buckets: Vec<f64>) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
        .unwrap_or_else(|e| unreachable!("{name}: {e}"))
}

impl Metrics {
    fn new() -> Self {
        let m = Metrics {
            registry: Registry::new(),
            http_requests: counter(
                "sharelog_http_requests_total",
                "HTTP requests answered, by method, route pattern and status.",
                &["method", "route", "status"],
            ),
            http_duration: HistogramVec::new(
                HistogramOpts::new(
                    "sharelog_http_request_duration_seconds",
                    "Time to answer an HTTP request (until the body starts), by method and route pattern.",
                )
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
                &["method", "route"],
            )
            .unwrap_or_else(|e| unreachable!("http duration: {e}")),
            share_visits: counter(
                "sharelog_share_visits_total",
                "Visits to public share links that were recorded, by format.",
                &["format"],
            ),
            share_previews: counter(
                "sharelog_share_previews_total",
                "Opens of public share links by link-preview bots and prefetches that were recorded (not visits), by format.",
                &["format"],
            ),
            shares: IntGauge::new("sharelog_shares", "Live (not deleted) shares.")
                .unwrap_or_else(|e| unreachable!("shares: {e}")),
            events_appended: counter(
                "sharelog_events_appended_total",
                "Events durably appended to the log, by event type.",
                &["type"],
            ),
            commit_batch_size: histogram(
                "sharelog_event_commit_batch_size",
                "Events written per committer batch (one fsync may cover several).",
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0],
            ),
            commit_seconds: histogram(
                "sharelog_event_commit_seconds",
                "Time from the start of a batch to the end of its fsync (decide, write, flush, fsync).",
                vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0],
            ),
            upstream_requests: counter(
                "sharelog_upstream_requests_total",
                "Requests to the music server's Subsonic API, by call and outcome.",
                &["call", "outcome"],
            ),
            audit_followers: IntGauge::new(
                "sharelog_audit_followers",
                "Clients following the audit feed (GET /api/audit?follow=true).",
            )
            .unwrap_or_else(|e| unreachable!("audit followers: {e}")),
            audit_catch_ups: IntCounter::new(
                "sharelog_audit_follower_catch_ups_total",
                "Times an audit follower fell behind the live tail and read the missed events back from the log.",
            )
            .unwrap_or_else(|e| unreachable!("audit catch-ups: {e}")),
            store_writable: IntGauge::new(
                "sharelog_store_writable",
                "1 while the event log accepts writes; 0 after a write or fsync failed (poisoned until restart).",
            )
            .unwrap_or_else(|e| unreachable!("store writable: {e}")),
            build_info: IntGaugeVec::new(
                Opts::new("sharelog_build_info", "Build metadata; always 1."),
                &["version"],
            )
            .unwrap_or_else(|e| unreachable!("build info: {e}")),
        };
        m.build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(m.http_requests.clone()),
            Box::new(m.http_duration.clone()),
            Box::new(m.share_visits.clone()),
            Box::new(m.share_previews.clone()),
            Box::new(m.shares.clone()),
            Box::new(m.events_appended.clone()),
            Box::new(m.commit_batch_size.clone()),
            Box::new(m.commit_seconds.clone()),
            Box::new(m.upstream_requests.clone()),
            Box::new(m.audit_followers.clone()),
            Box::new(m.audit_catch_ups.clone()),
            Box::new(m.store_writable.clone()),
            Box::new(m.build_info.clone()),
        ];
        for c in collectors {
            if let Err(e) = m.registry.register(c) {
                log::error!("metric registration failed: {e}");
            }
        }
        m
    }

    /// Adds a batch's durable visits and previews, by kind and format.
    pub fn count_opens(&self, opens: &crate::store::OpenTally) {
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
