//! `POST /share/{id}/unlock` (a form: `password`, and the `track`, `t` and `embed` of the page
//! it stands for): the right password answers 303 to the page with the unlock cookie, an
//! HttpOnly, SameSite=Lax token for `Path=/share/{id}` (`Secure` when `publicUrl` is https)
//! that proves the password for this share, link and password version for
//! `publicAccess.accessKeyHours`; a wrong one the form again (401), and too many wrong ones
//! the form with when to come back (429), the right one too. Not a visit: the page load the
//! redirect leads to is.
//!
//! The same checks as every public path come first (`gate`, purpose `Unlock`: 404, 410). A
//! share without a password has nothing to unlock: 303 to its page, no cookie. Browsers
//! (`Accept` preferring HTML) get pages; other clients the JSON errors.

use super::access_key::KeyKind;
use super::attempt::{self, Attempt, Target};
use super::deep_link::Start;
use super::door::Door;
use super::gate::{self, Entry, Purpose};
use super::locked::{self, Form, Note};
use super::page_headers::Framing;
use super::page_text::path_prefix;
use super::proof::{GivenPassword, COOKIE};
use super::{admit, negotiate, page_error, page_headers};
use crate::error::{ApiError, ErrorCode};
use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fields {
    password: Option<String>,
    track: Option<String>,
    t: Option<String>,
    embed: Option<String>,
}

/// The form as posted: the password, and the page to go back to.
struct Posted {
    password: GivenPassword,
    start: Option<Start>,
    embed: bool,
}

fn posted(body: &[u8]) -> Result<Posted, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::invalid("body", "must be a form (application/x-www-form-urlencoded)")
    })?;
    let fields = web::Query::<Fields>::from_query(text)
        .map_err(|_| {
            ApiError::invalid("body", "must be a form (application/x-www-form-urlencoded)")
        })?
        .into_inner();
    let password = fields
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::invalid("password", "is required"))?;
    Ok(Posted {
        password: GivenPassword::new(password),
        start: Start::parse(fields.track.as_deref(), fields.t.as_deref())?,
        embed: fields.embed.as_deref() == Some("true"),
    })
}

/// How an unlock ended, before it becomes an answer for a browser or another client.
enum Outcome {
    /// 303 to the page, with the cookie when there was a password to prove.
    Unlocked {
        cookie: Option<String>,
    },
    Wrong,
    Throttled {
        retry_after: u64,
    },
}

pub async fn post(
    req: HttpRequest,
    path: web::Path<String>,
    state: Door,
    body: Bytes,
) -> HttpResponse {
    let browser = negotiate::prefers_html(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let form = posted(&body);
    let (start, embed) = form.as_ref().map_or((None, false), |f| (f.start, f.embed));
    let framing = match embed {
        true => Framing::Anyone,
        false => Framing::Nobody,
    };
    let outcome = async {
        let ip = admit(&req, &state)?;
        let entry = gate::enter(&req, &state, &path, Purpose::Unlock, ip).await?;
        let form = form?;
        Ok::<_, ApiError>((attempt(&state, &entry, form, ip).await, entry))
    }
    .await;
    let page = |note| {
        let form = Form {
            public_id: &path,
            start,
            embed,
            note,
        };
        locked::form_page(&state.settings, &form, status_of(note), framing)
    };
    let mut resp = match outcome {
        Ok((Outcome::Unlocked { cookie }, entry)) => unlocked(&state, &entry, cookie, start, embed),
        Ok((Outcome::Wrong, _)) if browser => page(Note::Wrong),
        Ok((Outcome::Throttled { retry_after }, _)) if browser => {
            page(Note::Throttled { retry_after })
        }
        Ok((Outcome::Wrong, _)) => {
            ApiError::new(ErrorCode::PasswordRequired, "the password is not right").error_response()
        }
        Ok((Outcome::Throttled { retry_after }, _)) => {
            attempt::too_many_attempts(retry_after).error_response()
        }
        Err(e) if browser && page_error::has_page(&e) => {
            let mut page =
                page_headers::html(e.status, framing, page_error::render(&state.settings, &e));
            if let Some(secs) = e.retry_after {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            }
            page
        }
        Err(e) => e.error_response(),
    };
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(super::PROTECTED_CACHING),
    );
    resp
}

/// The form's password against the share's, through the one path of every attempt.
async fn attempt(state: &Door, entry: &Entry, form: Posted, ip: std::net::IpAddr) -> Outcome {
    let Some(target) = Target::of(entry) else {
        return Outcome::Unlocked { cookie: None };
    };
    match attempt::check_password(state, &target, form.password, ip, "form").await {
        Attempt::Right => Outcome::Unlocked {
            cookie: Some(entry.token(state, KeyKind::Unlock)),
        },
        Attempt::Wrong => Outcome::Wrong,
        Attempt::Throttled { retry_after } => Outcome::Throttled { retry_after },
    }
}

fn status_of(note: Note) -> StatusCode {
    match note {
        Note::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        Note::None | Note::Wrong => StatusCode::UNAUTHORIZED,
    }
}

/// 303 to the page (where the deep link pointed, the embed player if it was one), with the
/// cookie for this share's path.
fn unlocked(
    state: &Door,
    entry: &Entry,
    cookie: Option<String>,
    start: Option<Start>,
    embed: bool,
) -> HttpResponse {
    let settings = &state.settings;
    let page = format!(
        "{}/share/{}",
        path_prefix(&settings.public_url),
        entry.public_id
    );
    let query: Vec<String> = start
        .map(|s| s.query())
        .into_iter()
        .chain(embed.then(|| "embed=true".to_string()))
        .collect();
    let location = match query.is_empty() {
        true => page.clone(),
        false => format!("{page}?{}", query.join("&")),
    };
    let mut resp = HttpResponse::SeeOther();
    resp.insert_header((header::LOCATION, location));
    if let Some(token) = cookie {
        let secure = match settings.public_url.starts_with("https://") {
            true => "; Secure",
            false => "",
        };
        resp.insert_header((
            header::SET_COOKIE,
            format!(
                "{COOKIE}={token}; Path={page}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
                state.parts.keys.lifetime_secs()
            ),
        ));
    }
    resp.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_needs_a_password_and_keeps_a_well_formed_deep_link() {
        let f = posted(b"password=open+sesame&track=2&t=0%3A05&embed=true").unwrap();
        assert_eq!(f.password.as_bytes(), b"open sesame");
        assert_eq!(
            f.start,
            Some(Start {
                track: 1,
                seconds: 5
            })
        );
        assert!(f.embed);
        let plain = posted(b"password=x%C3%A9yz").unwrap();
        assert_eq!(plain.password.as_bytes(), "xéyz".as_bytes());
        assert_eq!(plain.start, None);
        for (body, field) in [
            (&b""[..], "password"),
            (b"password=", "password"),
            (b"track=2", "password"),
            (b"password=abcd&track=zero", "track"),
            (b"\xff\xfe", "body"),
        ] {
            let e = posted(body).err().unwrap();
            assert_eq!(e.field.as_deref(), Some(field));
        }
    }
}
