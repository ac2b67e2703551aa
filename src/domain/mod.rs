//! The pure share domain: state, commands, events and the rules that join them.
//!
//! Nothing here does I/O or knows about HTTP or storage. `decide` turns a
//! command into events (or a refusal); `apply` folds an event into state.

mod command;
mod decide;
mod error;
mod event;
mod ids;
mod share;
mod visit;

pub use command::{Command, CreateShare, DeleteShare, Policy, UpdateShare, VisitShare};
pub use decide::{apply, decide};
pub use error::DomainError;
pub use event::{Event, ShareChanges, ShareCreated};
pub use ids::{Actor, ShareId, UserId};
pub use share::{
    AlbumItem, Format, PlaylistItem, Share, ShareItems, SongItem, Track, MAX_DESCRIPTION_CHARS,
};

pub use visit::{Counted, VisitData, VisitFormat, VisitKind};
#[cfg(test)]
mod tests;
