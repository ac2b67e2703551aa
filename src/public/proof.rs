//! What a request presents as proof of access to a protected share: an access key
//! (`?key=`), the unlock cookie, or a password with HTTP Basic (any user name). Only read
//! here; what each proof is worth is the gate's (`gate`). A password given with Basic is
//! checked with argon2 once per share, password version and password: the digest of one
//! that was right is remembered (`Checked`), so a player that sends it with every request
//! costs a hash, not argon2, from the second request on.

use super::access_key::{AccessKeys, Binding};
use actix_web::http::header;
use actix_web::HttpRequest;
use std::collections::HashSet;
use std::sync::Mutex;

/// The unlock cookie's name; its path is the share's (`/share/{id}`), so each share, and
/// each recipient link, has its own.
pub const COOKIE: &str = "sharelog_unlock";

/// The most cookies of our name a request may carry that are looked at.
const MAX_COOKIES: usize = 4;
/// The longest token looked at (ours are 52 characters).
const MAX_TOKEN_CHARS: usize = 128;
/// Longer than any password a share may have (128 characters of up to 4 bytes).
const MAX_PASSWORD_BYTES: usize = 512;

/// A password as a request gave it. Never shown: no `Debug`, no `Display`.
#[derive(Clone)]
pub struct GivenPassword(String);

impl GivenPassword {
    pub fn new(text: String) -> Self {
        GivenPassword(text)
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn into_clear(self) -> crate::shares::password::ClearPassword {
        crate::shares::password::ClearPassword::new(self.0)
    }

    /// Whether it could be a share's password at all (4–128 characters): one that cannot
    /// is wrong without asking argon2.
    pub fn could_be_one(&self) -> bool {
        crate::domain::check_password(&self.0).is_ok()
    }
}

/// What a request carries, unchecked.
#[derive(Clone, Default)]
pub struct Presented {
    pub key: Option<String>,
    pub cookies: Vec<String>,
    pub basic: Option<GivenPassword>,
}

impl Presented {
    pub fn of(req: &HttpRequest) -> Self {
        Presented {
            key: key_param(req.query_string()),
            cookies: cookies(req),
            basic: basic_password(req),
        }
    }
}

/// `key` of a query string (the last one wins, like every other parameter).
fn key_param(query: &str) -> Option<String> {
    query
        .split('&')
        .rev()
        .find_map(|pair| pair.strip_prefix("key="))
        .filter(|k| !k.is_empty() && k.len() <= MAX_TOKEN_CHARS)
        .map(str::to_string)
}

/// Every value of our cookie (a browser may send more than one of a name).
fn cookies(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|v| !v.is_empty() && v.len() <= MAX_TOKEN_CHARS)
        .take(MAX_COOKIES)
        .map(str::to_string)
        .collect()
}

/// The password of `Authorization: Basic base64(user:password)`, whatever the user.
fn basic_password(req: &HttpRequest) -> Option<GivenPassword> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > MAX_PASSWORD_BYTES * 2 {
        return None;
    }
    let decoded = base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(GivenPassword(password.to_string()))
}

/// Standard base64 (RFC 4648 §4, padding optional), as HTTP Basic uses it.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Digests of passwords given with Basic that argon2 found right (`AccessKeys::password_digest`:
/// share, link, password version and password). A new password version makes every earlier
/// digest useless, so none needs removing; past `MAX` the set starts again.
#[derive(Default)]
pub struct Checked {
    right: Mutex<HashSet<[u8; 32]>>,
}

impl Checked {
    const MAX: usize = 10_000;

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        // Digests are inserted whole.
        self.right.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_known_right(
        &self,
        keys: &AccessKeys,
        binding: Binding<'_>,
        given: &GivenPassword,
    ) -> bool {
        self.lock()
            .contains(&keys.password_digest(binding, given.as_bytes()))
    }

    pub fn remember_right(&self, keys: &AccessKeys, binding: Binding<'_>, given: &GivenPassword) {
        let digest = keys.password_digest(binding, given.as_bytes());
        let mut right = self.lock();
        if right.len() >= Self::MAX {
            right.clear();
        }
        right.insert(digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn basic_gives_the_password_whatever_the_user() {
        // "anyone:open sesame" and ":pw:with:colons"
        let req = TestRequest::default()
            .insert_header(("Authorization", "Basic YW55b25lOm9wZW4gc2VzYW1l"))
            .to_http_request();
        assert_eq!(basic_password(&req).unwrap().0, "open sesame");
        let req = TestRequest::default()
            .insert_header(("authorization", "basic OnB3OndpdGg6Y29sb25z"))
            .to_http_request();
        assert_eq!(basic_password(&req).unwrap().0, "pw:with:colons");
        for junk in ["Bearer abc", "Basic", "Basic !!!!", "Basic bm9jb2xvbg=="] {
            let req = TestRequest::default()
                .insert_header(("Authorization", junk))
                .to_http_request();
            assert!(basic_password(&req).is_none(), "{junk}");
        }
    }

    #[test]
    fn base64_reads_every_padding() {
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("YWJjZA").unwrap(), b"abcd");
        assert!(base64_decode("Y").is_none());
        assert!(base64_decode("YW-j").is_none());
    }

    #[test]
    fn the_key_and_our_cookies_are_read_and_nothing_else() {
        assert_eq!(key_param("format=m3u&key=abc").as_deref(), Some("abc"));
        assert_eq!(key_param("key=a&key=b").as_deref(), Some("b"));
        assert_eq!(key_param("monkey=abc"), None);
        assert_eq!(key_param("key="), None);
        assert_eq!(key_param(&format!("key={}", "a".repeat(200))), None);
        let req = TestRequest::default()
            .insert_header((
                "Cookie",
                "other=1; sharelog_unlock=tok1; sharelog_unlock=\"tok2\"",
            ))
            .to_http_request();
        assert_eq!(cookies(&req), vec!["tok1", "tok2"]);
    }

    #[test]
    fn only_a_password_that_could_be_one_is_worth_hashing() {
        assert!(GivenPassword::new("open".into()).could_be_one());
        assert!(!GivenPassword::new("abc".into()).could_be_one());
        assert!(!GivenPassword::new("x".repeat(129)).could_be_one());
    }
}
