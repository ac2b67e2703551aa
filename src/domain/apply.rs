use super::controls::ShareLink;
use super::event::{Event, ShareChanges, ShareCreated};
use super::ids::ShareId;
use super::share::Share;
use super::visit::{Counted, CountedRun};
use time::OffsetDateTime;

/// Folds one event into a share's state. Assigns only; every check happened in `decide`.
pub fn apply(
    state: Option<Share>,
    id: &ShareId,
    event: &Event,
    at: OffsetDateTime,
) -> Option<Share> {
    match (state, event) {
        // Lives on an owner's stream, never a share's.
        (state, Event::NotifySettingsChanged(_)) => state,
        (None, Event::ShareCreated(e)) => Some(created(id, e, at)),
        (Some(mut s), e) => {
            if let Some((kind, v)) = e.counted() {
                match &v.link {
                    None => Counted::one(kind, at).apply_to(&mut s),
                    Some(link) => CountedRun::one(kind, at, Some(link.clone())).apply_to(&mut s),
                }
                return Some(s);
            }
            s.version += 1;
            match e {
                Event::ShareCreated(_) => {}
                Event::ShareUpdated(c) => updated(&mut s, c, at),
                Event::ShareDeleted => {
                    s.deleted = true;
                    s.updated_at = at;
                }
                Event::ShareLinkAdded(l) => {
                    s.links.push(ShareLink {
                        id: l.link.clone(),
                        label: l.label.clone(),
                        max_visits: l.max_visits,
                        visit_count: 0,
                        preview_count: 0,
                        last_visited_at: None,
                        created_at: at,
                        revoked_at: None,
                    });
                    s.updated_at = at;
                }
                Event::ShareLinkRevoked(l) => {
                    if let Some(link) = s.links.iter_mut().find(|k| k.id == l.link) {
                        link.revoked_at = Some(at);
                    }
                    s.updated_at = at;
                }
                Event::ShareVisited(_)
                | Event::SharePreviewed(_)
                | Event::NotifySettingsChanged(_) => {}
            }
            Some(s)
        }
        (None, _) => None,
    }
}

/// A share as its `ShareCreated` event made it: version 1, nothing counted yet.
fn created(id: &ShareId, e: &ShareCreated, at: OffsetDateTime) -> Share {
    Share {
        id: id.clone(),
        owner_id: e.owner_id.clone(),
        owner_name: e.owner_name.clone(),
        description: e.description.clone(),
        format: e.format,
        max_bit_rate: e.max_bit_rate,
        downloadable: e.downloadable,
        expires_at: e.expires_at,
        created_at: at,
        updated_at: at,
        items: e.items.clone(),
        visit_count: 0,
        preview_count: 0,
        last_visited_at: None,
        version: 1,
        deleted: false,
        password_version: if e.password.is_some() { 1 } else { 0 },
        password: e.password.clone(),
        max_visits: e.max_visits,
        links: Vec::new(),
    }
}

/// The fields a `ShareUpdated` names, assigned; the others stay. `s.version` is
/// already this event's.
fn updated(s: &mut Share, c: &ShareChanges, at: OffsetDateTime) {
    if let Some(d) = &c.description {
        s.description = d.clone();
    }
    if let Some(f) = c.format {
        s.format = f;
    }
    if let Some(b) = c.max_bit_rate {
        s.max_bit_rate = b;
    }
    if let Some(d) = c.downloadable {
        s.downloadable = d;
    }
    if let Some(e) = c.expires_at {
        s.expires_at = e;
    }
    if let Some(p) = &c.password {
        s.password = p.clone();
        s.password_version = s.version;
    }
    if let Some(m) = c.max_visits {
        s.max_visits = m;
    }
    s.updated_at = at;
}
