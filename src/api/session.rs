//! The owner's session: what the owner's page (`/share/_manage`) signs in to, and what the
//! owner API accepts besides bearer tokens (`principal`).
//!
//! A session is a cookie holding an HS256-signed claim (who, admin or not, a nonce, expiry in
//! 12 h), signed with the store's secret `manage-session`: every replica on one log checks
//! what another signed, and nothing is kept in a process's memory. The cookie is HttpOnly and
//! SameSite=Strict, `Secure` when `publicUrl` is https. Its nonce is the CSRF token: the page
//! is given it, and a state-changing call must send it back (`X-CSRF-Token`), from our own
//! origin (`same_origin`). A cross-site page can neither read the page nor set that header.

use crate::config::Settings;
use crate::domain::UserId;
use crate::error::{ApiError, ErrorCode};
use actix_web::http::{header, Method};
use actix_web::HttpRequest;
use jwt_simple::prelude::*;

/// The cookie's name.
pub const COOKIE: &str = "sharelog_session";
/// The header a state-changing call carries the CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// The name of the sessions' key in the store (`Store::secret`).
pub const SECRET_NAME: &str = "manage-session";
/// How long a session lasts from its sign-in.
pub const LIFETIME_SECS: u64 = 12 * 3600;
/// The longest cookie value read; ours are about 350 characters.
const MAX_TOKEN_CHARS: usize = 2048;
/// Tells our sessions apart from any other token signed by us.
const ISSUER: &str = "sharelog-session";

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub username: String,
    /// Known when the sign-in proved it (a Navidrome token); a password sign-in proves the
    /// user name only, and the user id is found as the Subsonic door finds it.
    pub user_id: Option<UserId>,
    pub is_admin: bool,
    /// The CSRF token every state-changing call must send back.
    pub csrf: String,
}

#[derive(Serialize, Deserialize)]
struct Custom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(default)]
    adm: bool,
}

/// Issues and checks sessions with one key (the store's, shared by every replica).
pub struct Sessions {
    key: HS256Key,
}

impl Sessions {
    pub fn new(key: [u8; 32]) -> Self {
        Sessions {
            key: HS256Key::from_bytes(&key),
        }
    }

    /// A new session's cookie value for `username`.
    pub fn issue(&self, username: &str, user_id: Option<&UserId>, is_admin: bool) -> String {
        let custom = Custom {
            uid: user_id.map(|u| u.0.clone()),
            adm: is_admin,
        };
        let mut claims = Claims::with_custom_claims(custom, Duration::from_secs(LIFETIME_SECS))
            .with_subject(username)
            .with_issuer(ISSUER);
        claims.create_nonce();
        // Signing an HMAC over claims we built cannot fail; an empty cookie is refused later.
        self.key.authenticate(claims).unwrap_or_default()
    }

    /// The session of a cookie value we signed that has not expired at `now` (seconds since
    /// 1970); `None` for anything else.
    pub fn verify(&self, token: &str, now: u64) -> Option<Session> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        let options = VerificationOptions {
            accept_future: true,
            time_tolerance: Some(Duration::from_secs(0)),
            allowed_issuers: Some(HashSet::from([ISSUER.to_string()])),
            max_token_length: Some(MAX_TOKEN_CHARS),
            artificial_time: Some(Duration::from_secs(now)),
            ..Default::default()
        };
        let claims = self.key.verify_token::<Custom>(token, Some(options)).ok()?;
        Some(Session {
            username: claims.subject.filter(|s| !s.is_empty())?,
            user_id: claims.custom.uid.map(UserId),
            is_admin: claims.custom.adm,
            csrf: claims.nonce.filter(|n| !n.is_empty())?,
        })
    }
}

/// Seconds since 1970 by our clock.
pub fn now_secs() -> u64 {
    Clock::now_since_epoch().as_secs()
}

/// The session cookie's value in `req`, if it carries one.
pub fn cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_string())
}

/// `Set-Cookie` for a new session: for every path under `publicUrl`'s (the page and the API).
pub fn set_cookie(token: &str, settings: &Settings) -> String {
    cookie_header(token, LIFETIME_SECS, settings)
}

/// `Set-Cookie` that ends the session in this browser.
pub fn clear_cookie(settings: &Settings) -> String {
    cookie_header("", 0, settings)
}

fn cookie_header(value: &str, max_age: u64, settings: &Settings) -> String {
    let path = match crate::public::page_text::path_prefix(&settings.public_url) {
        "" => "/",
        prefix => prefix,
    };
    let secure = if settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// Whether `method` changes state (and so needs the CSRF token and our own origin).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF token sent with a call (`X-CSRF-Token`, or the page's form field) against the
/// session's, compared in constant time.
pub fn check_csrf(session: &Session, sent: Option<&str>) -> Result<(), ApiError> {
    let ok = sent.is_some_and(|s| constant_time_eq(s.trim().as_bytes(), session.csrf.as_bytes()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::CsrfRefused,
            "a change made with the session cookie needs the page's CSRF token (X-CSRF-Token)",
        ))
    }
}

