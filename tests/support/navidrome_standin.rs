//! A STAND-IN for Navidrome (which cannot run here), implementing only what sharelog's
//! delegated login uses: `GET /api/keepalive/keepalive`. As in Navidrome, it answers 200
//! `{"response":"ok","id":"keepalive"}` when `X-ND-Authorization: Bearer <jwt>` carries an
//! HS256 token signed with its own secret and not expired, and 401 otherwise. Anything else
//! is 404. `set_failing(true)` makes it answer 500, as a broken Navidrome would.

use jwt_simple::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

pub struct NavidromeStandIn {
    pub url: String,
    secret: String,
    hits: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

impl NavidromeStandIn {
    pub fn start(secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicBool::new(false));
        let key = HS256Key::from_bytes(secret.as_bytes());
        let (h, f) = (hits.clone(), failing.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (key, h, f) = (key.clone(), h.clone(), f.clone());
                std::thread::spawn(move || serve(stream, &key, &h, &f));
            }
        });
        NavidromeStandIn {
            url,
            secret: secret.to_string(),
            hits,
            failing,
        }
    }

    /// How many keepalive calls it has answered.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn set_failing(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }

    /// A session token as Navidrome issues it: `iss: ND`, `sub`, `uid`, `adm` (admins only), `exp`.
    pub fn token(&self, username: &str, uid: &str, admin: bool) -> String {
        sign(&self.secret, username, uid, admin, Duration::from_hours(48))
    }
}

pub fn sign(secret: &str, username: &str, uid: &str, admin: bool, valid: Duration) -> String {
    let mut custom = serde_json::json!({"uid": uid});
    if admin {
        custom["adm"] = true.into();
    }
    let claims = Claims::with_custom_claims(custom, valid)
        .with_subject(username)
        .with_issuer("ND");
    HS256Key::from_bytes(secret.as_bytes())
        .authenticate(claims)
        .unwrap()
}

fn serve(stream: std::net::TcpStream, key: &HS256Key, hits: &AtomicUsize, failing: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut auth = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("x-nd-authorization") {
                auth = Some(value.trim().to_string());
            }
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if !request_line.starts_with("GET ") || path != "/api/keepalive/keepalive"
    {
        ("404 Not Found", "404 page not found\n".to_string())
    } else {
        hits.fetch_add(1, Ordering::SeqCst);
        let valid = auth
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .is_some_and(|t| {
                let options = VerificationOptions {
                    time_tolerance: Some(Duration::from_secs(0)),
                    ..Default::default()
                };
                key.verify_token::<serde_json::Value>(t, Some(options))
                    .is_ok()
            });
        if failing.load(Ordering::SeqCst) {
            ("500 Internal Server Error", "{}".to_string())
        } else if valid {
            (
                "200 OK",
                r#"{"response":"ok","id":"keepalive"}"#.to_string(),
            )
        } else {
            (
                "401 Unauthorized",
                r#"{"error":"Authorization token is invalid"}"#.to_string(),
            )
        }
    };
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
