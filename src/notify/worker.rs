//! The delivery worker: a thread of its own with a one-thread runtime, so that reading
//! the log (blocking) and waiting on targets never takes a request's or the committer's
//! time. Its reading side is `reading` (events to news), its sending side `delivery`
//! (requests, retries and the durable positions). One round: make sure this process
//! leads the work (`Store::leads`), read the log where the outbox says (news per owner),
//! start the due deliveries (at most one per owner, `MAX_SENDING` in all), then wait for
//! one to end, a retry to come due, new events (the durable seq is looked at every
//! `POLL`), or the stop.
//!
//! Durable positions, kept with the log: the cursor `notify` (every event up to it is
//! done for everyone), and per owner a mark `notify.{hash of the user id}` written when
//! their delivery ends while someone older still waits, so that a restart repeats only
//! what was in flight. `notify.started` says the worker ever ran on this log: the first
//! time, it starts at the log's head (a restored or upgraded log does not send its past).

use super::facts::Facts;
use super::news::News;
use super::outbox::{Outbox, BOUNDS};
use super::send;
use crate::config::Settings;
use crate::domain::UserId;
use crate::metrics::METRICS;
use crate::store::{Store, StoreError};
use futures_util::future::{select, Either, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(super) const CURSOR: &str = "notify";
const STARTED: &str = "notify.started";
/// How often the durable seq is looked at for new events.
const POLL: Duration = Duration::from_millis(200);
/// How often leadership is asked for (several processes on one log).
const LEAD_CHECK: Duration = Duration::from_secs(1);
/// Events read per chunk, and chunks per round before deliveries get their turn.
pub(super) const CHUNK: u64 = 512;
pub(super) const CHUNKS_PER_ROUND: u32 = 8;
/// Deliveries in flight at once, all owners together.
pub(super) const MAX_SENDING: usize = 16;
/// The cursor is written at most this often when only reading moved it.
pub(super) const SAVE_EVERY: Duration = Duration::from_secs(1);

/// The running worker; stopped (and joined) before the log closes.
pub struct Worker {
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Stop {
    asked: AtomicBool,
    wake: tokio::sync::Notify,
}

/// Starts the worker on `store`; `None` (logged) when no thread can be made.
pub fn start(store: Store, settings: Arc<Settings>) -> Option<Worker> {
    for target in &settings.notify.allowed_targets {
        if target.starts_with("https://") {
            log::warn!(
                "notify.allowedTargets: {target} is https, and this build sends plain HTTP only: \
                 notifications to it are dropped; allow a local forwarder instead \
                 (docs/operations.md, \"Notifications\")"
            );
        }
    }
    let stop = Arc::new(Stop::default());
    let inner = stop.clone();
    let thread = std::thread::Builder::new()
        .name("sharelog-notify".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(Round::new(store, settings, inner).run());
        });
    match thread {
        Ok(thread) => Some(Worker {
            stop,
            thread: Some(thread),
        }),
        Err(e) => {
            log::error!("notifications are off: the worker thread could not start: {e}");
            None
        }
    }
}

impl Worker {
    /// Stops the worker: deliveries in flight are abandoned (sent again after a restart).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.asked.store(true, Ordering::SeqCst);
        self.stop.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                log::error!("the notification worker panicked");
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.halt();
    }
}

/// How one delivery ended, and for which outbox (`Round::epoch`).
pub(super) type Sent = (u64, UserId, News, u32, Result<(), String>);

pub(super) struct Round {
    pub(super) store: Store,
    pub(super) settings: Arc<Settings>,
    stop: Arc<Stop>,
    pub(super) client: awc::Client,
    /// While this process leads the work.
    pub(super) outbox: Option<Outbox>,
    /// Counts the outboxes made: a delivery that ends after its outbox was dropped (the
    /// lead lost, a read failed) is not taken for one of the next outbox.
    pub(super) epoch: u64,
    pub(super) facts: Facts,
    lead_checked: Option<Instant>,
    pub(super) saved: u64,
    pub(super) saved_at: Instant,
    pub(super) sending: FuturesUnordered<LocalBoxFuture<'static, Sent>>,
}

