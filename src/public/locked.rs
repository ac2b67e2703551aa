//! The pages of a share a browser cannot open as it is: the password form of a password
//! share (401; again with a note after a wrong password, 401, or too many, 429), which shows
//! nothing of the share (no title, owner, cover or track: link previews read it too), and
//! whose form posts to `POST /share/{id}/unlock` (`unlock`), keeping where a deep link
//! pointed (`?track=&t=`) and whether it is the embed player.

use super::assets::ASSETS;
use super::deep_link::Start;
use super::page_headers::{self, Framing};
use super::page_text::{path_prefix, HIDDEN_TITLE};
use crate::config::Settings;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;

/// What the form says under the password field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    None,
    /// The last password was not the share's.
    Wrong,
    /// Too many wrong passwords: the next is looked at in this many seconds.
    Throttled {
        retry_after: u64,
    },
}

/// One password form.
pub struct Form<'a> {
    /// The id the share was opened with (its own, or a recipient link's).
    pub public_id: &'a str,
    pub start: Option<Start>,
    pub embed: bool,
    pub note: Note,
}

#[derive(Template)]
#[template(path = "locked.html")]
struct LockedPage<'a> {
    title: &'a str,
    description: &'a str,
    page_url: String,
    action: String,
    track: Option<usize>,
    t: Option<u32>,
    embed: bool,
    note: Option<String>,
    assets: String,
    css: &'static str,
    icon: &'static str,
}

/// The form page with `status`, framed as the page it stands for would be; a throttled one
/// says when to come back (`Retry-After`).
pub fn form_page(
    settings: &Settings,
    form: &Form,
    status: StatusCode,
    framing: Framing,
) -> HttpResponse {
    let mut resp = page_headers::form(status, framing, render(settings, form));
    if let Note::Throttled { retry_after } = form.note {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
    }
    resp
}

fn render(settings: &Settings, form: &Form) -> String {
    let prefix = path_prefix(&settings.public_url);
    LockedPage {
        title: HIDDEN_TITLE,
        description: "A password protects this share.",
        page_url: format!("{}/share/{}", settings.public_url, form.public_id),
        action: format!("{prefix}/share/{}/unlock", form.public_id),
        track: form.start.map(|s| s.track + 1),
        t: form.start.map(|s| s.seconds),
        embed: form.embed,
        note: note(form.note),
        assets: format!("{prefix}/share/_assets"),
        css: &ASSETS.css.name,
        icon: &ASSETS.icon.name,
    }
    .render()
    // Rendering into a String fails only if a Display impl does; ours are strings and numbers.
    .unwrap_or_default()
}

fn note(n: Note) -> Option<String> {
    match n {
        Note::None => None,
        Note::Wrong => Some("That is not the password. Check it and try again.".into()),
        Note::Throttled { retry_after } => Some(format!(
            "Too many wrong passwords. Try again in {}.",
            minutes(retry_after)
        )),
    }
}

/// "1 minute", "15 minutes": a wait rounded up to whole minutes.
fn minutes(seconds: u64) -> String {
    match seconds.div_ceil(60).max(1) {
        1 => "1 minute".into(),
        n => format!("{n} minutes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(note: Note, start: Option<Start>) -> String {
        let settings = Settings {
            public_url: "https://music.example.org/tunes".into(),
            ..Settings::default()
        };
        let form = Form {
            public_id: "abc",
            start,
            embed: false,
            note,
        };
        render(&settings, &form)
    }

    #[test]
    fn the_form_posts_to_the_unlock_path_and_keeps_the_deep_link() {
        let html = page(
            Note::None,
            Some(Start {
                track: 1,
                seconds: 90,
            }),
        );
        assert!(
            html.contains("action=\"/tunes/share/abc/unlock\""),
            "{html}"
        );
        assert!(html.contains("<input type=\"hidden\" name=\"track\" value=\"2\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"t\" value=\"90\">"));
        assert!(html.contains("type=\"password\""));
        assert!(html.contains("<title>Shared music</title>"));
        assert!(html.contains("content=\"https://music.example.org/tunes/share/abc\""));
        assert!(!html.contains("og:image"), "no cover for a password share");
        assert!(!page(Note::None, None).contains("name=\"track\""));
    }

    #[test]
    fn a_wrong_or_throttled_attempt_says_so() {
        assert!(!page(Note::None, None).contains("id=\"note\""));
        assert!(page(Note::Wrong, None).contains("That is not the password"));
        let throttled = page(Note::Throttled { retry_after: 61 }, None);
        assert!(throttled.contains("Try again in 2 minutes."), "{throttled}");
        assert_eq!(minutes(1), "1 minute");
        assert_eq!(minutes(900), "15 minutes");
    }
}
