//! The log's format, whatever keeps it: the export line (`envelope`), its hash chain
//! (`chain`), event ids, the fast decoder of sealed lines, and the checkpoint.

pub mod chain;
pub mod checkpoint;
pub mod envelope;
pub mod event_ids;
pub mod sealed;
