//! A client for the music server's Subsonic API: metadata for creating and
//! showing shares, and (for the public pages) stream and download URLs.

mod check;
mod model;
pub mod protocol;
mod query;
mod transfer;

pub use check::check_at_start;
pub use model::{Album, Artist, ArtistAlbum, Playlist};

pub use protocol::Refusal;
pub use query::percent_encode;
pub use transfer::Pool;

use crate::config::{Limits, Upstream as UpstreamSettings, UpstreamAuth};
use crate::domain::Track;
use crate::metrics::METRICS;
use md5::{Digest, Md5};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// Bound on every metadata call, so a hung music server cannot hang us.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The server answered that the id does not exist (or is malformed).
    NotFound,
    /// No answer: connection refused, timeout, or a 5xx.
    Unavailable(String),
    /// The music server refused sharelog's own login (`upstream.*`): a setting to fix.
    Refused(Refusal),
    /// An answer we cannot use: an unexpected body or error.
    Failed(String),
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::NotFound => write!(f, "not found on the music server"),
            UpstreamError::Unavailable(m) => write!(f, "music server unavailable: {m}"),
            UpstreamError::Refused(r) => f.write_str(&fix(*r)),
            UpstreamError::Failed(m) => write!(f, "music server error: {m}"),
        }
    }
}

/// What a refusal of sharelog's own login means, and the setting that fixes it: the
/// words an operator reads in the log, `/readyz` and a refused create.
fn fix(r: Refusal) -> String {
    match r {
        Refusal::WrongCredentials => "the music server refused sharelog's login: wrong \
            upstream.username or upstream.password (Subsonic error 40); set the right ones \
            (SHARELOG_UPSTREAM_USERNAME, SHARELOG_UPSTREAM_PASSWORD)"
            .into(),
        Refusal::TokenUnsupported { code: 10 } => "the music server does not accept token \
            authentication (it answered a token login with Subsonic error 10, \"a required \
            parameter is missing\", as supysonic does); set SHARELOG_UPSTREAM_AUTH=password \
            (upstream.auth: password)"
            .into(),
        Refusal::TokenUnsupported { code } => format!(
            "the music server does not accept token authentication (Subsonic error {code}); \
             set SHARELOG_UPSTREAM_AUTH=password (upstream.auth: password)"
        ),
        Refusal::NotAllowed => "the music server does not allow sharelog's user \
            (upstream.username) this call (Subsonic error 50); use a user that may read the \
            whole library"
            .into(),
    }
}

/// One per worker thread (awc clients are not `Send`); cheap to build.
#[derive(Clone)]
pub struct Upstream {
    settings: UpstreamSettings,
    /// Metadata calls: small answers, bounded by `METADATA_TIMEOUT`.
    http: awc::Client,
    /// File transfers, on a pool of their own (`transfer.rs`).
    bulk: awc::Client,
    limits: Limits,
}

impl Upstream {
    pub fn new(settings: UpstreamSettings, limits: Limits) -> Self {
        let connector = awc::Connector::new().timeout(CONNECT_TIMEOUT);
        let http = awc::Client::builder()
            .connector(connector)
            .timeout(METADATA_TIMEOUT)
            .disable_redirects()
            .finish();
        Upstream {
            settings,
            http,
            bulk: transfer::bulk_client(&limits),
            limits,
        }
    }

    /// The metadata client, for a call that is not Subsonic: Navidrome's own token check
    /// (delegated auth). Every Subsonic call goes through `call`, `call_as` or `url`.
    pub fn http(&self) -> &awc::Client {
        &self.http
    }

    /// The full URL of a Subsonic call, credentials included. Only ever sent to the
    /// music server: it must never reach a visitor, a log line or an error message.
    pub fn url(&self, method: &str, params: &[(&str, &str)]) -> String {
        let s = &self.settings;
        match s.auth {
            UpstreamAuth::Token => {
                let salt = random_salt();
                let token = crate::hex::encode(&Md5::digest(format!("{}{}", s.password, salt)));
                let credentials = protocol::Credentials::Token {
                    t: &token,
                    s: &salt,
                };
                protocol::url(&s.url, method, &s.username, &credentials, params)
            }
            UpstreamAuth::Password => {
                let p = format!("enc:{}", crate::hex::encode(s.password.as_bytes()));
                let credentials = protocol::Credentials::Password(&p);
                protocol::url(&s.url, method, &s.username, &credentials, params)
            }
        }
    }

