//! The headers of every body we pass through from the music server (streams, downloads,
//! covers) and of the zips we write from its files. The bytes are the music server's, so they
//! may be anything: an HTML page from a proxy in front of it, a script, an SVG with one. On our
//! origin (which may be the music server's too) a browser must never run them:
//! - a `Content-Type` always, chosen by us (`track_type`, `cover_type`), never none (a browser
//!   sniffs a body without one, and HTML sniffed is HTML run);
//! - `X-Content-Type-Options: nosniff`, so that type is the one used;
//! - `Content-Security-Policy: sandbox`: opened as a document (an SVG, a body whose type a
//!   browser renders after all), it is a sandbox with no script and an origin of its own.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpResponseBuilder;

/// For anything whose type we cannot vouch for: a browser downloads it, never renders it.
const OPAQUE: &str = "application/octet-stream";

/// The type of a track's stream or download. The music server's type if it names audio or
/// video (it describes the bytes sent, a transcode included), else the type the share's
/// metadata knows for the track, else `application/octet-stream`.
pub fn track_type(upstream: Option<&HeaderValue>, known: &str) -> HeaderValue {
    let upstream = upstream.and_then(|v| v.to_str().ok()).and_then(essence);
    let media = |t: &String| t.starts_with("audio/") || t.starts_with("video/");
    let chosen = upstream
        .filter(media)
        .or_else(|| essence(known).filter(media));
    value(chosen)
}

/// The type of a cover: the music server's if it names an image, else
/// `application/octet-stream`. An SVG stays an SVG: `<img>` never runs its script, and opened
/// as a document it is sandboxed.
pub fn cover_type(upstream: Option<&HeaderValue>) -> HeaderValue {
    let upstream = upstream.and_then(|v| v.to_str().ok()).and_then(essence);
    value(upstream.filter(|t| t.starts_with("image/")))
}

/// `nosniff` and the sandbox, on every passed-through body and every zip.
pub fn harden(out: &mut HttpResponseBuilder) {
    out.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"));
}

fn value(chosen: Option<String>) -> HeaderValue {
    chosen
        .and_then(|t| HeaderValue::from_str(&t).ok())
        .unwrap_or_else(|| HeaderValue::from_static(OPAQUE))
}

/// `type/subtype` of a media type, lower case, without parameters; `None` unless both are
/// tokens (RFC 9110), so nothing odd is ever echoed into our header.
fn essence(media_type: &str) -> Option<String> {
    let essence = media_type.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    (token(kind) && token(sub)).then_some(essence)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn a_track_gets_an_audio_type_or_an_opaque_one() {
        assert_eq!(
            track_type(Some(&v("audio/mpeg")), "audio/flac"),
            "audio/mpeg"
        );
        assert_eq!(
            track_type(Some(&v("Audio/OGG; codecs=opus")), ""),
            "audio/ogg"
        );
        assert_eq!(track_type(None, "audio/mpeg"), "audio/mpeg");
        assert_eq!(
            track_type(Some(&v("text/html")), "audio/mpeg"),
            "audio/mpeg"
        );
        assert_eq!(track_type(None, ""), OPAQUE);
        assert_eq!(track_type(None, "text/html"), OPAQUE, "metadata lies too");
        assert_eq!(track_type(Some(&v("audio/")), "audio/x y"), OPAQUE);
    }

    #[test]
    fn a_cover_gets_an_image_type_or_an_opaque_one() {
        assert_eq!(cover_type(Some(&v("image/jpeg"))), "image/jpeg");
        assert_eq!(cover_type(Some(&v("image/svg+xml"))), "image/svg+xml");
        assert_eq!(cover_type(Some(&v("text/html; charset=utf-8"))), OPAQUE);
        assert_eq!(cover_type(None), OPAQUE);
    }
}
