//! A log no server is writing, whatever its engine: what `audit`, `replay`,
//! `rebuild`, the tests and the benchmarks read and fold.

use crate::projection::Projection;
use crate::store::engine::Offline;
use crate::store::fold::{fold, fold_all, Folded};
use crate::store::read::raw::{EventIter, Filter, Header, RawEvents};
use crate::store::sled::offline::SledOffline;
use crate::store::{Checkpoint, Envelope, StoreError};
use std::path::Path;

/// Events written per call by `import`.
const IMPORT_BATCH: usize = 16_384;

pub struct Log {
    engine: Box<dyn Offline>,
}

impl Log {
    /// Opens the sled log of a stopped service's data directory.
    pub fn open(dir: &Path) -> Result<Log, StoreError> {
        Ok(Log {
            engine: Box::new(SledOffline::open(dir)?),
        })
    }

    /// Opens the configured log (a sled one must exist).
    pub fn open_at(location: &crate::store::Location) -> Result<Log, StoreError> {
        match location {
            crate::store::Location::Sled(dir) => Log::open(dir),
            crate::store::Location::Postgres(url) => Ok(Log {
                engine: Box::new(crate::store::postgres::offline::PgOffline::open(
                    url.expose(),
                )?),
            }),
        }
    }

    /// Opens or creates a sled data directory (for `import`).
    pub fn create(dir: &Path) -> Result<Log, StoreError> {
        Ok(Log {
            engine: Box::new(SledOffline::create(dir)?),
        })
    }

    /// Stored events from `from_seq` on, in seq order.
    pub fn events(&self, from_seq: u64) -> RawEvents {
        self.engine.between(from_seq, u64::MAX)
    }

    /// Stored events from `from_seq` on, decoded.
    pub fn decoded(&self, from_seq: u64) -> EventIter {
        EventIter::new(self.events(from_seq))
    }

    /// The events an audit filter selects, in seq order.
    pub fn filtered(&self, filter: Filter) -> RawEvents {
        let events = match &filter.share {
            Some(id) => self.engine.stream(id),
            None => self.events(1),
        };
        filter.apply(events)
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.engine.checkpoint()
    }

    /// The projections as stored (what a server would load at startup).
    pub fn projections(&self) -> Result<Projection, StoreError> {
        self.engine.projections()
    }

    /// Shares as of the last event that `take` accepts (events are offered in seq order).
    pub fn fold_while(
        &self,
        take: impl FnMut(&Header<'_>) -> bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Folded, StoreError> {
        fold(self.events(1), take, progress)
    }

    /// Recreates every projection row from the whole log (folded on several threads);
    /// returns the rebuilt shares and the checkpoint written with them.
    pub fn rebuild(
        &self,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(Projection, Checkpoint), StoreError> {
        let engine = &self.engine;
        let read = |first, last| engine.between(first, last);
        let folded = fold_all(&read, engine.last_seq()?, progress)?;
        engine.replace_projections(&folded.shares, &folded.checkpoint)?;
        Ok((folded.shares, folded.checkpoint))
    }

    /// Appends sealed events that continue the chain (a benchmark's or a test's
    /// synthetic log) in large batches, then rebuilds the projections. Refuses any
    /// event whose seq, `prevHash` or hash does not fit.
    pub fn import(
        &self,
        events: impl IntoIterator<Item = Envelope>,
    ) -> Result<Checkpoint, StoreError> {
        let mut head = self
            .checkpoint()?
            .map_or((0, crate::store::chain::GENESIS), |c| {
                (c.last_seq, c.last_hash)
            });
        let mut pending: Vec<(Envelope, Vec<u8>)> = Vec::with_capacity(IMPORT_BATCH);
        for env in events {
            if env.seq != head.0 + 1 || env.prev_hash != head.1 || !env.is_sealed() {
                return Err(StoreError::Corrupt(format!(
                    "import: event {} does not continue the chain at seq {}",
                    env.seq, head.0
                )));
            }
            let line = env
                .to_line()
                .map_err(|e| StoreError::Corrupt(format!("import: event {}: {e}", env.seq)))?;
            head = (env.seq, env.hash);
            pending.push((env, line));
            if pending.len() == IMPORT_BATCH {
                self.write(&pending)?;
                pending.clear();
            }
        }
        self.write(&pending)?;
        self.rebuild(&mut |_| {}).map(|(_, c)| c)
    }

    fn write(&self, events: &[(Envelope, Vec<u8>)]) -> Result<(), StoreError> {
        let streams: Vec<String> = events.iter().map(|(e, _)| e.stream.to_string()).collect();
        let rows: Vec<_> = (events.iter().zip(&streams))
            .map(|((e, line), stream)| (e.seq, stream.as_str(), e.version, line.as_slice()))
            .collect();
        self.engine.write_sealed(&rows)
    }

    /// Makes everything written durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.engine.flush()
    }
}
