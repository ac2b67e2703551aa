//! The headers of the share page and its error pages: what the browser may load
//! (only our own origin), who may frame it (nobody, except the embed player), and
//! that nothing of it is cached or indexed.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

/// Our own scripts, styles, images (cover, icon) and audio, and requests to our own origin
/// (a shown page's token, `shown`); nothing else, nothing inline.
const CSP_SOURCES: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

/// Who may put the page in a frame.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Nobody,
    /// The embed player: any site (that is what oEmbed hands out).
    Anyone,
}

/// The `Content-Security-Policy` of a page.
pub fn csp(framing: Framing) -> String {
    let ancestors = match framing {
        Framing::Nobody => "'none'",
        Framing::Anyone => "*",
    };
    format!("{CSP_SOURCES}; frame-ancestors {ancestors}")
}

/// An HTML answer with every header the share pages carry.
pub fn html(
    status: StatusCode,
    framing: Framing,
    body: impl Into<actix_web::web::Bytes>,
) -> HttpResponse {
    build(status, framing, csp(framing), body)
}

/// The password form: a page like the others whose one form may post to our own origin
/// (`form-action 'self'` instead of `'none'`).
pub fn form(
    status: StatusCode,
    framing: Framing,
    body: impl Into<actix_web::web::Bytes>,
) -> HttpResponse {
    let policy = csp(framing).replace("form-action 'none'", "form-action 'self'");
    build(status, framing, policy, body)
}

fn build(
    status: StatusCode,
    framing: Framing,
    policy: String,
    body: impl Into<actix_web::web::Bytes>,
) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if framing == Framing::Nobody {
        // For browsers that predate frame-ancestors.
        resp.insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    resp.body(body.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_embed_player_may_be_framed_and_nothing_inline_runs() {
        let page = csp(Framing::Nobody);
        assert!(page.starts_with("default-src 'none';"));
        assert!(page.ends_with("frame-ancestors 'none'"));
        assert!(csp(Framing::Anyone).ends_with("frame-ancestors *"));
        assert!(page.contains("; connect-src 'self';"), "{page}");
        for p in [page, csp(Framing::Anyone)] {
            assert!(!p.contains("unsafe"), "{p}");
            assert!(p.contains("; form-action 'none';"), "{p}");
        }
        let form = form(StatusCode::UNAUTHORIZED, Framing::Nobody, "");
        let policy = form
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(policy.contains("; form-action 'self';"), "{policy}");
    }
}
