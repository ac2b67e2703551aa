//! The short page a browser gets instead of a JSON error when it asks for a share page:
//! the share is not there (404) or gone (410: expired, used up, a link taken back), too many
//! requests (429), sharelog is busy,
//! or the music server is not answering. The words follow the error's code, not only its
//! status: a 503 may be the music server's fault or our own.

use super::assets::ASSETS;
use super::page_text::path_prefix;
use crate::config::Settings;
use crate::error::{ApiError, ErrorCode};
use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    heading: &'a str,
    message: &'a str,
    assets: String,
    css: &'static str,
    icon: &'static str,
}

/// Whether a browser asking for a page gets `render` for `e` instead of the JSON error.
pub fn has_page(e: &ApiError) -> bool {
    words(e.code).is_some()
}

/// The page for `e` (see `has_page`), or an empty string for an error without one.
pub fn render(settings: &Settings, e: &ApiError) -> String {
    let Some((heading, message)) = words(e.code) else {
        return String::new();
    };
    ErrorPage {
        heading,
        message,
        assets: format!("{}/share/_assets", path_prefix(&settings.public_url)),
        css: &ASSETS.css.name,
        icon: &ASSETS.icon.name,
    }
    .render()
    .unwrap_or_default()
}

fn words(code: ErrorCode) -> Option<(&'static str, &'static str)> {
    Some(match code {
        ErrorCode::NotFound => (
            "Share not found",
            "There is no share at this address. It may have been deleted, or the link is incomplete.",
        ),
        ErrorCode::ShareExpired => (
            "This share has expired",
            "The link still points here, but its owner set it to stop working. Ask them for a new one.",
        ),
        ErrorCode::VisitLimitReached => (
            "This link has been used up",
            "It could be opened only so many times, and it has been. Ask the person who sent it to you for a new one.",
        ),
        ErrorCode::LinkRevoked => (
            "This link no longer works",
            "The person who shared it has taken it back. Ask them if you think that is a mistake.",
        ),
        ErrorCode::RateLimited => (
            "Too many requests",
            "Share links were opened from your address too often in a short time. Wait a minute, then reload this page.",
        ),
        ErrorCode::TooManyTransfers | ErrorCode::TransfersBusy | ErrorCode::StoreUnavailable => (
            "Busy just now",
            "The server is too busy to answer this right now. Try again in a moment.",
        ),
        ErrorCode::UpstreamError | ErrorCode::UpstreamUnavailable => (
            "The music is out of reach just now",
            "The share is fine, but the music server that holds it is not answering. Try again in a few minutes.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_server_is_not_blamed_on_the_music_server() {
        let page = |code| render(&Settings::default(), &ApiError::new(code, "x"));
        assert!(page(ErrorCode::UpstreamUnavailable).contains("music server"));
        assert!(page(ErrorCode::UpstreamError).contains("music server"));
        for ours in [ErrorCode::StoreUnavailable, ErrorCode::TransfersBusy] {
            let text = page(ours);
            assert!(
                text.contains("Busy just now") && !text.contains("music server"),
                "{ours}"
            );
        }
        assert!(!has_page(&ApiError::invalid("format", "bad")));
        assert!(page(ErrorCode::ShareExpired).contains("expired"));
        assert!(page(ErrorCode::VisitLimitReached).contains("used up"));
        assert!(page(ErrorCode::LinkRevoked).contains("taken it back"));
    }
}
