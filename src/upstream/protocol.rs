//! The Subsonic protocol as a client speaks it, written once for every call sharelog
//! makes to the music server (metadata, login checks, streams): the URL with its
//! version, client name and credentials, and how an answer says it failed.
//! A URL built here carries credentials: it is only ever sent, never logged or shown.

use super::percent_encode;
use crate::subsonic_api::API_VERSION;
use serde_json::Value;

/// How we name ourselves to the music server (`c`).
pub const CLIENT_NAME: &str = "sharelog";

/// Credentials as Subsonic sends them.
pub enum Credentials<'a> {
    /// `p`: a password as sent (clear, or `enc:` and hex).
    Password(&'a str),
    /// `t` = md5(password + salt) in hex, `s` = the salt.
    Token { t: &'a str, s: &'a str },
}

/// `{base}/rest/{method}?u=..&v=..&c=..&<credentials>&<params>`, every value percent-encoded.
pub fn url(
    base: &str,
    method: &str,
    username: &str,
    credentials: &Credentials<'_>,
    params: &[(&str, &str)],
) -> String {
    let mut q: Vec<(&str, &str)> = vec![("u", username), ("v", API_VERSION), ("c", CLIENT_NAME)];
    match credentials {
        Credentials::Password(p) => q.push(("p", p)),
        Credentials::Token { t, s } => {
            q.push(("t", t));
            q.push(("s", s));
        }
    }
    q.extend_from_slice(params);
    let query: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    format!("{base}/rest/{method}?{}", query.join("&"))
}

/// The error code of a `subsonic-response` object whose status is not `ok`
/// (-1 when it names none); `None` for a success.
pub fn error_code(response: &Value) -> Option<i64> {
    if response.get("status").and_then(Value::as_str) == Some("ok") {
        return None;
    }
    Some(
        response
            .pointer("/error/code")
            .and_then(Value::as_i64)
            .unwrap_or(-1),
    )
}

/// The error code in a whole answer body, if it is a Subsonic error: JSON (`f=json`), or
/// XML, the format a server answers the relayed calls (stream, download, cover) in.
pub fn body_error_code(body: &[u8]) -> Option<i64> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => error_code(v.get("subsonic-response")?),
        Err(_) => xml_error_code(std::str::from_utf8(body).ok()?),
    }
}

/// `<subsonic-response status="failed" …><error code="70" …/>`: the code (-1 when the
/// error names none); `None` for anything else. A scan, not a parser: these documents are
/// one element deep, and only the code is read.
fn xml_error_code(xml: &str) -> Option<i64> {
    let root = &xml[xml.find("<subsonic-response")?..];
    let root_tag = &root[..root.find('>')?];
    if !(root_tag.contains("status=\"failed\"") || root_tag.contains("status='failed'")) {
        return None;
    }
    let Some(at) = root.find("<error") else {
        return Some(-1);
    };
    let tag = &root[at..];
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    let code = tag
        .split_once("code=")
        .and_then(|(_, rest)| {
            let quote = rest.chars().next()?;
            rest[quote.len_utf8()..].split(quote).next()
        })
        .and_then(|c| c.trim().parse().ok());
    Some(code.unwrap_or(-1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_url_carries_version_client_credentials_and_encoded_params() {
        let u = url(
            "http://m",
            "getUser",
            "al ice",
            &Credentials::Token { t: "ab", s: "c&d" },
            &[("username", "x/y")],
        );
        assert_eq!(
            u,
            format!("http://m/rest/getUser?u=al%20ice&v={API_VERSION}&c=sharelog&t=ab&s=c%26d&username=x%2Fy")
        );
    }

    #[test]
    fn error_codes_are_read_from_xml_answers_too() {
        let failed = |error: &str| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<subsonic-response \
                 xmlns=\"http://subsonic.org/restapi\" status=\"failed\" version=\"1.16.1\">\
                 {error}</subsonic-response>"
            )
        };
        let code = |s: &str| body_error_code(s.as_bytes());
        assert_eq!(
            code(&failed("<error code=\"70\" message=\"Not found\"/>")),
            Some(70)
        );
        assert_eq!(code(&failed("<error message='x' code='0'/>")), Some(0));
        assert_eq!(code(&failed("")), Some(-1));
        assert_eq!(code(&failed("<error message=\"no code\"/>")), Some(-1));
        let ok = "<subsonic-response status=\"ok\" version=\"1.16.1\"><error code=\"70\"/></subsonic-response>";
        assert_eq!(code(ok), None);
        assert_eq!(code("<html><body>502 Bad Gateway</body></html>"), None);
        assert_eq!(code("\u{89}PNG"), None);
    }

    #[test]
    fn error_codes_are_read_from_failed_answers_only() {
        assert_eq!(error_code(&json!({"status": "ok"})), None);
        assert_eq!(
            error_code(&json!({"status": "failed", "error": {"code": 70}})),
            Some(70)
        );
        assert_eq!(error_code(&json!({"status": "failed"})), Some(-1));
        assert_eq!(
            body_error_code(
                br#"{"subsonic-response": {"status": "failed", "error": {"code": 0}}}"#
            ),
            Some(0)
        );
        assert_eq!(body_error_code(b"<html>"), None);
    }
}
