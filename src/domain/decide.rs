use super::command::{AddLink, Command, CreateShare, Policy, RevokeLink, UpdateShare, VisitShare};
use super::controls::{check_label, check_max_visits, MAX_LINKS};
use super::error::DomainError;
use super::event::{Event, LinkAdded, LinkRevoked, ShareChanges, ShareCreated};
use super::ids::Actor;
use super::rules::{check_description, check_expiry, check_max_expiry, default_expiry, invalid};
use super::share::check_requested_items;
use super::share::Share;
use super::visit::VisitKind;
use time::OffsetDateTime;

/// Every rule of the share lifecycle: the events `cmd` produces against `state`, or why not.
/// An empty list means the command changes nothing (an update to the current values).
/// The store decides each command against the latest state inside the commit, so a rule
/// that counts (a visit limit) is exact however many requests race.
pub fn decide(
    state: Option<&Share>,
    cmd: &Command,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    match cmd {
        Command::Create(c) => create(state, c, policy, now),
        Command::Update(c) => update(state, c, policy, now),
        Command::Delete(c) => {
            let share = visible(state, &c.actor)?;
            check_version(share, c.expected_version)?;
            Ok(vec![Event::ShareDeleted])
        }
        Command::Visit(v) => open(state, v, now),
        Command::AddLink(c) => add_link(state, c, policy),
        Command::RevokeLink(c) => revoke_link(state, c),
        // An owner's command goes to their own stream, decided by `decide_owner`; a
        // share's state has nothing to say about it.
        Command::Notify(_) => Err(DomainError::NotFound),
    }
}

/// What a create asks for, as far as the rules that need no music server look at it:
/// the share service checks a request with it before any id is looked up (so a refused
/// create costs no lookup, and is refused even while the music server is down), and
/// `decide` checks the command as stored with it again.
pub struct CreateRequest<'a> {
    pub actor: &'a Actor,
    pub description: Option<&'a str>,
    pub downloadable: Option<bool>,
    pub expires_at: Option<OffsetDateTime>,
    pub has_password: bool,
    pub max_visits: Option<u32>,
    /// How many albums, songs, playlists and artists it names.
    pub items: usize,
    /// What the front door calls the list of items, for a refusal of their number.
    pub items_field: &'static str,
}

/// What the rules make of a create's optional fields.
pub struct CreateChecked {
    pub expires_at: Option<OffsetDateTime>,
    pub downloadable: bool,
}

/// Every rule of a create that needs no music server, in one place for every front door.
pub fn check_create(
    r: &CreateRequest,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<CreateChecked, DomainError> {
    if !policy.may_share(r.actor) {
        return Err(DomainError::SharingNotAllowed);
    }
    check_requested_items(r.items, r.items_field)?;
    check_description(r.description)?;
    let expires_at = match r.expires_at {
        Some(t) => check_expiry(Some(t), now)?,
        None => default_expiry(policy, now),
    };
    check_max_expiry(expires_at, policy, now)?;
    let downloadable = r
        .downloadable
        .unwrap_or(policy.default_downloadable && policy.allow_downloads);
    if downloadable && !policy.allow_downloads {
        return Err(DomainError::DownloadsDisabled);
    }
    check_max_visits(r.max_visits, "maxVisits")?;
    if !r.has_password && policy.require_password {
        return Err(DomainError::PasswordPolicy);
    }
    Ok(CreateChecked {
        expires_at,
        downloadable,
    })
}

fn create(
    state: Option<&Share>,
    c: &CreateShare,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    if state.is_some() {
        return Err(DomainError::AlreadyExists);
    }
    let request = CreateRequest {
        actor: &c.actor,
        description: c.description.as_deref(),
        downloadable: c.downloadable,
        expires_at: c.expires_at,
        has_password: c.password.is_some(),
        max_visits: c.max_visits,
        items: c.items.count(),
        items_field: "albums",
    };
    let CreateChecked {
        expires_at,
        downloadable,
    } = check_create(&request, policy, now)?;
    Ok(vec![Event::ShareCreated(ShareCreated {
        owner_id: c.actor.user_id.clone(),
        owner_name: c.actor.username.clone(),
        description: c.description.clone().filter(|d| !d.is_empty()),
        format: c.format,
        max_bit_rate: c.max_bit_rate,
        downloadable,
        expires_at,
        items: c.items.clone(),
        password: c.password.clone(),
        max_visits: c.max_visits,
    })])
}

fn update(
    state: Option<&Share>,
    c: &UpdateShare,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    let share = visible(state, &c.actor)?;
    check_version(share, c.expected_version)?;
    let mut changes = only_real_changes(share, &c.changes);
    if let Some(d) = &changes.description {
        check_description(d.as_deref())?;
    }
    if let Some(e) = changes.expires_at {
        let e = check_expiry(e, now)?;
        check_max_expiry(e, policy, now)?;
        changes.expires_at = Some(e);
    }
    if changes.downloadable == Some(true) && !policy.allow_downloads {
        return Err(DomainError::DownloadsDisabled);
    }
    if let Some(m) = changes.max_visits {
        check_max_visits(m, "maxVisits")?;
    }
    if changes.password == Some(None) && policy.require_password {
        return Err(DomainError::PasswordPolicy);
    }
    if changes.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec![Event::ShareUpdated(changes)])
}

