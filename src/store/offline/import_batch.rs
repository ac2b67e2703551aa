//! The reading side of a restore: checked events gathered into an [`ImportBatch`]
//! for the writing thread. The lines are kept in one buffer (which is at once the
//! export mirror's next bytes and the engine's rows, cut at line ends) and per event
//! only what the projections need, with stream ids numbered. So the writing side
//! hashes no ids and frees no per-event memory that another thread allocated (both
//! cost more than sled itself at a million events, docs/performance.md).

use crate::domain::{LinkId, StreamId, VisitKind};
use crate::store::Envelope;
use std::collections::HashMap;
use time::OffsetDateTime;

/// Checked events in seq order, ready for the writing side.
#[derive(Default)]
pub struct ImportBatch {
    /// The events' export lines, each ended by `\n`.
    pub text: Vec<u8>,
    pub events: Vec<Imported>,
    /// Streams first seen in this batch, in the order of their numbers.
    pub new_streams: Vec<StreamId>,
    /// The hash of the batch's last event.
    pub last_hash: [u8; 32],
}

pub struct Imported {
    pub seq: u64,
    /// The stream's number (see [`Batcher`]).
    pub stream: u32,
    pub version: u64,
    /// Where the event's line ends in `text` (its `\n` excluded).
    pub end: usize,
    pub change: Change,
}

/// What an event does to its share.
pub enum Change {
    /// A visit or preview: counters only (`domain::CountedRun`, the rule `apply` uses),
    /// with the recipient link it came through.
    Counted(VisitKind, OffsetDateTime, Option<LinkId>),
    /// Anything else, through `domain::apply`.
    Other(Box<Envelope>),
}

/// The reading side of a restore: fills batches and numbers stream ids.
#[derive(Default)]
pub struct Batcher {
    numbers: HashMap<StreamId, u32>,
    batch: ImportBatch,
}

impl Batcher {
    /// The buffer the next line is read into: appended to the batch's lines, then
    /// ended by [`Batcher::push`] or [`Batcher::push_rewritten`].
    pub fn text(&mut self) -> &mut Vec<u8> {
        &mut self.batch.text
    }

    /// Takes `env`, whose line is `text()[start..]` (its `\n` removed or absent).
    pub fn push(&mut self, env: Envelope) {
        let end = self.batch.text.len();
        self.batch.text.push(b'\n');
        let stream = match self.numbers.get(&env.stream) {
            Some(n) => *n,
            None => {
                let n = self.numbers.len() as u32;
                self.numbers.insert(env.stream.clone(), n);
                self.batch.new_streams.push(env.stream.clone());
                n
            }
        };
        self.batch.last_hash = env.hash;
        let (seq, version) = (env.seq, env.version);
        let change = match env.event.counted() {
            Some((kind, v)) => Change::Counted(kind, env.at, v.link.clone()),
            None => Change::Other(Box::new(env)),
        };
        self.batch.events.push(Imported {
            seq,
            stream,
            version,
            end,
            change,
        });
    }

    /// Takes `env` with `line` (its canonical line) in place of `text()[start..]`.
    pub fn push_rewritten(&mut self, env: Envelope, start: usize, line: &[u8]) {
        self.batch.text.truncate(start);
        self.batch.text.extend_from_slice(line);
        self.push(env);
    }

    pub fn len(&self) -> usize {
        self.batch.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.batch.events.is_empty()
    }

    /// The batch so far; the next one is filled into `spare` (an emptied batch) if given.
    pub fn take(&mut self, spare: Option<ImportBatch>) -> ImportBatch {
        let mut next = spare.unwrap_or_else(|| ImportBatch {
            text: Vec::with_capacity(self.batch.text.capacity()),
            events: Vec::with_capacity(self.batch.events.capacity()),
            ..ImportBatch::default()
        });
        // The writer empties a spare's lines and events, not the streams it introduced:
        // kept, they would be numbered again, and every later stream's events would be
        // written under another stream's id.
        next.new_streams.clear();
        std::mem::replace(&mut self.batch, next)
    }
}
