//! `GET /api/audit?follow=true`: the log from `after` on, then every batch as it
//! becomes durable, in seq order, each event once.
//!
//! One task per follower. It first reads the log from disk up to the durable seq
//! it saw after subscribing, then forwards the batches the syncer publishes
//! (`store::subscribe`). A batch whose first seq is beyond the next one expected
//! means the follower's queue overflowed while it was slow: the missing seqs are
//! read back from the log before that batch goes out. When the queue runs dry after
//! an overflow, no later batch may come to show the gap, so the log is read up to
//! the durable seq then. So nothing is skipped, held back or sent twice, whatever
//! the reader's pace, and the committer never waits for it.
//!
//! Memory per follower: its queue (`audit.followerBuffer` batches), one chunk
//! being read and `CHUNKS_IN_FLIGHT` chunks on their way to the socket. A
//! follower that takes nothing for `audit.followerTimeoutSeconds` is dropped.
//! A follow response never ends cleanly: when it ends (timeout, shutdown, a read
//! error) the connection is cut, so a client knows to resume with `after=`.

use crate::metrics::METRICS;
use crate::store::{Durable, Filter, RawEvent, Store, StoreError, Subscription};
use actix_web::rt::time::timeout;
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use futures_util::future::{select, Either};
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Bytes read from the log per blocking call while catching up.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks queued between the follower's task and the response body.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The `audit.*` settings a follower runs with.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub heartbeat: Duration,
    pub stall: Duration,
}

type Chunk = Result<Bytes, std::io::Error>;

/// The streaming response of one follower, whose task starts now.
pub fn respond(
    store: Store,
    subscription: Subscription,
    filter: Filter,
    after: u64,
    pace: Pace,
) -> HttpResponse {
    let (out, rx) = mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let follower = Follower {
        store,
        subscription,
        filter,
        next: after.saturating_add(1),
        pace,
        out,
        last_sent: Instant::now(),
    };
    actix_web::rt::spawn(follower.run());
    let body = futures_util::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(chunk) => Some((chunk, Some(rx))),
            // The task stopped: cut the connection rather than end it as if complete.
            None => Some((Err(std::io::Error::other("the audit feed stopped")), None)),
        }
    });
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(("Cache-Control", "no-store"))
        // nginx passes this response through unbuffered even where buffering is on.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}

/// Ends every follow response once the process is asked to stop (SIGTERM, SIGINT).
/// Graceful shutdown waits for responses in flight, and a feed never finishes by
/// itself: without this, each stop would take the whole shutdown timeout.
pub async fn end_on_shutdown(store: Store) {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::warn!("cannot watch for SIGTERM: audit followers hold a shutdown up to its timeout");
        return;
    };
    select(pin!(term.recv()), pin!(int.recv())).await;
    store.end_followers();
}

/// Why a follower's task ends.
enum Stop {
    /// The client went away, or took nothing for too long.
    Gone,
    /// The log could not be read, or it closed.
    Failed,
}

struct Follower {
    store: Store,
    subscription: Subscription,
    filter: Filter,
    /// The seq the client gets next (if the filter keeps it).
    next: u64,
    pace: Pace,
    out: mpsc::Sender<Chunk>,
    last_sent: Instant,
}

impl Follower {
    async fn run(mut self) {
        // Subscribed before this read: later batches reach the queue or are read back.
        let durable = self.store.durable_seq();
        if self.catch_up(durable).await.is_err() {
            return;
        }
        while self.follow_one().await.is_ok() {}
    }

    /// Waits for the next batch (or the heartbeat, or the client leaving) and passes it on.
    async fn follow_one(&mut self) -> Result<(), Stop> {
        let quiet = self.pace.heartbeat.saturating_sub(self.last_sent.elapsed());
        let waited = {
            let batch = pin!(self.subscription.recv());
            let gone = pin!(self.out.closed());
            match timeout(quiet, select(batch, gone)).await {
                Err(_) => Ok(None),
                Ok(Either::Right(_)) => Err(Stop::Gone),
                Ok(Either::Left((None, _))) => Err(Stop::Failed),
                Ok(Either::Left((Some(batch), _))) => Ok(Some(batch)),
            }
        };
        match waited? {
            // Quiet for a heartbeat: what a drop took is sent instead, if anything was.
            None => match self.catch_up_missed().await? {
                true => Ok(()),
                false => self.send(Bytes::from_static(b"\n")).await,
            },
            Some(batch) => {
                self.deliver(&batch).await?;
                self.catch_up_missed().await.map(|_| ())
            }
        }
    }

