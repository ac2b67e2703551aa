//! The headers of the owner's pages: only our own origin may be loaded from or posted to,
//! nobody may frame them, and nothing of them is cached or indexed.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder};

/// Our own scripts, styles and icon, requests to our own API, forms posted to ourselves;
/// nothing else, nothing inline.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// An HTML answer with every header the owner's pages carry; `extra` adds to it.
pub fn html(
    status: StatusCode,
    body: String,
    extra: impl FnOnce(&mut HttpResponseBuilder),
) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Robots-Tag", "noindex"))
        // Not `no-referrer`: that makes a browser send `Origin: null` with the page's own
        // POSTs, and the origin check (`api::session::same_origin`) needs the real one.
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    extra(&mut resp);
    resp.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_inline_runs_and_nothing_frames_the_page() {
        assert!(CSP.starts_with("default-src 'none';"));
        assert!(CSP.ends_with("frame-ancestors 'none'"));
        assert!(!CSP.contains("unsafe"), "{CSP}");
        assert!(CSP.contains("form-action 'self'"));
    }
}
