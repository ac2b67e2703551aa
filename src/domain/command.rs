use super::event::ShareChanges;
use super::ids::{Actor, ShareId};
use super::share::{Format, ShareItems};
use super::visit::{VisitData, VisitKind};
use time::OffsetDateTime;

/// Server settings that the rules depend on.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub allow_downloads: bool,
}

/// Create a share. Items were already checked against the music server.
#[derive(Debug, Clone)]
pub struct CreateShare {
    pub id: ShareId,
    pub actor: Actor,
    pub description: Option<String>,
    pub format: Format,
    pub max_bit_rate: u32,
    pub downloadable: bool,
    pub expires_at: Option<OffsetDateTime>,
    pub items: ShareItems,
}

#[derive(Debug, Clone)]
pub struct UpdateShare {
    pub id: ShareId,
    pub actor: Actor,
    /// From `If-Match`: the version the client last saw.
    pub expected_version: Option<u64>,
    pub changes: ShareChanges,
}

#[derive(Debug, Clone)]
pub struct DeleteShare {
    pub id: ShareId,
    pub actor: Actor,
    pub expected_version: Option<u64>,
}

/// Somebody (a person, or a preview bot: `kind`) opened a public link.
#[derive(Debug, Clone)]
pub struct VisitShare {
    pub id: ShareId,
    pub kind: VisitKind,
    pub visit: VisitData,
}

#[derive(Debug, Clone)]
pub enum Command {
    Create(CreateShare),
    Update(UpdateShare),
    Delete(DeleteShare),
    Visit(VisitShare),
}

impl Command {
    pub fn share_id(&self) -> &ShareId {
        match self {
            Command::Create(c) => &c.id,
            Command::Update(c) => &c.id,
            Command::Delete(c) => &c.id,
            Command::Visit(c) => &c.id,
        }
    }

    /// The logged-in user behind the command; visits are anonymous.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Command::Create(c) => Some(&c.actor),
            Command::Update(c) => Some(&c.actor),
            Command::Delete(c) => Some(&c.actor),
            Command::Visit(_) => None,
        }
    }
}
