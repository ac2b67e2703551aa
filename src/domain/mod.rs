//! The pure share domain: state, commands, events and the rules that join them.
//!
//! Nothing here does I/O or knows about HTTP or storage. `decide` turns a
//! command into events (or a refusal); `apply` folds an event into state.

mod apply;
mod changes;
mod command;
mod controls;
mod decide;
mod error;
mod event;
mod ids;
mod logged;
mod owner;
mod rules;
mod share;
mod visit;

pub use apply::apply;
pub use command::{
    AddLink, Command, CreateShare, DeleteShare, Policy, RevokeLink, UpdateShare, VisitShare,
};
pub use controls::{
    check_label, check_max_visits, check_password, PasswordHash, ShareLink, MAX_LABEL_CHARS,
    MAX_LINKS, MAX_PASSWORD_CHARS, MAX_VISITS, MIN_PASSWORD_CHARS,
};
pub use decide::{check_create, decide, CreateChecked, CreateRequest};
pub use error::DomainError;
pub use event::{Event, LinkAdded, LinkRevoked, ShareChanges, ShareCreated, UnwritableEvent};
pub use ids::{Actor, LinkId, ShareId, StreamId, UserId};
pub use logged::{check_counted, check_logged, check_logged_owner, check_version, ImpossibleEvent};
pub use owner::{
    apply_owner, decide_owner, Notify, NotifyChanged, NotifyFormat, NotifyOn, Owner,
    SetNotifications, MAX_NOTIFY_URL_CHARS,
};
pub use share::{
    check_requested_items, AlbumItem, ArtistItem, Format, PlaylistItem, Share, ShareItems,
    SongItem, Track, MAX_DESCRIPTION_CHARS, MAX_REQUESTED_ITEMS,
};

pub use visit::{Counted, CountedRun, VisitData, VisitFormat, VisitKind};
#[cfg(test)]
mod tests;
