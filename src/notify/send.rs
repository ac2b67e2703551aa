//! Sending one delivery: a POST with the project's HTTP client (awc), no redirects
//! followed (a redirect could lead anywhere, past the allow-list), bounded in time.
//! Any answer but 2xx, and any failure to get one, is a failed attempt.

use super::format::Outgoing;
use actix_web::http::header;
use std::time::Duration;

/// Time to connect to a target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for the whole request, answer included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The worker's client (one per worker thread: awc clients are not `Send`).
pub fn client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().timeout(CONNECT_TIMEOUT))
        .timeout(TIMEOUT)
        .disable_redirects()
        .finish()
}

/// Posts `out` to `url`. The error says why, without the URL (an ntfy topic in it is
/// as good as a password).
pub async fn send(client: &awc::Client, url: &str, out: Outgoing) -> Result<(), String> {
    let mut req = client
        .post(url)
        .insert_header((header::CONTENT_TYPE, out.content_type))
        .insert_header((
            header::USER_AGENT,
            concat!("sharelog/", env!("CARGO_PKG_VERSION")),
        ));
    for (name, value) in out.headers {
        req = req.insert_header((name, value));
    }
    match req.send_body(out.body).await {
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => Err(format!("the target answered {}", resp.status().as_u16())),
        Err(e) => Err(format!("no answer: {}", reason(&e))),
    }
}

/// What went wrong, in words that carry no part of the URL.
fn reason(e: &awc::error::SendRequestError) -> &'static str {
    use awc::error::{ConnectError, SendRequestError};
    match e {
        SendRequestError::Timeout => "timed out",
        SendRequestError::Connect(ConnectError::Timeout) => "connecting timed out",
        SendRequestError::Connect(ConnectError::SslIsNotSupported) => {
            "https is not supported by this build (see docs/operations.md, \"Notifications\")"
        }
        SendRequestError::Connect(ConnectError::Resolver(_)) => "the host name did not resolve",
        SendRequestError::Connect(_) => "could not connect",
        SendRequestError::Url(_) => "the URL is not valid",
        _ => "the request failed",
    }
}
