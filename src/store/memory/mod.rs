//! A log kept in memory, behind the same seam as sled and PostgreSQL: the share
//! service and the front doors can be tested with the real committer, plan and
//! projections and no directory (as cqrs-es has `MemStore`). Nothing is durable:
//! the log is gone with the store.

use crate::domain::ShareId;
use crate::projection::Shares;
use crate::store::committer::empty_head;
use crate::store::engine::{Append, CaughtUp, Decided, Durability, EventSink, Opened, Reader};
use crate::store::read::raw::{Line, RawEvent, RawEvents};
use crate::store::{Checkpoint, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// An empty log in memory.
pub fn open() -> Opened<MemoryAppend, MemoryDurability> {
    let log = Arc::new(MemoryLog::default());
    Opened {
        append: MemoryAppend { log: log.clone() },
        durability: MemoryDurability,
        log,
        shares: Shares::default(),
        head: empty_head(),
        keys: HashMap::new(),
    }
}

#[derive(Default)]
pub struct MemoryLog {
    inner: RwLock<Stored>,
}

#[derive(Default)]
struct Stored {
    /// Event `seq` is at index `seq - 1`: (stream, line).
    events: Vec<(String, Line)>,
    head: Option<Checkpoint>,
}

impl MemoryLog {
    fn stored(&self) -> std::sync::RwLockReadGuard<'_, Stored> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Reader for MemoryLog {
    fn engine(&self) -> &'static str {
        "memory"
    }

    fn between(&self, from_seq: u64, until_seq: u64) -> RawEvents {
        let stored = self.stored();
        let from = from_seq.max(1);
        let until = until_seq.min(stored.events.len() as u64);
        let events: Vec<_> = (from..=until)
            .filter_map(|seq| {
                let (_, line) = stored.events.get(seq as usize - 1)?;
                Some(Ok(RawEvent {
                    seq,
                    line: line.clone(),
                }))
            })
            .collect();
        Box::new(events.into_iter())
    }

    fn stream(&self, id: &ShareId) -> RawEvents {
        let events: Vec<_> = self
            .stored()
            .events
            .iter()
            .zip(1u64..)
            .filter(|((stream, _), _)| stream == id.as_str())
            .map(|((_, line), seq)| {
                Ok(RawEvent {
                    seq,
                    line: line.clone(),
                })
            })
            .collect();
        Box::new(events.into_iter())
    }

    fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        Ok(self.stored().head)
    }

    fn close(&self) -> bool {
        true
    }
}

/// A batch's events as the memory log keeps them.
#[derive(Default)]
pub struct Lines(Vec<(u64, String, Line)>);

impl EventSink for Lines {
    fn push(&mut self, seq: u64, stream: &str, _version: u64, line: &[u8]) {
        self.0
            .push((seq, stream.to_string(), Line::from(line.to_vec())));
    }
}

pub struct MemoryAppend {
    log: Arc<MemoryLog>,
}

impl Append for MemoryAppend {
    type Events = Lines;
    const FAILURE_POISONS: bool = false;

    fn begin(&mut self, _head: u64, _write: bool) -> Result<CaughtUp, StoreError> {
        Ok(CaughtUp::default())
    }

    fn append(&mut self, batch: Decided<Lines>) -> Result<(), StoreError> {
        let mut stored = self.log.inner.write().unwrap_or_else(|e| e.into_inner());
        // The position the batch was decided at must still be the end of the log.
        if batch.after != stored.events.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "a batch decided after seq {} cannot follow seq {}",
                batch.after,
                stored.events.len()
            )));
        }
        stored.events.extend(
            batch
                .events
                .0
                .into_iter()
                .map(|(_, stream, line)| (stream, line)),
        );
        stored.head = Some(batch.head);
        Ok(())
    }

    fn end(&mut self) -> Result<(), StoreError> {
        Ok(())
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
