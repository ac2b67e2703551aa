//! Notifications: an owner hears that a link of theirs was opened (docs/operations.md,
//! "Notifications"). The log is the outbox: a worker follows it from a cursor kept with
//! the log and sends what each event is news of to the owner's target, at least once, in
//! seq order per owner, retried for 24 hours. It runs on a thread of its own; nothing
//! that writes the log ever waits for it.
//!
//! - `news`: what an event tells an owner, and the kinds it counts as
//! - `facts`: what the stream before a visit says of it (first, limit used up)
//! - `outbox`: the news held per owner, within bounds; where to read next; the cursor
//! - `format`: the `json` (signed) and `ntfy` requests
//! - `send`: one POST
//! - `retry`: when a failed one is tried again, and when given up
//! - `worker`: the thread that ties them together; `reading` (events to news) and
//!   `delivery` (sending, and the durable positions) are its two sides

mod delivery;
mod facts;
mod format;
mod news;
mod outbox;
mod reading;
mod retry;
mod send;
#[cfg(test)]
mod test_log;
mod worker;

pub use format::sign;
pub use outbox::BOUNDS;
pub use worker::{start, Worker};
