//! A log kept in memory, behind the same seam as sled and PostgreSQL: the share
//! service and the front doors can be tested with the real committer, plan and
//! projections and no directory (as cqrs-es has `MemStore`). Nothing is durable:
//! the log is gone with its last store.
//!
//! Several stores may share one memory log (`Store::in_memory_replicas`), as
//! replicas share a PostgreSQL database: writers take turns, each begins by
//! catching up with what the others appended, and an append pokes the others.
//! That tests the committer's side of several writers without a database.

use crate::domain::ShareId;
use crate::projection::Projection;
use crate::store::committer::empty_head;
use crate::store::engine::{
    Append, CaughtUp, Decided, Durability, EventSink, IdemKey, Opened, Poke, Reader, Watch,
};
use crate::store::read::raw::{Line, RawEvent, RawEvents};
use crate::store::request::IdempotencyRow;
use crate::store::{Checkpoint, StoreError};
use std::sync::{Arc, Condvar, Mutex, RwLock};

/// A store's engine on `log` (a new log, or one other stores use too).
pub fn open(log: Arc<MemoryLog>) -> Result<Opened<MemoryAppend, MemoryDurability>, StoreError> {
    let (shares, head, keys) = {
        let stored = log.stored();
        let events = (1..=stored.events.len() as u64).map(|seq| stored.raw(seq).decode());
        let shares = Projection::replay(events)?;
        let keys = stored.keys.iter().map(|(_, k, r)| (k.clone(), r.clone()));
        (
            shares,
            stored.head.unwrap_or_else(empty_head),
            keys.collect(),
        )
    };
    Ok(Opened {
        append: MemoryAppend {
            log: log.clone(),
            turn: None,
        },
        durability: MemoryDurability,
        watch: Some(Box::new(MemoryWatch(log.clone()))),
        log,
        shares,
        head,
        keys,
    })
}

#[derive(Default)]
pub struct MemoryLog {
    inner: RwLock<Stored>,
    /// Whether a writer holds the log (between `begin` with `write` and its end).
    writing: Mutex<bool>,
    turn: Condvar,
    /// Every store on this log, poked after each append.
    watchers: Mutex<Vec<Poke>>,
    secrets: Mutex<std::collections::HashMap<String, [u8; 32]>>,
    cursors: Mutex<std::collections::HashMap<String, u64>>,
}

#[derive(Default)]
struct Stored {
    /// Event `seq` is at index `seq - 1`: (stream, line).
    events: Vec<(String, Line)>,
    head: Option<Checkpoint>,
    /// Idempotency keys with the seq of the log's head after the batch that used them.
    keys: Vec<(u64, IdemKey, IdempotencyRow)>,
}

impl Stored {
    fn raw(&self, seq: u64) -> RawEvent {
        let line = self.events[seq as usize - 1].1.clone();
        RawEvent { seq, line }
    }
}

impl MemoryLog {
    fn stored(&self) -> std::sync::RwLockReadGuard<'_, Stored> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the log's one writer turn.
    fn take_turn(&self) {
        let mut writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        while *writing {
            writing = self.turn.wait(writing).unwrap_or_else(|e| e.into_inner());
        }
        *writing = true;
    }

    fn give_turn(&self) {
        *self.writing.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.turn.notify_one();
    }
}

