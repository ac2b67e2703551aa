//! `POST /share/_manage/sign-in` and `POST /share/_manage/sign-out`.
//!
//! A sign-in is either the page's form (`username`, `password`: checked by the music server
//! with the user's own credentials, as a Subsonic login is; failures throttled), or a
//! Navidrome session token the browser already holds on this origin, sent by the sign-in
//! page's script as a bearer token to `/share/_manage/sign-in/token` (checked as the owner
//! API checks one). Either way the
//! answer sets the session cookie (`api::session`). Neither is accepted from another site's
//! page, and the password never reaches a log line.

use super::page::sign_in_again;
use super::{Manage, PAGE_PATH};
use crate::api::principal::{self, Caller};
use crate::api::session::{self, Sessions};
use crate::config::{Settings, UpstreamAuth};
use crate::error::ErrorCode;
use crate::public::client_ip;
use crate::public::page_text::path_prefix;
use crate::state::AppState;
use crate::subsonic::Logins;
use crate::upstream::Upstream;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::json;
use std::net::IpAddr;
use std::time::Instant;

/// The longest user name and password passed on to the music server, in characters.
const MAX_NAME_CHARS: usize = 256;
const MAX_PASSWORD_CHARS: usize = 1024;

/// `POST /share/_manage/sign-in`: the form. Answers with pages: 303 to the page signed in,
/// or the form again (400, 401, 403, 429, 503).
pub async fn post(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    upstream: web::Data<Upstream>,
    logins: web::Data<Logins>,
    manage: web::Data<Manage>,
    sessions: web::Data<Sessions>,
) -> HttpResponse {
    let settings = &state.settings;
    if let Err(e) = session::same_origin(&req, settings) {
        return sign_in_again(settings, e.status, &e.message, "", None);
    }
    let Some((username, password)) = form_credentials(&req, &body) else {
        return sign_in_again(
            settings,
            StatusCode::BAD_REQUEST,
            "Enter your user name and your password.",
            "",
            None,
        );
    };
    let client = client(&req, settings);
    if let Err(wait) = manage.throttle.check(&username, client, Instant::now()) {
        log::info!("owner page: sign-in of {username:?} refused: too many failed attempts");
        let minutes = wait.div_ceil(60);
        let message = format!(
            "Too many failed sign-ins for this user name. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        return sign_in_again(
            settings,
            StatusCode::TOO_MANY_REQUESTS,
            &message,
            &username,
            Some(wait),
        );
    }
    let as_token = settings.upstream.auth == UpstreamAuth::Token;
    match logins
        .password(&upstream, &username, &password, as_token)
        .await
    {
        Ok(user) => {
            manage.throttle.succeeded(&username, client);
            let cookie = sessions.issue(&user.username, None, user.is_admin);
            log::info!("owner page: {:?} signed in", user.username);
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, page_path(settings, "")))
                .insert_header((header::SET_COOKIE, session::set_cookie(&cookie, settings)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Err(f) if f.code == 40 => {
            manage.throttle.failed(&username, client, Instant::now());
            log::info!("owner page: sign-in of {username:?} refused: wrong user name or password");
            sign_in_again(
                settings,
                StatusCode::UNAUTHORIZED,
                "Wrong user name or password.",
                &username,
                None,
            )
        }
        // The music server down, or refusing the way we asked (not the password): not a
        // failed guess, so not counted.
        Err(f) => {
            log::warn!("owner page: sign-in could not be checked: {}", f.message);
            let message = if f.status == StatusCode::SERVICE_UNAVAILABLE {
                "The music server is unreachable, so your password cannot be checked. \
                 Try again later."
            } else {
                "The music server did not accept this way of signing in; \
                 the operator's log says why."
            };
            sign_in_again(
                settings,
                StatusCode::SERVICE_UNAVAILABLE,
                message,
                &username,
                Some(5),
            )
        }
    }
}

/// `POST /share/_manage/sign-in/token`: a Navidrome session token (any token the owner API
/// takes) sent as a bearer token by the sign-in page's script; checked as the owner API checks
/// one, answered with JSON.
pub async fn with_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    sessions: web::Data<Sessions>,
) -> HttpResponse {
    let settings = &state.settings;
    if let Err(e) = session::same_origin(&req, settings) {
        return e.error_response();
    }
    match principal::bearer(&req).await {
        Ok(actor) => {
            let cookie = sessions.issue(&actor.username, Some(&actor.user_id), actor.is_admin);
            log::info!(
                "owner page: {:?} signed in with a Navidrome session",
                actor.username
            );
            HttpResponse::Ok()
                .insert_header((header::SET_COOKIE, session::set_cookie(&cookie, settings)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({"username": actor.username, "isAdmin": actor.is_admin}))
        }
        Err(e) => e.error_response(),
    }
}

/// `POST /share/_manage/sign-out` (form field `csrf`): ends the session in this browser.
pub async fn sign_out(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let settings = &state.settings;
    let csrf = form_field(&req, &body, "csrf");
    match principal::caller(&req, csrf.as_deref().or(session::csrf_header(&req))).await {
        Err(e) if e.code == ErrorCode::CsrfRefused => {
            sign_in_again(settings, e.status, &e.message, "", None)
        }
        Ok(Caller { actor, .. }) => {
            log::info!("owner page: {:?} signed out", actor.username);
            signed_out(settings)
        }
        // No session (or an ended one): signed out already.
        Err(_) => signed_out(settings),
    }
}

fn signed_out(settings: &Settings) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, page_path(settings, "?signed-out=1")))
        .insert_header((header::SET_COOKIE, session::clear_cookie(settings)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn page_path(settings: &Settings, query: &str) -> String {
    format!("{}{PAGE_PATH}{query}", path_prefix(&settings.public_url))
}

/// The form's user name (trimmed) and password, when both are there, not too long and free of
/// control characters.
fn form_credentials(req: &HttpRequest, body: &[u8]) -> Option<(String, String)> {
    let username = form_field(req, body, "username")?.trim().to_string();
    let password = form_field(req, body, "password")?;
    // No user name or password holds a control character; some servers fail on them.
    let fits = |s: &str, max: usize| {
        !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    (fits(&username, MAX_NAME_CHARS) && fits(&password, MAX_PASSWORD_CHARS))
        .then_some((username, password))
}

/// Field `name` of a `application/x-www-form-urlencoded` body.
fn form_field(req: &HttpRequest, body: &[u8], name: &str) -> Option<String> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    web::Query::<Vec<(String, String)>>::from_query(text)
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// What one client is for the throttle: the address we believe (behind a trusted proxy, the
/// forwarded one), IPv6 by its network, as the public rate limit counts clients.
fn client(req: &HttpRequest, settings: &Settings) -> IpAddr {
    let xff: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let ip = client_ip::resolve(settings, req.peer_addr().map(|a| a.ip()), &xff);
    client_ip::client_key(ip, settings.limits.ipv6_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn form(body: &str) -> Option<(String, String)> {
        let req = TestRequest::default()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .to_http_request();
        form_credentials(&req, body.as_bytes())
    }

    #[test]
    fn the_form_needs_both_fields_short_and_free_of_control_characters() {
        assert_eq!(
            form("username=%20alice%20&password=s%20cret"),
            Some(("alice".into(), "s cret".into()))
        );
        for bad in [
            "username=alice",
            "password=secret",
            "username=%20&password=secret",
            "username=al%00ice&password=secret",
            "username=alice&password=se%0Acret",
            "username=alice&password=se%7Fcret",
        ] {
            assert_eq!(form(bad), None, "{bad}");
        }
        let long = "a".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(form(&format!("username=alice&password={long}")), None);
        let plain = TestRequest::default().to_http_request();
        assert_eq!(form_credentials(&plain, b"username=alice&password=x"), None);
    }
}
