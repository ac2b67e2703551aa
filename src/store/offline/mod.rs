//! The log without a server, for the command line: reading and folding a stopped
//! service's log (`Log`), and filling an empty one from an export (`restore`:
//! the reading side's `Batcher`, the rules and fold on the writing side in
//! `ImportFold`, and an engine's `Import`). Which engine is chosen in one place,
//! `open` and `restore::create`.

pub mod import_batch;
pub mod import_fold;
mod log;

pub use import_batch::{Batcher, ImportBatch};
pub use import_fold::ImportFold;
pub use log::Log;

use crate::store::engine::{EachLine, Import};
use crate::store::{Location, StoreError};

/// A restore into the configured log, which must be empty (sled: the data directory
/// must be absent or empty).
pub fn restore(location: &Location) -> Result<Box<dyn Import>, StoreError> {
    match location {
        Location::Sled(dir) => crate::store::sled::import::create(dir),
        Location::Postgres(url) => crate::store::postgres::import::create(url.expose()),
    }
}

/// Every stored line of the configured log in seq order (see
/// `engine::Offline::each_line`).
pub fn each_line(
    location: &Location,
    total: &mut dyn FnMut(u64),
    each: EachLine<'_>,
) -> Result<(), StoreError> {
    match location {
        Location::Sled(dir) => crate::store::sled::offline::each_line(dir, total, each),
        Location::Postgres(url) => {
            use crate::store::engine::Offline;
            crate::store::postgres::offline::PgOffline::open(url.expose())?.each_line(total, each)
        }
    }
}
