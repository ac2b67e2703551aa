//! The domain's rules run on a create before the music server is asked: a request they
//! refuse (too many ids, `downloadable` while downloads are off, a past expiry, a long
//! description, a password too short, the sharing policy) is refused even when the
//! music server is down, and costs no lookups. The rules are the domain's one
//! `check_create`, which `decide` applies again to the command as stored.

use super::{NewShare, ShareError};
use crate::domain::{check_create, Actor, CreateRequest, Policy};
use time::OffsetDateTime;

pub fn check_before_lookup(
    req: &NewShare,
    actor: &Actor,
    policy: &Policy,
    items_field: &'static str,
    now: OffsetDateTime,
) -> Result<(), ShareError> {
    if let Some(p) = &req.password {
        p.check()?;
    }
    let request = CreateRequest {
        actor,
        description: req.description.as_deref(),
        downloadable: req.downloadable,
        expires_at: req.expires_at,
        has_password: req.password.is_some(),
        max_visits: req.max_visits,
        items: req.ids().count(),
        items_field,
    };
    check_create(&request, policy, now)?;
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
            downloadable: None,
            expires_at: None,
            max_bit_rate: 0,
            format: Format::Raw,
            password: None,
            max_visits: None,
            albums: vec![],
            songs: (0..ids).map(|i| format!("s{i}")).collect(),
            playlists: vec![],
            artists: vec![],
            unsorted: vec![],
        }
    }

    fn refusal(req: &NewShare, allow_downloads: bool) -> Option<DomainError> {
        refusal_under(req, &Policy::open(allow_downloads))
    }

    fn refusal_under(req: &NewShare, policy: &Policy) -> Option<DomainError> {
        let actor = Actor {
            user_id: UserId("u".into()),
            username: "u".into(),
            is_admin: false,
        };
        match check_before_lookup(req, &actor, policy, "albums", NOW) {
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
    fn the_domains_create_rules_run_before_any_lookup() {
        let mut past = request(1);
        past.expires_at = Some(datetime!(2025-12-31 00:00 UTC));
        assert_eq!(field(refusal(&past, true)), Some("expiresAt"));
        let mut long = request(1);
        long.description = Some("x".repeat(1025));
        assert_eq!(field(refusal(&long, true)), Some("description"));
        let mut download = request(1);
        download.downloadable = Some(true);
        assert_eq!(
            refusal(&download, false),
            Some(DomainError::DownloadsDisabled)
        );
        assert_eq!(refusal(&download, true), None);
    }

    #[test]
    fn the_password_rule_and_the_policy_refuse_before_any_lookup() {
        let mut short = request(1);
        short.password = Some(crate::shares::ClearPassword::new("abc".into()));
        assert_eq!(field(refusal(&short, true)), Some("password"));
        let strict = Policy {
            require_password: true,
            ..Policy::open(true)
        };
        assert_eq!(
            refusal_under(&request(1), &strict),
            Some(DomainError::PasswordPolicy)
        );
        let mut with = request(1);
        with.password = Some(crate::shares::ClearPassword::new("abcd".into()));
        assert_eq!(refusal_under(&with, &strict), None);
        let only_bob = Policy {
            allowed_users: vec!["bob".into()],
            ..Policy::open(true)
        };
        assert_eq!(
            refusal_under(&with, &only_bob),
            Some(DomainError::SharingNotAllowed)
        );
    }
}
