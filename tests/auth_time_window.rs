//! Tokens outside their time window (RFC 7519 §4.1.4, §4.1.5): a token signed with the right
//! secret is still refused when its `exp` is negative or not a number, or when its `nbf` or `iat`
//! lies more than the clock leeway (60 s) ahead. Both verification paths apply the same rule:
//! the local HS256 check, and delegation to Navidrome (refused before asking it).
//!
//! Tokens are signed here by hand (HMAC-SHA256 over `header.payload`), so that claims no
//! JWT library would produce (a negative `exp`) can be sent.

use crate::support;
use crate::support::navidrome_standin;

use navidrome_standin::NavidromeStandIn;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};
use support::{spawn_app, TestApp, SECRET};

const ND_SECRET: &str = "navidrome-own-secret-never-shared";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, x)| n | u32::from(*x) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// HMAC-SHA256 (RFC 2104), written out so the test does not share code with the verifier.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let pad = |b: u8| block.iter().map(|k| k ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// An HS256 token over exactly these claims.
fn sign(secret: &str, claims: &Value) -> String {
    let head = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64url(claims.to_string().as_bytes());
    let input = format!("{head}.{body}");
    let sig = b64url(&hmac_sha256(secret.as_bytes(), input.as_bytes()));
    format!("{input}.{sig}")
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "alice", "uid": "u-alice", "iss": "ND", "exp": now() + 3600});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn status_and_code(app: &TestApp, token: &str) -> (u16, String) {
    let r = app.req("GET", "/api/share", Some(token), None);
    let code = if r.status() == 200 {
        String::new()
    } else {
        r.code()
    };
    (r.status(), code)
}

#[test]
fn a_well_formed_hand_signed_token_is_accepted() {
    let app = spawn_app(|_| {});
    let t = sign(SECRET, &claims(json!({"iat": now(), "nbf": now()})));
    assert_eq!(status_and_code(&app, &t), (200, String::new()));
}

#[test]
fn a_negative_or_wrapping_exp_is_unauthorized() {
    let app = spawn_app(|_| {});
    // -1 is 1969; -2_000_000_000 is 1906; both are long past, whatever a u64 makes of them.
    for exp in [json!(-1), json!(-2_000_000_000i64), json!(-1.5)] {
        let t = sign(SECRET, &claims(json!({ "exp": exp })));
        assert_eq!(
            status_and_code(&app, &t),
            (401, "unauthorized".into()),
            "exp {exp}"
        );
    }
}

#[test]
fn an_exp_that_is_not_a_number_is_unauthorized() {
    let app = spawn_app(|_| {});
    let far = (now() + 3600).to_string();
    for exp in [json!(far), json!(null), json!(true)] {
        let t = sign(SECRET, &claims(json!({ "exp": exp })));
        assert_eq!(
            status_and_code(&app, &t),
            (401, "unauthorized".into()),
            "exp {exp}"
        );
    }
}

#[test]
fn a_token_not_yet_valid_is_unauthorized() {
    let app = spawn_app(|_| {});
    let t = sign(SECRET, &claims(json!({"nbf": now() + 3600})));
    assert_eq!(status_and_code(&app, &t), (401, "unauthorized".into()));
    let t = sign(SECRET, &claims(json!({"nbf": "soon"})));
    assert_eq!(status_and_code(&app, &t), (401, "unauthorized".into()));
}

#[test]
fn a_token_issued_in_the_future_is_unauthorized() {
    let app = spawn_app(|_| {});
    let t = sign(SECRET, &claims(json!({"iat": now() + 3600})));
    assert_eq!(status_and_code(&app, &t), (401, "unauthorized".into()));
}

#[test]
fn a_clock_a_little_ahead_is_within_the_leeway() {
    let app = spawn_app(|_| {});
    // Navidrome's clock 30 s ahead of ours: nbf and iat 30 s in our future.
    let t = sign(
        SECRET,
        &claims(json!({"iat": now() + 30, "nbf": now() + 30})),
    );
    assert_eq!(status_and_code(&app, &t), (200, String::new()));
    // Just past the leeway is refused.
    let t = sign(SECRET, &claims(json!({"nbf": now() + 90})));
    assert_eq!(status_and_code(&app, &t), (401, "unauthorized".into()));
}

#[test]
fn delegated_verification_refuses_tokens_outside_their_window_without_asking_navidrome() {
    let nd = NavidromeStandIn::start(ND_SECRET);
    let url = nd.url.clone();
    let app = spawn_app(move |s| {
        s.auth.jwt_secret = String::new();
        s.auth.navidrome_url = url;
    });
    for extra in [
        json!({"exp": -2_000_000_000i64}),
        json!({"nbf": now() + 3600}),
        json!({"iat": now() + 3600}),
    ] {
        let t = sign(ND_SECRET, &claims(extra.clone()));
        assert_eq!(
            status_and_code(&app, &t),
            (401, "unauthorized".into()),
            "{extra}"
        );
    }
    assert_eq!(nd.hits(), 0, "refused before asking Navidrome");
    // The same hand-signed token inside its window is let in by Navidrome.
    let t = sign(ND_SECRET, &claims(json!({"iat": now(), "nbf": now()})));
    assert_eq!(status_and_code(&app, &t), (200, String::new()));
    assert_eq!(nd.hits(), 1);
}
