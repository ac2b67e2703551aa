//! The rules of the access decision (`gate`), for a share that could be opened: what each
//! purpose needs, what the request's proofs are worth, and the proof a running transfer is
//! held to. Pure: no store, no clock, no request; each rule is tested on its own (`tests`).

use super::super::access_key::KeyKind;
use crate::domain::{DomainError, Share, ShareLink};
use crate::error::{ApiError, ErrorCode};

/// What a request wants of the share, which decides what it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `GET /share/{id}` by a person (any format, the zip too), `POST /share/{id}/shown`.
    Visit,
    /// The same by a link-preview bot or a prefetch: recorded apart, never refused by a limit.
    Preview,
    /// `HEAD /share/{id}`: a visit's answer without its body, and without the visit.
    Head,
    /// A stream or download of one track.
    Media,
    /// A cover.
    Cover,
    /// oEmbed: what a site that embeds the share may show of it.
    About,
    /// `POST /share/{id}/unlock`: the share must be there; the password is the form's.
    Unlock,
}

/// The proof a request got in on; a running transfer is held to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Basis {
    Open,
    Key,
    Cookie,
    Password,
}

/// A password given with Basic, once checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Checked {
    /// Right for this password version.
    Right {
        version: u64,
    },
    Wrong,
}

/// What a request presented, with its password checked: what the decision, and every
/// later `Recheck`, is taken on.
#[derive(Clone, Default)]
pub(super) struct Settled {
    pub key: Option<String>,
    pub cookies: Vec<String>,
    pub password: Option<Checked>,
}

/// What the request's proofs are worth for the share as it is now.
#[derive(Debug, Default)]
pub(super) struct Proofs {
    /// The kind of a valid `?key=`.
    pub key: Option<KeyKind>,
    /// A valid unlock cookie (or any token that proves the password) among the cookies.
    pub cookie: bool,
    /// A password given with Basic, for a share that has one: right or wrong.
    pub password: Option<bool>,
}

impl Proofs {
    pub(super) fn prove_password(&self) -> bool {
        matches!(self.key, Some(KeyKind::Visit | KeyKind::Unlock))
            || self.cookie
            || self.password == Some(true)
    }

    pub(super) fn basis(&self) -> Basis {
        if self.key.is_some() {
            Basis::Key
        } else if self.cookie {
            Basis::Cookie
        } else if self.password == Some(true) {
            Basis::Password
        } else {
            Basis::Open
        }
    }

    pub(super) fn hold(&self, basis: Basis) -> bool {
        match basis {
            Basis::Open => true,
            Basis::Key => self.key.is_some(),
            Basis::Cookie => self.cookie,
            Basis::Password => self.password == Some(true),
        }
    }
}

/// The rules of steps 2 and 3, for a share that could be opened: pure, so each is tested
/// on its own.
pub(super) fn allow(
    share: &Share,
    link: Option<&ShareLink>,
    purpose: Purpose,
    proofs: &Proofs,
    must_hold: Option<Basis>,
) -> Result<Basis, ApiError> {
    if must_hold.is_some_and(|basis| !proofs.hold(basis)) {
        return Err(match share.has_password() {
            true => password_required("the password of this share has changed"),
            false => access_key_required("the access key of this request no longer holds"),
        });
    }
    if proofs.password == Some(false) {
        return Err(password_required("the password is not right"));
    }
    if share.has_password() && purpose != Purpose::Unlock && !proofs.prove_password() {
        return Err(password_required("this share is protected by a password"));
    }
    // The key of a visit is what lets a share's streams be played without more visits.
    let needs_key = share.max_visits.is_some() || link.is_some();
    let spent = share.is_spent() || link.is_some_and(ShareLink::is_spent);
    match purpose {
        Purpose::Visit | Purpose::Head if spent => Err(DomainError::VisitLimitReached.into()),
        Purpose::Media if needs_key && proofs.key != Some(KeyKind::Visit) => {
            Err(access_key_required(
                "a stream or download of this share needs the key its page or playlist gave",
            ))
        }
        Purpose::Cover
            if needs_key && !matches!(proofs.key, Some(KeyKind::Visit | KeyKind::Cover)) =>
        {
            Err(access_key_required(
                "a cover of this share needs the key its page gave",
            ))
        }
        _ => Ok(proofs.basis()),
    }
}

fn password_required(message: &str) -> ApiError {
    ApiError::new(ErrorCode::PasswordRequired, message)
}

fn access_key_required(message: &str) -> ApiError {
    ApiError::new(ErrorCode::AccessKeyRequired, message)
}

#[cfg(test)]
mod tests;
