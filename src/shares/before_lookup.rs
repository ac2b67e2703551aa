//! The domain's rules run on a create before the music server is asked: a request they
//! refuse (too many ids, `downloadable` while downloads are off, a past expiry, a long
//! description) is refused even when the music server is down, and costs no lookups.

use super::{NewShare, ShareError};
use crate::domain::{
    check_requested_items, decide, Actor, Command, CreateShare, Policy, ShareId, ShareItems,
};
use time::OffsetDateTime;

/// Each requested id stands in for the item it names. The command is decided once more,
/// with the resolved items, when it is stored; the rules are the same `decide`.
pub fn check_before_lookup(
    req: &NewShare,
    actor: &Actor,
    policy: &Policy,
    items_field: &'static str,
    now: OffsetDateTime,
) -> Result<(), ShareError> {
    check_requested_items(req.ids().count(), items_field)?;
    let cmd = Command::Create(CreateShare {
        id: ShareId::from_random([0; 16]),
        actor: actor.clone(),
        description: req.description.clone(),
        format: req.format,
        max_bit_rate: req.max_bit_rate,
        downloadable: req.downloadable,
        expires_at: req.expires_at,
        items: ShareItems {
            songs: req.stand_in_items(),
            ..Default::default()
        },
    });
    decide(None, &cmd, policy, now)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DomainError, Format, UserId};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn request(ids: usize) -> NewShare {
        NewShare {
            description: None,
            downloadable: false,
            expires_at: None,
            max_bit_rate: 0,
            format: Format::Raw,
            albums: vec![],
            songs: (0..ids).map(|i| format!("s{i}")).collect(),
            playlists: vec![],
            unsorted: vec![],
        }
    }

    fn refusal(req: &NewShare, allow_downloads: bool) -> Option<DomainError> {
        let actor = Actor {
            user_id: UserId("u".into()),
            username: "u".into(),
            is_admin: false,
        };
        match check_before_lookup(req, &actor, &Policy { allow_downloads }, "albums", NOW) {
            Err(ShareError::Rejected(d)) => Some(d),
            Err(other) => panic!("not a domain refusal: {other}"),
            Ok(()) => None,
        }
    }

    fn field(e: Option<DomainError>) -> Option<&'static str> {
        match e {
            Some(DomainError::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn no_ids_and_too_many_ids_are_refused_naming_the_front_doors_field() {
        assert_eq!(field(refusal(&request(0), true)), Some("albums"));
        assert_eq!(field(refusal(&request(501), true)), Some("albums"));
        assert_eq!(refusal(&request(500), true), None);
    }

    #[test]
    fn the_domains_rules_run_on_stand_ins() {
        let mut past = request(1);
        past.expires_at = Some(datetime!(2025-12-31 00:00 UTC));
        assert_eq!(field(refusal(&past, true)), Some("expiresAt"));
        let mut long = request(1);
        long.description = Some("x".repeat(1025));
        assert_eq!(field(refusal(&long, true)), Some("description"));
        let mut download = request(1);
        download.downloadable = true;
        assert_eq!(
            refusal(&download, false),
            Some(DomainError::DownloadsDisabled)
        );
        assert_eq!(refusal(&download, true), None);
    }
}