    /// Calls a JSON method with our own credentials and returns the `subsonic-response`
    /// object; an answer that reports an error is an `UpstreamError`.
    pub async fn call(
        &self,
        method: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, UpstreamError> {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("f", "json"));
        let sent_token = self.settings.auth == UpstreamAuth::Token;
        let result = self
            .fetch(self.url(method, &all))
            .await
            .and_then(|r| model::check_response(r, sent_token));
        record(method, &result);
        result
    }

    /// Calls a JSON method with a client's own credentials (a Subsonic login check) and
    /// returns the `subsonic-response` object as it is, an error it reports included:
    /// what the error means is the caller's to decide.
    pub async fn call_as(
        &self,
        method: &str,
        username: &str,
        credentials: &protocol::Credentials<'_>,
        params: &[(&str, &str)],
    ) -> Result<Value, UpstreamError> {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("f", "json"));
        let url = protocol::url(&self.settings.url, method, username, credentials, &all);
        let result = self.fetch(url).await;
        record(method, &result);
        result
    }

    /// Sends one call and reads its answer: the one place a Subsonic answer is fetched.
    async fn fetch(&self, url: String) -> Result<Value, UpstreamError> {
        // Errors are described without the URL: it carries credentials.
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| UpstreamError::Unavailable(describe_send_error(&e)))?;
        if resp.status().is_server_error() {
            return Err(UpstreamError::Unavailable(format!(
                "HTTP {}",
                resp.status().as_u16()
            )));
        }
        if !resp.status().is_success() {
            return Err(UpstreamError::Failed(format!(
                "HTTP {}",
                resp.status().as_u16()
            )));
        }
        let body = resp
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .map_err(|e| UpstreamError::Unavailable(format!("reading the answer: {e}")))?;
        model::subsonic_response(&body)
    }

    pub async fn ping(&self) -> Result<(), UpstreamError> {
        self.call("ping", &[]).await.map(|_| ())
    }

    pub async fn album(&self, id: &str) -> Result<Album, UpstreamError> {
        model::album(&self.call("getAlbum", &[("id", id)]).await?)
    }

    pub async fn song(&self, id: &str) -> Result<Track, UpstreamError> {
        model::song(&self.call("getSong", &[("id", id)]).await?)
    }

    pub async fn artist(&self, id: &str) -> Result<Artist, UpstreamError> {
        model::artist(&self.call("getArtist", &[("id", id)]).await?)
    }

    pub async fn playlist(&self, id: &str) -> Result<Playlist, UpstreamError> {
        model::playlist(&self.call("getPlaylist", &[("id", id)]).await?)
    }
}

/// One sample of `sharelog_upstream_requests_total`; `method` is always one of our own call names.
fn record<T>(method: &str, result: &Result<T, UpstreamError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(UpstreamError::NotFound) => "not_found",
        Err(UpstreamError::Unavailable(_)) => "unavailable",
        Err(UpstreamError::Refused(_)) => "refused",
        Err(UpstreamError::Failed(_)) => "error",
    };
    METRICS
        .upstream_requests
        .with_label_values(&[method, outcome])
        .inc();
}

fn describe_send_error(e: &awc::error::SendRequestError) -> String {
    use awc::error::SendRequestError as E;
    match e {
        E::Timeout => "timed out".into(),
        E::Connect(_) => "connection failed".into(),
        _ => "request failed".into(),
    }
}

/// A fresh salt for a token login (ours, or a client's password turned into a token).
pub(crate) fn random_salt() -> String {
    let mut b = [0u8; 8];
    // An unpredictable salt is best effort: a fixed one still authenticates.
    let _ = getrandom::getrandom(&mut b);
    crate::hex::encode(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(auth: UpstreamAuth) -> UpstreamSettings {
        UpstreamSettings {
            url: "http://m:4533".into(),
            username: "bob".into(),
            password: "sesame".into(),
            auth,
        }
    }

    #[test]
    fn password_auth_sends_the_hex_encoded_password() {
        let u = Upstream::new(settings(UpstreamAuth::Password), Limits::default())
            .url("ping", &[("id", "a b")]);
        assert!(u.starts_with("http://m:4533/rest/ping?u=bob&v="), "{u}");
        assert!(u.contains("&p=enc%3A736573616d65"), "{u}");
        assert!(u.ends_with("&id=a%20b"), "{u}");
    }

    #[test]
    fn token_auth_never_sends_the_password() {
        let u = Upstream::new(settings(UpstreamAuth::Token), Limits::default()).url("ping", &[]);
        assert!(u.contains("&t=") && u.contains("&s="), "{u}");
        assert!(!u.contains("sesame") && !u.contains("&p="), "{u}");
    }
}
