//! The delivery worker: a thread of its own with a one-thread runtime, so that reading
//! the log (blocking) and waiting on targets never takes a request's or the committer's
//! time. One round: make sure this process leads the work (`Store::leads`), read the
//! log where the outbox says (news per owner), start the due deliveries (at most one per
//! owner, `MAX_SENDING` in all), then wait for one to end, a retry to come due, new
//! events (the durable seq is looked at every `POLL`), or the stop.
//!
//! Durable positions, kept with the log: the cursor `notify` (every event up to it is
//! done for everyone), and per owner a mark `notify.{hash of the user id}` written when
//! their delivery ends while someone older still waits, so that a restart repeats only
//! what was in flight. `notify.started` says the worker ever ran on this log: the first
//! time, it starts at the log's head (a restored or upgraded log does not send its past).

use super::facts::Facts;
use super::format::{outgoing, Named, Outgoing};
use super::news::{Kinds, News, Spent, Visit};
use super::outbox::{Outbox, BOUNDS};
use super::retry::{self, Next};
use super::send;
use crate::config::Settings;
use crate::domain::{is_allowed_target, Event, NotifyOn, StreamId, UserId};
use crate::metrics::METRICS;
use crate::store::{Envelope, Filter, Store, StoreError};
use futures_util::future::{select, Either, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use sha2::{Digest, Sha256};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const CURSOR: &str = "notify";
const STARTED: &str = "notify.started";
/// How often the durable seq is looked at for new events.
const POLL: Duration = Duration::from_millis(200);
/// How often leadership is asked for (several processes on one log).
const LEAD_CHECK: Duration = Duration::from_secs(1);
/// Events read per chunk, and chunks per round before deliveries get their turn.
const CHUNK: u64 = 512;
const CHUNKS_PER_ROUND: u32 = 8;
/// Deliveries in flight at once, all owners together.
const MAX_SENDING: usize = 16;
/// The cursor is written at most this often when only reading moved it.
const SAVE_EVERY: Duration = Duration::from_secs(1);

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
type Sent = (u64, UserId, News, u32, Result<(), String>);

struct Round {
    store: Store,
    settings: Arc<Settings>,
    stop: Arc<Stop>,
    client: awc::Client,
    /// While this process leads the work.
    outbox: Option<Outbox>,
    /// Counts the outboxes made: a delivery that ends after its outbox was dropped (the
    /// lead lost, a read failed) is not taken for one of the next outbox.
    epoch: u64,
    facts: Facts,
    lead_checked: Option<Instant>,
    saved: u64,
    saved_at: Instant,
    sending: FuturesUnordered<LocalBoxFuture<'static, Sent>>,
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

    /// Reads the log where the outbox says, up to the durable seq, a few chunks at most.
    fn read(&mut self) -> Result<(), StoreError> {
        let durable = self.store.durable_seq();
        for _ in 0..CHUNKS_PER_ROUND {
            let Some(outbox) = &self.outbox else {
                return Ok(());
            };
            let from = outbox.read_from();
            if from > durable {
                return Ok(());
            }
            let until = durable.min(from + CHUNK - 1);
            for raw in self.store.audit_range(Filter::default(), from - 1, until) {
                let env = raw?.decode()?;
                self.take(&env)?;
            }
        }
        Ok(())
    }

    fn take(&mut self, env: &Envelope) -> Result<(), StoreError> {
        let fresh = self.outbox.as_ref().is_some_and(|o| env.seq > o.read_to());
        if let (true, StreamId::Share(id)) = (fresh, &env.stream) {
            self.facts.advance(id, env);
        }
        let news = self.news_of(env)?;
        if let Some((owner, _)) = &news {
            self.load_mark(owner)?;
        }
        if let Some(outbox) = &mut self.outbox {
            outbox.take(env.seq, news);
        }
        Ok(())
    }

    /// What `env` tells its share's owner, with their settings as they are now.
    fn news_of(&mut self, env: &Envelope) -> Result<Option<(UserId, News)>, StoreError> {
        let StreamId::Share(id) = &env.stream else {
            return Ok(None);
        };
        let (link, visit, mut kinds) = match &env.event {
            Event::ShareVisited(v) => (
                v.link.clone(),
                Some(Visit {
                    format: v.format,
                    download: v.download,
                    player: v.player.as_deref().map(Box::from),
                }),
                Kinds::default()
                    .with(NotifyOn::Visit)
                    .with_if(NotifyOn::Download, v.download),
            ),
            Event::ShareLinkRevoked(l) => (
                Some(l.link.clone()),
                None,
                Kinds::default().with(NotifyOn::LinkRevoked),
            ),
            // Previews and every other event are no news.
            _ => return Ok(None),
        };
        let Some((owner, on)) = self.wants(id) else {
            return Ok(None);
        };
        let mut spent = Spent::default();
        let asks_facts = on.contains(&NotifyOn::FirstVisit) || on.contains(&NotifyOn::LimitReached);
        if visit.is_some() && asks_facts {
            let facts = self.facts.visit(&self.store, id, env.version)?;
            kinds = kinds.with_if(NotifyOn::FirstVisit, facts.first).with_if(
                NotifyOn::LimitReached,
                facts.spent.share || facts.spent.link,
            );
            spent = facts.spent;
        }
        if kinds.told_as(&on).is_none() {
            return Ok(None);
        }
        Ok(Some((
            owner,
            News {
                seq: env.seq,
                event_id: env.id.as_str().into(),
                at: env.at,
                kinds,
                spent,
                share: id.clone(),
                link,
                visit,
            },
        )))
    }

    /// The owner of share `id` and what they ask to hear of, if they have notifications on.
    fn wants(&self, id: &crate::domain::ShareId) -> Option<(UserId, Vec<NotifyOn>)> {
        let shares = self.store.shares();
        let owner = shares.get(id)?.owner_id.clone();
        let on = shares.owner(&owner)?.notify.as_ref()?.on.clone();
        Some((owner, on))
    }

    fn load_mark(&mut self, owner: &UserId) -> Result<(), StoreError> {
        let Some(outbox) = &mut self.outbox else {
            return Ok(());
        };
        if !outbox.knows_mark(owner) {
            let mark = self.store.cursor(&mark_name(owner))?;
            outbox.set_mark(owner, mark);
        }
        Ok(())
    }

    /// Starts every due delivery there is room for.
    fn dispatch(&mut self) -> Result<(), StoreError> {
        let Some(outbox) = &mut self.outbox else {
            return Ok(());
        };
        let mut skipped = Vec::new();
        for owner in outbox.due(Instant::now()) {
            if self.sending.len() >= MAX_SENDING {
                break;
            }
            let Some((news, failures)) = outbox.start(&owner) else {
                continue;
            };
            match prepare(&self.store, &self.settings, &owner, &news) {
                Ok((url, out)) => {
                    let client = self.client.clone();
                    let epoch = self.epoch;
                    self.sending.push(Box::pin(async move {
                        let result = send::send(&client, &url, out).await;
                        (epoch, owner, news, failures, result)
                    }));
                }
                Err(outcome) => {
                    METRICS
                        .notify_deliveries
                        .with_label_values(&[outcome])
                        .inc();
                    skipped.push(owner);
                }
            }
        }
        for owner in skipped {
            self.finished(&owner)?;
        }
        Ok(())
    }

    fn sent(&mut self, (epoch, owner, news, failures, result): Sent) -> Result<(), StoreError> {
        let Some(outbox) = self.outbox.as_mut().filter(|_| epoch == self.epoch) else {
            return Ok(()); // its outbox is gone: it is read and sent again
        };
        let reason = match result {
            Ok(()) => {
                METRICS
                    .notify_deliveries
                    .with_label_values(&["delivered"])
                    .inc();
                return self.finished(&owner);
            }
            Err(reason) => reason,
        };
        METRICS
            .notify_deliveries
            .with_label_values(&["failed"])
            .inc();
        match retry::after_failure(failures + 1, news.at, OffsetDateTime::now_utc()) {
            Next::TryAgainIn(wait) => {
                log::info!(
                    "notification of seq {} for user {}: {reason}; trying again in {} s",
                    news.seq,
                    owner.0,
                    wait.as_secs()
                );
                outbox.retry(&owner, Instant::now() + wait);
                Ok(())
            }
            Next::GiveUp => {
                log::warn!(
                    "notification of seq {} for user {} dropped: still failing ({reason}) 24 hours \
                     after the event",
                    news.seq,
                    owner.0
                );
                METRICS
                    .notify_deliveries
                    .with_label_values(&["expired"])
                    .inc();
                self.finished(&owner)
            }
        }
    }

    /// `owner`'s first news is done: moves the cursor past it, or, while older news of
    /// someone else still waits, keeps the owner's own mark.
    fn finished(&mut self, owner: &UserId) -> Result<(), StoreError> {
        let Some(outbox) = &mut self.outbox else {
            return Ok(());
        };
        let Some(seq) = outbox.finish(owner) else {
            return Ok(());
        };
        if outbox.cursor() >= seq {
            return self.save(true);
        }
        self.store.set_cursor(&mark_name(owner), seq)?;
        outbox.set_mark(owner, seq);
        Ok(())
    }

    /// Writes the cursor when it moved: at once when a delivery needs it, else at most
    /// every `SAVE_EVERY`.
    fn save(&mut self, now: bool) -> Result<(), StoreError> {
        let Some(outbox) = &self.outbox else {
            return Ok(());
        };
        let cursor = outbox.cursor();
        if cursor > self.saved && (now || self.saved_at.elapsed() >= SAVE_EVERY) {
            self.store.set_cursor(CURSOR, cursor)?;
            self.saved = cursor;
            self.saved_at = Instant::now();
        }
        Ok(())
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

/// The request for `news` to `owner`'s target as their settings are now, or why there is
/// none (the metric's outcome): they turned it off or no longer ask for its kind
/// (`skipped`), or the target is no longer allowed, or needs https (`refused`).
fn prepare(
    store: &Store,
    settings: &Settings,
    owner: &UserId,
    news: &News,
) -> Result<(String, Outgoing), &'static str> {
    let shares = store.shares();
    let notify = shares
        .owner(owner)
        .and_then(|o| o.notify.as_ref())
        .ok_or("skipped")?;
    let kind = news.kinds.told_as(&notify.on).ok_or("skipped")?;
    if !is_allowed_target(&notify.url, &settings.notify.allowed_targets) {
        log::warn!(
            "notification of seq {} for user {} dropped: its target is not in \
             notify.allowedTargets (any more)",
            news.seq,
            owner.0
        );
        return Err("refused");
    }
    if notify.url.starts_with("https://") {
        log::warn!(
            "notification of seq {} for user {} dropped: https targets need TLS, which this \
             build does not have (docs/operations.md, \"Notifications\")",
            news.seq,
            owner.0
        );
        return Err("refused");
    }
    let named = Named::of(news, shares.get(&news.share), &settings.public_url);
    let out = outgoing(notify.format, kind, news, &named, &settings.notify.secret);
    Ok((notify.url.clone(), out))
}

/// The name of `owner`'s mark: a hash, since a user id may hold any character.
fn mark_name(owner: &UserId) -> String {
    let digest = Sha256::digest(owner.0.as_bytes());
    format!("notify.{}", &crate::hex::encode(&digest)[..32])
}