/// Drops fields equal to the current values, so a client that sends the whole
/// record back (as react-admin does) records only what it really changed. A new
/// password is always a change: its hash has a fresh salt, and setting it again is
/// how an owner refuses every proof handed out before.
fn only_real_changes(share: &Share, c: &ShareChanges) -> ShareChanges {
    let description = c
        .description
        .clone()
        .map(|d| d.filter(|d| !d.is_empty()))
        .filter(|d| *d != share.description);
    ShareChanges {
        description,
        format: c.format.filter(|f| *f != share.format),
        max_bit_rate: c.max_bit_rate.filter(|b| *b != share.max_bit_rate),
        downloadable: c.downloadable.filter(|d| *d != share.downloadable),
        expires_at: c.expires_at.filter(|e| *e != share.expires_at),
        password: c
            .password
            .clone()
            .filter(|p| p.is_some() || share.password.is_some()),
        max_visits: c.max_visits.filter(|m| *m != share.max_visits),
    }
}

/// Visits and previews alike: only a live share, through a link it has that is not
/// revoked, can be opened. A visit (never a preview) is refused once the share's limit,
/// or the link's, is used up.
fn open(
    state: Option<&Share>,
    v: &VisitShare,
    now: OffsetDateTime,
) -> Result<Vec<Event>, DomainError> {
    let share = state.filter(|s| !s.deleted).ok_or(DomainError::NotFound)?;
    if share.is_expired(now) {
        return Err(DomainError::Expired);
    }
    let link = match &v.visit.link {
        None => None,
        Some(id) => Some(share.link(id).ok_or(DomainError::NotFound)?),
    };
    if link.is_some_and(|l| l.is_revoked()) {
        return Err(DomainError::LinkRevoked);
    }
    if v.kind == VisitKind::Visit && (share.is_spent() || link.is_some_and(|l| l.is_spent())) {
        return Err(DomainError::VisitLimitReached);
    }
    Ok(vec![Event::of_counted(v.kind, v.visit.clone())])
}

fn add_link(
    state: Option<&Share>,
    c: &AddLink,
    policy: &Policy,
) -> Result<Vec<Event>, DomainError> {
    let share = visible(state, &c.actor)?;
    if !policy.may_share(&c.actor) {
        return Err(DomainError::SharingNotAllowed);
    }
    check_label(&c.label)?;
    check_max_visits(c.max_visits, "maxVisits")?;
    // Only a colliding random id could do this.
    if share.link(&c.link).is_some() || c.link.as_str() == share.id.as_str() {
        return Err(DomainError::AlreadyExists);
    }
    if share.links.len() >= MAX_LINKS {
        return Err(invalid(
            "label",
            &format!("a share has at most {MAX_LINKS} links, revoked ones included"),
        ));
    }
    Ok(vec![Event::ShareLinkAdded(LinkAdded {
        link: c.link.clone(),
        label: c.label.trim().to_string(),
        max_visits: c.max_visits,
    })])
}

fn revoke_link(state: Option<&Share>, c: &RevokeLink) -> Result<Vec<Event>, DomainError> {
    let share = visible(state, &c.actor)?;
    let link = share.link(&c.link).ok_or(DomainError::NotFound)?;
    if link.is_revoked() {
        return Err(DomainError::LinkRevoked);
    }
    Ok(vec![Event::ShareLinkRevoked(LinkRevoked {
        link: c.link.clone(),
    })])
}

fn visible<'a>(state: Option<&'a Share>, actor: &super::Actor) -> Result<&'a Share, DomainError> {
    state
        .filter(|s| s.is_visible_to(actor))
        .ok_or(DomainError::NotFound)
}

fn check_version(share: &Share, expected: Option<u64>) -> Result<(), DomainError> {
    match expected {
        Some(v) if v != share.version => Err(DomainError::VersionConflict {
            expected: v,
            actual: share.version,
        }),
        _ => Ok(()),
    }
}
