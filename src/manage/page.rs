//! `GET /share/_manage`: the owner's page for a signed-in owner, else the sign-in form. Both
//! are askama templates, so every value (a user name, an error message) is HTML-escaped; the
//! shares themselves are put on the page by its script, as text.

use super::assets::ASSETS;
use super::headers;
use super::PAGE_PATH;
use crate::api::principal::{self, Caller};
use crate::api::session;
use crate::config::Settings;
use crate::public::page_text::path_prefix;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

/// The page of a signed-in owner: a shell its script fills from the owner API.
#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage<'a> {
    username: &'a str,
    is_admin: bool,
    /// The session's CSRF token, sent back with every change.
    csrf: &'a str,
    paths: Paths,
}

/// The sign-in form, with why it is shown again (`message`) and the name tried.
#[derive(Template)]
#[template(path = "manage_sign_in.html")]
pub(super) struct SignInPage<'a> {
    pub message: Option<&'a str>,
    pub username: &'a str,
    /// Whether the script may sign in with a Navidrome session by itself (not right after
    /// the owner signed out: they would be signed in again at once).
    pub auto: bool,
    pub paths: Paths,
}

/// Every path the pages link to, under `publicUrl`'s path.
pub(super) struct Paths {
    page: String,
    sign_in: String,
    sign_out: String,
    api: String,
    css: String,
    js: String,
    chart: String,
    sign_in_js: String,
    icon: String,
}

impl Paths {
    pub fn new(settings: &Settings) -> Self {
        let prefix = path_prefix(&settings.public_url);
        let page = format!("{prefix}{PAGE_PATH}");
        let asset = |name: &str| format!("{page}/assets/{name}");
        Paths {
            sign_in: format!("{page}/sign-in"),
            sign_out: format!("{page}/sign-out"),
            api: format!("{prefix}/api"),
            css: asset(&ASSETS.css.name),
            js: asset(&ASSETS.js.name),
            chart: asset(&ASSETS.chart.name),
            sign_in_js: asset(&ASSETS.sign_in.name),
            icon: format!(
                "{prefix}/share/_assets/{}",
                crate::public::assets::ASSETS.icon.name
            ),
            page,
        }
    }
}

/// `GET|HEAD /share/_manage` (`?signed-out=1` after a sign-out).
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    if let Ok(Caller {
        actor,
        session: Some(s),
    }) = principal::caller(&req, None).await
    {
        let page = ManagePage {
            username: &actor.username,
            is_admin: actor.is_admin,
            csrf: &s.csrf,
            paths: Paths::new(settings),
        };
        return headers::html(StatusCode::OK, page.render().unwrap_or_default(), |_| {});
    }
    let signed_out = req.query_string().split('&').any(|p| p == "signed-out=1");
    let had_session = session::cookie(&req).is_some();
    let message = if signed_out {
        Some("You are signed out.")
    } else if had_session {
        Some("Your session has ended; sign in again.")
    } else {
        None
    };
    let page = SignInPage {
        message,
        username: "",
        auto: !signed_out,
        paths: Paths::new(settings),
    };
    headers::html(StatusCode::OK, page.render().unwrap_or_default(), |r| {
        if had_session {
            r.insert_header((header::SET_COOKIE, session::clear_cookie(settings)));
        }
    })
}

/// The sign-in form again, with `status` and why.
pub(super) fn sign_in_again(
    settings: &Settings,
    status: StatusCode,
    message: &str,
    username: &str,
    retry_after: Option<u64>,
) -> HttpResponse {
    let page = SignInPage {
        message: Some(message),
        username,
        auto: false,
        paths: Paths::new(settings),
    };
    headers::html(status, page.render().unwrap_or_default(), |r| {
        if let Some(s) = retry_after {
            r.insert_header((header::RETRY_AFTER, s.to_string()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_and_a_message_are_escaped() {
        let evil = "</script><script>alert(1)</script>";
        let html = SignInPage {
            message: Some(evil),
            username: evil,
            auto: false,
            paths: Paths::new(&Settings::default()),
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(
            html.contains("&#60;/script&#62;&#60;script&#62;alert(1)"),
            "{html}"
        );
        let html = ManagePage {
            username: evil,
            is_admin: false,
            csrf: "a\"b",
            paths: Paths::new(&Settings::default()),
        }
        .render()
        .unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("content=\"a&#34;b\""), "{html}");
    }

    #[test]
    fn links_carry_the_public_url_prefix() {
        let settings = Settings {
            public_url: "https://music.example.org/tunes".into(),
            ..Settings::default()
        };
        let p = Paths::new(&settings);
        assert_eq!(p.page, "/tunes/share/_manage");
        assert_eq!(p.sign_in, "/tunes/share/_manage/sign-in");
        assert_eq!(p.api, "/tunes/api");
        assert!(
            p.js.starts_with("/tunes/share/_manage/assets/manage."),
            "{}",
            p.js
        );
        assert!(
            p.icon.starts_with("/tunes/share/_assets/icon."),
            "{}",
            p.icon
        );
    }
}