    /// Reads back from the log what was dropped from our queue when no batch is left
    /// in it to show the gap (the dropped one was the last for now); true when it did.
    async fn catch_up_missed(&mut self) -> Result<bool, Stop> {
        if !self.subscription.dry_after_a_miss() {
            return Ok(false);
        }
        let durable = self.store.durable_seq();
        if durable < self.next {
            return Ok(false); // a later batch's gap already brought it
        }
        METRICS.audit_catch_ups.inc();
        self.catch_up(durable).await?;
        Ok(true)
    }

    async fn deliver(&mut self, batch: &Arc<Durable>) -> Result<(), Stop> {
        if batch.last_seq < self.next {
            return Ok(());
        }
        if batch.first_seq > self.next {
            // Batches were dropped from our full queue: the log has them.
            METRICS.audit_catch_ups.inc();
            self.catch_up(batch.first_seq - 1).await?;
        }
        let mut chunk = Vec::with_capacity(batch.lines.len());
        for (seq, line) in batch.lines() {
            if seq >= self.next && self.keeps(line) {
                chunk.extend_from_slice(line);
                chunk.push(b'\n');
            }
        }
        self.next = batch.last_seq + 1;
        match chunk.is_empty() {
            true => Ok(()),
            false => self.send(Bytes::from(chunk)).await,
        }
    }

    fn keeps(&self, line: &[u8]) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        // As the log reader does: a line we cannot read is shown, not hidden.
        serde_json::from_slice(line).map_or(true, |h| self.filter.matches(&h))
    }

    /// Sends the log's events from `next` to `until` (durable), read in chunks off the runtime.
    async fn catch_up(&mut self, until: u64) -> Result<(), Stop> {
        if until < self.next {
            return Ok(());
        }
        let mut events = self
            .store
            .audit_range(self.filter.clone(), self.next - 1, until);
        loop {
            let (rest, read) = web::block(move || {
                let read = read_chunk(&mut events);
                (events, read)
            })
            .await
            .map_err(|_| Stop::Failed)?;
            events = rest;
            let (chunk, done) = match read {
                Ok(read) => read,
                Err(e) => {
                    log::error!("audit feed stopped: {e}");
                    return Err(Stop::Failed);
                }
            };
            if !chunk.is_empty() {
                self.send(Bytes::from(chunk)).await?;
            }
            if done {
                break;
            }
        }
        self.next = until + 1;
        Ok(())
    }

    /// Hands a chunk to the response; a client that takes nothing for the stall limit is dropped.
    async fn send(&mut self, bytes: Bytes) -> Result<(), Stop> {
        match timeout(self.pace.stall, self.out.send(Ok(bytes))).await {
            Ok(Ok(())) => {
                self.last_sent = Instant::now();
                Ok(())
            }
            Ok(Err(_)) => Err(Stop::Gone),
            Err(_) => {
                log::warn!(
                    "an audit follower read nothing for {} s; disconnecting it",
                    self.pace.stall.as_secs()
                );
                Err(Stop::Gone)
            }
        }
    }
}

type Events = Box<dyn Iterator<Item = Result<RawEvent, StoreError>> + Send>;

/// Up to `CHUNK_BYTES` of lines, and whether the iterator is done.
fn read_chunk(events: &mut Events) -> Result<(Vec<u8>, bool), StoreError> {
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 1024);
    while chunk.len() < CHUNK_BYTES {
        match events.next() {
            None => return Ok((chunk, true)),
            Some(ev) => {
                chunk.extend_from_slice(&ev?.line);
                chunk.push(b'\n');
            }
        }
    }
    Ok((chunk, false))
}
