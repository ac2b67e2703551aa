//! The pure share domain: state, commands, events and the rules that join them.
//!
//! Nothing here does I/O or knows about HTTP or storage. `decide` turns a
//! command into events (or a refusal); `apply` folds an event into state.

mod command;
mod decide;
mod error;
mod event;
mod ids;
mod logged;
mod share;
mod visit;

pub use command::{Command, CreateShare, DeleteShare, Policy, UpdateShare, VisitShare};
pub use decide::{apply, decide};
pub use error::DomainError;
pub use event::{Event, ShareChanges, ShareCreated, UnwritableEvent};
pub use ids::{Actor, ShareId, UserId};
pub use logged::{check_counted, check_logged, check_version, ImpossibleEvent};
pub use share::{
    check_requested_items, AlbumItem, Format, PlaylistItem, Share, ShareItems, SongItem, Track,
    MAX_DESCRIPTION_CHARS, MAX_REQUESTED_ITEMS,
};

pub use visit::{Counted, VisitData, VisitFormat, VisitKind};
#[cfg(test)]
mod tests;
