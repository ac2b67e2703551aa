//! THE access decision of the public door: every public path (the page, raw JSON, M3U and
//! zip, streams, downloads, covers, oEmbed, the shown post, the unlock form) asks `enter`,
//! and a running stream, download or zip asks again every second (`Recheck`), so whatever
//! this decision comes to refuse also ends the transfers it allowed.
//!
//! In order (docs/public-access.md, "Protected shares"):
//! 1. the public id: a share's own id, or one of its recipient links (404 unknown or deleted,
//!    410 `share-expired`, 410 `link-revoked`);
//! 2. a password share needs proof of its password: an access key or the unlock cookie made
//!    for this share, link and password version, or the password with HTTP Basic (401
//!    `password-required`; a wrong one counts towards the brute-force throttle);
//! 3. by purpose: a visit is refused once the share's or the link's limit is used up (410
//!    `visit-limit-reached`; previews never are); a stream or download of a share with a visit
//!    limit or reached through a link needs the key a visit handed out, and a cover such a key
//!    or a preview's cover key (401 `access-key-required`).
//!
//! Proofs that do not hold are ignored where none is needed (a browser sends an old cookie
//! unasked), except a wrong password, which is a failed attempt. A running transfer is held
//! to the proof it got in on: once that proof no longer holds (a new password version, an
//! expired key), it ends, even where the share has meanwhile become open to everyone.

mod rules;

use super::access_key::{Binding, KeyKind};
use super::attempt::{check_password, too_many_attempts, Attempt, Target};
use super::door::Door;
use super::proof::{GivenPassword, Presented};
use crate::domain::{LinkId, Share, ShareId, ShareLink};
use crate::error::ApiError;
use crate::projection::Projection;
use actix_web::HttpRequest;
pub use rules::Purpose;
use rules::{allow, Basis, Checked, Proofs, Settled};
use std::net::IpAddr;
use time::OffsetDateTime;

/// A share a request may have, as it opened it.
pub struct Entry {
    /// The share as stored (its real id: what a visit records).
    pub share: Share,
    /// The recipient link it was opened through.
    pub link: Option<LinkId>,
    /// The id in the request's path: the share's own, or the link's.
    pub public_id: String,
    purpose: Purpose,
    basis: Basis,
    settled: Settled,
}

impl Entry {
    /// Whether its answers need more than the link itself, and are never cached anywhere:
    /// a password, a visit limit, or a recipient link.
    pub fn protected(&self) -> bool {
        self.share.is_protected(self.link.is_some())
    }

    pub fn has_password(&self) -> bool {
        self.share.has_password()
    }

    /// The share as its answers show it: under the id it was opened with, so that nothing
    /// answered through a recipient link names the share's own id, and without its links.
    pub fn visible(&self) -> Share {
        let mut share = self.share.clone();
        if let Some(id) = ShareId::parse(&self.public_id) {
            share.id = id;
        }
        share.links.clear();
        share
    }

    fn binding(&self) -> Binding<'_> {
        Binding {
            share: &self.share.id,
            link: self.link.as_ref(),
            password_version: self.share.password_version,
        }
    }

    /// A fresh token of `kind` for this share, link and password version.
    pub fn token(&self, door: &Door, kind: KeyKind) -> String {
        door.parts.keys.issue(kind, self.binding(), now_secs())
    }

    /// The key an answer's media URLs carry: a visit to a protected share hands one out.
    pub fn visit_key(&self, door: &Door) -> Option<String> {
        self.protected().then(|| self.token(door, KeyKind::Visit))
    }

    /// The key a preview's cover URLs carry: a share with a visit limit or a recipient
    /// link shows its cover to link previews; a password share shows nothing.
    pub fn cover_key(&self, door: &Door) -> Option<String> {
        (self.protected() && !self.has_password()).then(|| self.token(door, KeyKind::Cover))
    }

    /// The same decision, taken again while a transfer this request started runs. A zip is
    /// a visit, counted before its first byte: the limit was for starting it, so it goes on
    /// as a preview would (its own visit may be the one that used the limit up), held to
    /// everything else.
    pub fn recheck(&self, door: &Door, download: bool) -> Recheck {
        let purpose = match self.purpose {
            Purpose::Visit => Purpose::Preview,
            other => other,
        };
        Recheck {
            door: door.clone(),
            public_id: self.public_id.clone(),
            purpose,
            settled: self.settled.clone(),
            basis: self.basis,
            download,
        }
    }
}

/// The access decision of `enter`, taken again by a transfer while it runs (every second,
/// `transfer_end`) on what its request presented, held to the proof it got in on.
#[derive(Clone)]
pub(crate) struct Recheck {
    door: Door,
    public_id: String,
    purpose: Purpose,
    settled: Settled,
    basis: Basis,
    /// A download or zip also needs downloads still allowed (`downloads_allowed`).
    download: bool,
}