impl Round {
    fn new(store: Store, settings: Arc<Settings>, stop: Arc<Stop>) -> Round {
        Round {
            store,
            settings,
            stop,
            client: send::client(),
            outbox: None,
            epoch: 0,
            facts: Facts::default(),
            lead_checked: None,
            saved: 0,
            saved_at: Instant::now(),
            sending: FuturesUnordered::new(),
        }
    }

    async fn run(mut self) {
        while !self.stop.asked.load(Ordering::SeqCst) {
            if let Err(e) = self.round() {
                if matches!(e, StoreError::Closed) {
                    break;
                }
                log::error!("notifications: {e}; trying again in a second");
                self.outbox = None;
                self.pause(Duration::from_secs(1)).await;
                continue;
            }
            self.wait().await;
        }
    }

    fn round(&mut self) -> Result<(), StoreError> {
        if !self.lead()? {
            return Ok(());
        }
        self.read()?;
        self.dispatch()?;
        self.save(false)?;
        if let Some(outbox) = &self.outbox {
            METRICS.notify_held.set(outbox.held() as i64);
        }
        Ok(())
    }

    /// Whether this process does the work now; on taking it up, where to start.
    fn lead(&mut self) -> Result<bool, StoreError> {
        let due = self.lead_checked.is_none_or(|t| t.elapsed() >= LEAD_CHECK);
        if !due {
            return Ok(self.outbox.is_some());
        }
        self.lead_checked = Some(Instant::now());
        let leads = self.store.leads(CURSOR)?;
        match (leads, self.outbox.is_some()) {
            (true, false) => {
                let cursor = self.start_cursor()?;
                log::info!("notifications: following the log from seq {cursor}");
                self.outbox = Some(Outbox::new(cursor, BOUNDS));
                self.epoch += 1;
                self.facts = Facts::default();
                self.saved = cursor;
            }
            (false, true) => {
                log::info!("notifications: another process leads them now");
                self.outbox = None;
            }
            _ => {}
        }
        Ok(leads)
    }

    fn start_cursor(&self) -> Result<u64, StoreError> {
        if self.store.cursor(STARTED)? != 0 {
            return self.store.cursor(CURSOR);
        }
        let head = self.store.durable_seq();
        self.store.set_cursor(CURSOR, head)?;
        self.store.set_cursor(STARTED, 1)?;
        Ok(head)
    }

    /// Until a delivery ends, a retry is due, new events may be there, or the stop.
    async fn wait(&mut self) {
        let room = self.sending.len() < MAX_SENDING;
        let more = self.outbox.as_ref().is_some_and(|o| {
            o.read_from() <= self.store.durable_seq() || (room && !o.due(Instant::now()).is_empty())
        });
        let mut wait = if more { Duration::ZERO } else { POLL };
        if let Some(at) = self.outbox.as_ref().and_then(|o| o.next_retry()) {
            wait = wait.min(at.saturating_duration_since(Instant::now()));
        }
        let stop = self.stop.clone();
        let ended = {
            let stopped = pin!(stop.wake.notified());
            let sleep = pin!(actix_web::rt::time::sleep(wait));
            let sending = &mut self.sending;
            let next = pin!(async move {
                match sending.is_empty() {
                    true => std::future::pending().await,
                    false => sending.next().await,
                }
            });
            match select(next, select(sleep, stopped)).await {
                Either::Left((sent, _)) => sent,
                Either::Right(_) => None,
            }
        };
        if let Some(sent) = ended {
            if let Err(e) = self.sent(sent) {
                log::error!("notifications: {e}");
                self.outbox = None;
            }
        }
    }

    async fn pause(&self, d: Duration) {
        let stopped = pin!(self.stop.wake.notified());
        let sleep = pin!(actix_web::rt::time::sleep(d));
        select(sleep, stopped).await;
    }
}