/// The CSRF token in the `X-CSRF-Token` header.
pub fn csrf_header(req: &HttpRequest) -> Option<&str> {
    req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// Refuses a request a browser sent from another site: `Sec-Fetch-Site` other than
/// `same-origin`, or an `Origin` that is neither `publicUrl`'s nor the request's own host.
/// A request with neither header is not from a browser's page (a browser sends them with
/// every POST) and passes; it still needs the CSRF token.
pub fn same_origin(req: &HttpRequest, settings: &Settings) -> Result<(), ApiError> {
    let value = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let refused = || {
        ApiError::new(
            ErrorCode::CsrfRefused,
            "a change from another site's page is refused",
        )
    };
    if let Some(site) = value("sec-fetch-site") {
        if !site.eq_ignore_ascii_case("same-origin") {
            return Err(refused());
        }
    }
    if let Some(origin) = value("origin") {
        let ours = origin_of(&settings.public_url);
        let host = value("host").unwrap_or_default();
        let authority = origin.split_once("://").map_or("", |(_, a)| a);
        let same = origin.eq_ignore_ascii_case(ours)
            || (!host.is_empty() && authority.eq_ignore_ascii_case(host));
        if !same {
            return Err(refused());
        }
    }
    Ok(())
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let end = scheme.len() + 3 + rest.find('/').unwrap_or(rest.len());
    &url[..end]
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn a_session_names_its_user_and_carries_a_csrf_token() {
        let sessions = Sessions::new([3; 32]);
        let token = sessions.issue("alice", None, false);
        assert!(token.len() < MAX_TOKEN_CHARS / 4, "{}", token.len());
        let s = sessions.verify(&token, now_secs()).unwrap();
        assert_eq!(
            (s.username.as_str(), s.user_id, s.is_admin),
            ("alice", None, false)
        );
        assert!(s.csrf.len() >= 16, "{}", s.csrf);
        let other = sessions.verify(&sessions.issue("alice", None, false), now_secs());
        assert_ne!(
            other.unwrap().csrf,
            s.csrf,
            "each sign-in has its own token"
        );
        let admin = sessions.issue("root", Some(&UserId("u-root".into())), true);
        let a = sessions.verify(&admin, now_secs()).unwrap();
        assert_eq!(
            (a.user_id, a.is_admin),
            (Some(UserId("u-root".into())), true)
        );
    }

    #[test]
    fn another_key_a_damaged_cookie_and_an_old_session_are_refused() {
        let sessions = Sessions::new([3; 32]);
        let now = now_secs();
        assert!(Sessions::new([4; 32])
            .verify(&sessions.issue("alice", None, true), now)
            .is_none());
        let mut damaged = sessions.issue("alice", None, false);
        let last = damaged
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        damaged.push(last);
        assert!(sessions.verify(&damaged, now).is_none());
        for junk in ["", "x", "a.b.c", &"A".repeat(MAX_TOKEN_CHARS + 1)] {
            assert!(sessions.verify(junk, now).is_none(), "{junk}");
        }
        let token = sessions.issue("alice", None, false);
        assert!(sessions.verify(&token, now + LIFETIME_SECS - 5).is_some());
        assert!(sessions.verify(&token, now + LIFETIME_SECS + 2).is_none());
        // A replica with the same key checks what another signed.
        assert!(Sessions::new([3; 32]).verify(&token, now).is_some());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_on_https() {
        let mut settings = Settings {
            public_url: "http://127.0.0.1:4534".into(),
            ..Settings::default()
        };
        assert_eq!(
            set_cookie("t", &settings),
            "sharelog_session=t; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict"
        );
        settings.public_url = "https://music.example.org/tunes".into();
        assert_eq!(
            clear_cookie(&settings),
            "sharelog_session=; Path=/tunes; Max-Age=0; HttpOnly; SameSite=Strict; Secure"
        );
        let req = TestRequest::default()
            .insert_header((header::COOKIE, "a=1; sharelog_session=abc.def; b=2"))
            .to_http_request();
        assert_eq!(cookie(&req).as_deref(), Some("abc.def"));
        assert_eq!(cookie(&TestRequest::default().to_http_request()), None);
    }

    #[test]
    fn only_the_sessions_own_token_passes_the_csrf_check() {
        let s = Sessions::new([3; 32])
            .verify(&Sessions::new([3; 32]).issue("a", None, false), now_secs())
            .unwrap();
        assert!(check_csrf(&s, Some(&s.csrf)).is_ok());
        for wrong in [None, Some(""), Some("x"), Some(&s.csrf[1..])] {
            let e = check_csrf(&s, wrong).unwrap_err();
            assert_eq!(e.code, ErrorCode::CsrfRefused);
        }
    }

    #[test]
    fn a_request_from_another_site_is_refused() {
        let settings = Settings {
            public_url: "https://music.example.org/tunes".into(),
            ..Settings::default()
        };
        let check = |headers: &[(&str, &str)]| {
            let mut req = TestRequest::post();
            for (k, v) in headers {
                req = req.insert_header((*k, *v));
            }
            same_origin(&req.to_http_request(), &settings).is_ok()
        };
        assert!(check(&[]), "not a browser: the CSRF token decides");
        assert!(check(&[("Sec-Fetch-Site", "same-origin")]));
        assert!(check(&[("Origin", "https://music.example.org")]));
        assert!(check(&[
            ("Origin", "http://127.0.0.1:9"),
            ("Host", "127.0.0.1:9")
        ]));
        assert!(!check(&[("Sec-Fetch-Site", "cross-site")]));
        assert!(!check(&[("Sec-Fetch-Site", "same-site")]));
        assert!(!check(&[("Origin", "https://evil.example")]));
        assert!(!check(&[("Origin", "null")]));
        assert!(!check(&[
            ("Origin", "https://evil.example"),
            ("Host", "music.example.org")
        ]));
        assert_eq!(origin_of("https://a.b:8/c/d"), "https://a.b:8");
        assert_eq!(origin_of("http://a.b"), "http://a.b");
    }
}
