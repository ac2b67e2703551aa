use super::controls::PasswordHash;
use super::event::ShareChanges;
use super::ids::{Actor, LinkId, ShareId, StreamId};
use super::owner::SetNotifications;
use super::share::{Format, ShareItems};
use super::visit::{VisitData, VisitKind};
use time::OffsetDateTime;

/// Server settings that the rules depend on: what the server allows, and the sharing
/// policy (`sharing:` in the configuration). `decide` applies it to every command,
/// whichever front door sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub allow_downloads: bool,
    /// Usernames that may create shares and links; empty: everyone. Admins always may.
    pub allowed_users: Vec<String>,
    /// Seconds; the expiry of a create that names none. 0: none.
    pub default_expires_in: u64,
    /// Seconds; no expiry may lie further ahead. 0: no maximum.
    pub max_expires_in: u64,
    /// `downloadable` of a create that does not say (when downloads are allowed at all).
    pub default_downloadable: bool,
    /// Every share must have a password.
    pub require_password: bool,
    /// URL prefixes notifications may go to (`notify.allowedTargets`); none: off.
    pub notify_targets: Vec<String>,
}

impl Policy {
    /// Downloads as `allow_downloads` says, and no sharing rules at all.
    pub const fn open(allow_downloads: bool) -> Self {
        Policy {
            allow_downloads,
            allowed_users: Vec::new(),
            default_expires_in: 0,
            max_expires_in: 0,
            default_downloadable: false,
            require_password: false,
            notify_targets: Vec::new(),
        }
    }

    /// Whether `actor` may create shares and links: admins always, others when listed
    /// (or when no one is listed).
    pub fn may_share(&self, actor: &Actor) -> bool {
        actor.is_admin
            || self.allowed_users.is_empty()
            || self.allowed_users.contains(&actor.username)
    }
}

/// Create a share. Items were already checked against the music server.
#[derive(Debug, Clone)]
pub struct CreateShare {
    pub id: ShareId,
    pub actor: Actor,
    pub description: Option<String>,
    pub format: Format,
    pub max_bit_rate: u32,
    /// `None`: as the policy says (`defaultDownloadable`).
    pub downloadable: Option<bool>,
    /// `None`: as the policy says (`defaultExpiresIn`, else `maxExpiresIn`, else never).
    pub expires_at: Option<OffsetDateTime>,
    pub items: ShareItems,
    /// Hashed by the share service; the clear text never reaches a command.
    pub password: Option<PasswordHash>,
    pub max_visits: Option<u32>,
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

/// Somebody (a person, or a preview bot: `kind`) opened a public link: the share's
/// own, or a recipient link of it (`visit.link`).
#[derive(Debug, Clone)]
pub struct VisitShare {
    pub id: ShareId,
    pub kind: VisitKind,
    pub visit: VisitData,
}

/// Add a link for one recipient to a share. The id is fresh and random, like a share's.
#[derive(Debug, Clone)]
pub struct AddLink {
    pub id: ShareId,
    pub actor: Actor,
    pub link: LinkId,
    pub label: String,
    pub max_visits: Option<u32>,
}

/// Take one recipient's access back: the link answers 410 from then on.
#[derive(Debug, Clone)]
pub struct RevokeLink {
    pub id: ShareId,
    pub actor: Actor,
    pub link: LinkId,
}

#[derive(Debug, Clone)]
pub enum Command {
    Create(CreateShare),
    Update(UpdateShare),
    Delete(DeleteShare),
    Visit(VisitShare),
    AddLink(AddLink),
    RevokeLink(RevokeLink),
    /// On the actor's own stream, not a share's.
    Notify(SetNotifications),
}

impl Command {
    /// The stream the command's events go to.
    pub fn stream(&self) -> StreamId {
        match self {
            Command::Notify(c) => StreamId::Owner(c.actor.user_id.clone()),
            Command::Create(c) => StreamId::Share(c.id.clone()),
            Command::Update(c) => StreamId::Share(c.id.clone()),
            Command::Delete(c) => StreamId::Share(c.id.clone()),
            Command::Visit(c) => StreamId::Share(c.id.clone()),
            Command::AddLink(c) => StreamId::Share(c.id.clone()),
            Command::RevokeLink(c) => StreamId::Share(c.id.clone()),
        }
    }

    /// The logged-in user behind the command; visits are anonymous.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Command::Create(c) => Some(&c.actor),
            Command::Update(c) => Some(&c.actor),
            Command::Delete(c) => Some(&c.actor),
            Command::AddLink(c) => Some(&c.actor),
            Command::RevokeLink(c) => Some(&c.actor),
            Command::Notify(c) => Some(&c.actor),
            Command::Visit(_) => None,
        }
    }
}
