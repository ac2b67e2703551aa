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

/// Why a music server refused a login, read from the Subsonic error code of its answer.
/// The one rule for it: sharelog's own calls (`Upstream::call`) and the Subsonic login
/// checks of clients (`subsonic/login.rs`) both read refusals here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 40: wrong username or password (44: an API key it does not know).
    WrongCredentials,
    /// 41 or 42: the server does not check tokens (`t` + `s`); or 10 ("a required
    /// parameter is missing") to a login sent as a token, which is how supysonic, knowing
    /// only `p`, answers one.
    TokenUnsupported { code: i64 },
    /// 50: the user may not make this call.
    NotAllowed,
}

/// The refusal an error `code` stands for, for a login sent as a token (`sent_token`) or
/// as a password; `None` when the code is not about the login.
pub fn refusal(code: i64, sent_token: bool) -> Option<Refusal> {
    match code {
        40 | 44 => Some(Refusal::WrongCredentials),
        41 | 42 => Some(Refusal::TokenUnsupported { code }),
        10 if sent_token => Some(Refusal::TokenUnsupported { code }),
        50 => Some(Refusal::NotAllowed),
        _ => None,
    }
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
/// one element deep, and only two attributes are read.
fn xml_error_code(xml: &str) -> Option<i64> {
    let root = element(xml, "subsonic-response")?;
    if attribute(root, "status")? != "failed" {
        return None;
    }
    let code = element(root, "error")
        .and_then(|error| attribute(error, "code"))
        .and_then(|c| c.trim().parse().ok());
    Some(code.unwrap_or(-1))
}

/// What follows the first `<name` that is a whole element name.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}");
    let mut rest = xml;
    loop {
        let at = rest.find(&open)? + open.len();
        rest = &rest[at..];
        if rest.starts_with(|c: char| c.is_whitespace() || c == '/' || c == '>') {
            return Some(rest);
        }
    }
}

/// The value of attribute `name` in a tag's text (`a="1" b='2'>…`), read attribute by
/// attribute, so a `code=` or `>` inside another attribute's value is not mistaken for it.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    loop {
        rest = rest.trim_start();
        let end = rest.find(|c: char| c == '=' || c == '>' || c == '/' || c.is_whitespace())?;
        let (key, after) = rest.split_at(end);
        let after = after.trim_start().strip_prefix('=')?.trim_start();
        let quote = after.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let value_and_rest = &after[1..];
        let close = value_and_rest.find(quote)?;
        if key == name {
            return Some(&value_and_rest[..close]);
        }
        rest = &value_and_rest[close + 1..];
    }
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
        assert_eq!(body_error_code(b"\x89PNG\r\n\x1a\n\0\0"), None);
        // `code=` and `>` inside another attribute's value are not the code
        assert_eq!(
            code(&failed(
                "<error message=\"bad code=5 > here\" code=\"70\"/>"
            )),
            Some(70)
        );
        assert_eq!(
            code(&failed("<errors code=\"9\"/><error code=\"70\"/>")),
            Some(70)
        );
        assert_eq!(code("<subsonic-response status=\"failed\""), Some(-1));
    }

    #[test]
    fn refusals_tell_a_wrong_password_from_a_token_the_server_cannot_check() {
        assert_eq!(refusal(40, false), Some(Refusal::WrongCredentials));
        assert_eq!(refusal(40, true), Some(Refusal::WrongCredentials));
        assert_eq!(
            refusal(41, true),
            Some(Refusal::TokenUnsupported { code: 41 })
        );
        // supysonic's answer to t + s; with p, a 10 is a missing parameter, not the login
        assert_eq!(
            refusal(10, true),
            Some(Refusal::TokenUnsupported { code: 10 })
        );
        assert_eq!(refusal(10, false), None);
        assert_eq!(refusal(50, false), Some(Refusal::NotAllowed));
        assert_eq!(refusal(70, true), None);
        assert_eq!(refusal(0, true), None);
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