impl Recheck {
    pub fn check(&self) -> Result<(), ApiError> {
        let entry = decide(
            &self.door,
            &self.public_id,
            self.purpose,
            &self.settled,
            Some(self.basis),
            OffsetDateTime::now_utc(),
        )?;
        if self.download {
            super::downloads_allowed(&entry.share, &self.door.settings)?;
        }
        Ok(())
    }
}

/// The decision for a request to `public_id` for `purpose`, from `ip` (already admitted by
/// the access rules): the share it may have, or the answer that refuses it.
pub async fn enter(
    req: &HttpRequest,
    door: &Door,
    public_id: &str,
    purpose: Purpose,
    ip: IpAddr,
) -> Result<Entry, ApiError> {
    let Presented {
        key,
        cookies,
        basic,
    } = Presented::of(req);
    let mut settled = Settled {
        key,
        cookies,
        password: None,
    };
    if let Some(given) = basic.filter(|_| purpose != Purpose::Unlock) {
        settled.password = check_basic(door, public_id, &settled, given, ip).await?;
    }
    decide(
        door,
        public_id,
        purpose,
        &settled,
        None,
        OffsetDateTime::now_utc(),
    )
}

/// A password given with Basic, checked only when it matters: the share has a password and
/// nothing else the request carries proves it.
async fn check_basic(
    door: &Door,
    public_id: &str,
    settled: &Settled,
    given: GivenPassword,
    ip: IpAddr,
) -> Result<Option<Checked>, ApiError> {
    let now = OffsetDateTime::now_utc();
    let found = {
        let shares = door.store.projection();
        match open(&shares, public_id, now) {
            // The decision answers for a share that cannot be opened.
            Err(_) => None,
            Ok((share, link)) => share.password.clone().and_then(|hash| {
                let proofs = proofs(door, share, link, settled, now);
                let target = Target {
                    share: share.id.clone(),
                    link: link.map(|l| l.id.clone()),
                    version: share.password_version,
                    hash,
                };
                (!proofs.prove_password()).then_some(target)
            }),
        }
    };
    let Some(target) = found else {
        return Ok(None);
    };
    let version = target.version;
    match check_password(door, &target, given, ip, "basic").await {
        Attempt::Right => Ok(Some(Checked::Right { version })),
        Attempt::Wrong => Ok(Some(Checked::Wrong)),
        Attempt::Throttled { retry_after } => Err(too_many_attempts(retry_after)),
    }
}

/// The share behind `public_id` as the decision may open it, by the one read path of
/// live shares (`shares::live`): 404 unknown or deleted (for every one of its links
/// too), 410 expired, 410 a revoked link.
fn open<'a>(
    shares: &'a Projection,
    public_id: &str,
    now: OffsetDateTime,
) -> Result<(&'a Share, Option<&'a ShareLink>), ApiError> {
    Ok(crate::shares::live(shares, public_id, now)?)
}

/// What `settled` proves for `share` opened through `link`, now.
fn proofs(
    door: &Door,
    share: &Share,
    link: Option<&ShareLink>,
    settled: &Settled,
    now: OffsetDateTime,
) -> Proofs {
    let keys = &door.parts.keys;
    let binding = Binding {
        share: &share.id,
        link: link.map(|l| &l.id),
        password_version: share.password_version,
    };
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let proves_password = |kind| matches!(kind, KeyKind::Visit | KeyKind::Unlock);
    Proofs {
        key: settled
            .key
            .as_deref()
            .and_then(|k| keys.verify(k, binding, secs)),
        cookie: settled
            .cookies
            .iter()
            .any(|c| keys.verify(c, binding, secs).is_some_and(proves_password)),
        password: match settled.password {
            _ if !share.has_password() => None,
            None => None,
            Some(Checked::Wrong) => Some(false),
            Some(Checked::Right { version }) => Some(version == share.password_version),
        },
    }
}

/// The decision, on what a request presented (its password already checked).
fn decide(
    door: &Door,
    public_id: &str,
    purpose: Purpose,
    settled: &Settled,
    must_hold: Option<Basis>,
    now: OffsetDateTime,
) -> Result<Entry, ApiError> {
    let shares = door.store.projection();
    let (share, link) = open(&shares, public_id, now)?;
    let proofs = proofs(door, share, link, settled, now);
    let basis = allow(share, link, purpose, &proofs, must_hold)?;
    Ok(Entry {
        share: share.clone(),
        link: link.map(|l| l.id.clone()),
        public_id: public_id.to_string(),
        purpose,
        basis,
        settled: settled.clone(),
    })
}

fn now_secs() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}