impl Reader for MemoryLog {
    fn engine(&self) -> &'static str {
        "memory"
    }

    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents {
        let stored = self.stored();
        let until = until_seq.min(stored.events.len() as u64);
        let events: Vec<_> = (from_seq.max(1)..=until)
            .map(|seq| Ok(stored.raw(seq)))
            .collect();
        Box::new(events.into_iter())
    }

    fn stream(&self, id: &ShareId) -> RawEvents {
        let stored = self.stored();
        let events: Vec<_> = (1..=stored.events.len() as u64)
            .filter(|seq| stored.events[*seq as usize - 1].0 == id.as_str())
            .map(|seq| Ok(stored.raw(seq)))
            .collect();
        Box::new(events.into_iter())
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.stored().head)
    }

    fn secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(secret) = secrets.get(name) {
            return Ok(*secret);
        }
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)
            .map_err(|e| StoreError::engine("drawing random bytes for a secret", e))?;
        secrets.insert(name.to_string(), secret);
        Ok(secret)
    }

    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        let cursors = self.cursors.lock().unwrap_or_else(|e| e.into_inner());
        Ok(cursors.get(name).copied().unwrap_or(0))
    }

    fn set_cursor(&self, name: &str, seq: u64) -> Result<(), StoreError> {
        let mut cursors = self.cursors.lock().unwrap_or_else(|e| e.into_inner());
        cursors.insert(name.to_string(), seq);
        Ok(())
    }

    /// Every store on a memory log leads: tests of one writer's work use one store.
    fn leads(&self, _name: &str) -> Result<bool, StoreError> {
        Ok(true)
    }

    fn close(&self) -> bool {
        true
    }
}

/// A batch's events as the memory log keeps them.
#[derive(Default)]
pub struct Lines(Vec<(String, Line)>);

impl EventSink for Lines {
    fn push(&mut self, _seq: u64, stream: &str, _version: u64, line: &[u8]) {
        self.0.push((stream.to_string(), Line::from(line.to_vec())));
    }
}

pub struct MemoryAppend {
    log: Arc<MemoryLog>,
    /// Whether this writer holds the log's turn.
    turn: Option<()>,
}

impl MemoryAppend {
    fn end_turn(&mut self) {
        if self.turn.take().is_some() {
            self.log.give_turn();
        }
    }
}

impl Append for MemoryAppend {
    type Events = Lines;
    const FAILURE_POISONS: bool = false;

    fn begin(&mut self, head: u64, write: bool) -> Result<CaughtUp, StoreError> {
        if write {
            self.log.take_turn();
            self.turn = Some(());
        }
        let stored = self.log.stored();
        let last = stored.events.len() as u64;
        Ok(CaughtUp {
            events: (head + 1..=last).map(|seq| stored.raw(seq)).collect(),
            keys: (stored.keys.iter())
                .filter(|(after, _, _)| *after > head)
                .map(|(_, k, r)| (k.clone(), r.clone()))
                .collect(),
        })
    }

    fn append(&mut self, batch: Decided<Lines>) -> Result<(), StoreError> {
        let result = {
            let mut stored = self.log.inner.write().unwrap_or_else(|e| e.into_inner());
            // The position the batch was decided at must still be the end of the log.
            if batch.after != stored.events.len() as u64 {
                Err(StoreError::Corrupt(format!(
                    "a batch decided after seq {} cannot follow seq {}",
                    batch.after,
                    stored.events.len()
                )))
            } else {
                stored.events.extend(batch.events.0);
                let last = batch.head.last_seq;
                stored
                    .keys
                    .extend(batch.keys.into_iter().map(|(k, r)| (last, k, r)));
                stored.head = Some(batch.head);
                Ok(())
            }
        };
        self.end_turn();
        let watchers = self.log.watchers.lock().unwrap_or_else(|e| e.into_inner());
        for poke in watchers.iter() {
            poke.poke();
        }
        result
    }

    fn end(&mut self) -> Result<(), StoreError> {
        self.end_turn();
        Ok(())
    }
}

impl Drop for MemoryAppend {
    fn drop(&mut self) {
        self.end_turn();
    }
}

/// Memory is as durable as it gets.
pub struct MemoryDurability;

impl Durability for MemoryDurability {
    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn durable(&mut self, _lines: &[u8]) {}

    fn stopped_cleanly(self, _last_seq: u64) {}
}

/// Pokes a store whenever any store on the same log appends (its own appends too:
/// a catch-up with nothing new costs nothing).
struct MemoryWatch(Arc<MemoryLog>);

impl Watch for MemoryWatch {
    fn start(self: Box<Self>, poke: Poke) {
        let mut watchers = self.0.watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.retain(Poke::is_open);
        watchers.push(poke);
    }
}

#[cfg(test)]
mod tests;
