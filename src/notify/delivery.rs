//! The worker's sending side: starting due deliveries, what their ends mean for the
//! outbox, and the durable positions (the cursor, and the owners' marks ahead of it).

use super::format::{outgoing, Named, Outgoing};
use super::news::News;
use super::retry::{self, Next};
use super::send;
use super::worker::{Round, Sent, CURSOR, MAX_SENDING, SAVE_EVERY};
use crate::config::Settings;
use crate::domain::{is_allowed_target, UserId};
use crate::metrics::METRICS;
use crate::store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::time::Instant;
use time::OffsetDateTime;

impl Round {
    /// Starts every due delivery there is room for.
    pub(super) fn dispatch(&mut self) -> Result<(), StoreError> {
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

    pub(super) fn sent(
        &mut self,
        (epoch, owner, news, failures, result): Sent,
    ) -> Result<(), StoreError> {
        let Some(outbox) = self.outbox.as_mut().filter(|_| epoch == self.epoch) else {
            return Ok(()); // its outbox is gone: it is read and sent again
        };
        let reason = match result {
            Ok(()) => {
                // Counted once its cursor or mark is written: a delivery the metric shows
                // is one a restart will not send again.
                self.finished(&owner)?;
                METRICS
                    .notify_deliveries
                    .with_label_values(&["delivered"])
                    .inc();
                return Ok(());
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
    pub(super) fn finished(&mut self, owner: &UserId) -> Result<(), StoreError> {
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
    pub(super) fn save(&mut self, now: bool) -> Result<(), StoreError> {
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
    let shares = store.projection();
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
pub(super) fn mark_name(owner: &UserId) -> String {
    let digest = Sha256::digest(owner.0.as_bytes());
    format!("notify.{}", &crate::hex::encode(&digest)[..32])
}
