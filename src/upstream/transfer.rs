//! Answers passed through to visitors (stream, download, cover). File transfers have a
//! connection pool of their own, so visitors holding transfers open can never starve the
//! metadata calls that every share page needs; covers are small and page-like, so they use
//! the metadata pool and its short bound on the whole call. Either way a short wait for the
//! answer's head (`limits.firstByteTimeout`), apart from the bound on the whole answer
//! (`whole_bound`). awc's own request timeout covers only the head, never the body, so the
//! bound on the whole answer is kept by whoever reads the body (`public/transfer_end.rs`).

use super::{
    describe_send_error, record, Upstream, UpstreamError, CONNECT_TIMEOUT, METADATA_TIMEOUT,
};
use crate::config::Limits;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;

/// The bulk pool's client. Its connection limit is the global transfer limit, which the
/// public handlers enforce across workers before they ever get here.
pub(super) fn bulk_client(limits: &Limits) -> awc::Client {
    let connector = awc::Connector::new()
        .timeout(CONNECT_TIMEOUT)
        .limit(limits.transfers as usize);
    // No client-wide timeout: its 5 s default would cut the head before `firstByteTimeout`.
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .disable_timeout()
        .finish()
}

/// Which of the music server's connection pools an answer passed through uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Streams, downloads and zips: long, on the bulk pool, whole within `limits.transferTimeout`.
    Bulk,
    /// Covers: small, on the metadata pool, whole within `METADATA_TIMEOUT`.
    Metadata,
}

impl Upstream {
    /// Starts `method` as a GET or HEAD on `pool`, passing `headers` (such as `Range`)
    /// along. Returns once the status and headers are in (within `limits.firstByteTimeout`);
    /// the body is then read by the caller, who ends it when `whole_bound` runs out.
    pub async fn open(
        &self,
        pool: Pool,
        verb: Method,
        method: &str,
        params: &[(&str, &str)],
        headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
    ) -> Result<awc::ClientResponse, UpstreamError> {
        let client = match pool {
            Pool::Bulk => &self.bulk,
            Pool::Metadata => &self.http,
        };
        let mut call = client.request(verb, self.url(method, params));
        for h in headers {
            call = call.insert_header(h);
        }
        let result =
            match actix_web::rt::time::timeout(self.limits.first_byte_timeout(), call.send()).await
            {
                Err(_) => Err(UpstreamError::Unavailable(format!(
                    "{method}: no answer within {} s",
                    self.limits.first_byte_timeout
                ))),
                // Described without the URL: it carries credentials.
                Ok(Err(e)) => Err(UpstreamError::Unavailable(format!(
                    "{method}: {}",
                    describe_send_error(&e)
                ))),
                Ok(Ok(resp)) => Ok(resp),
            };
        record(method, &result);
        result
    }

    /// How long a whole answer passed through from `pool` may take, however it progresses:
    /// `limits.transferTimeout` for streams, downloads and zips, the metadata bound for covers.
    pub fn whole_bound(&self, pool: Pool) -> std::time::Duration {
        match pool {
            Pool::Bulk => self.limits.transfer_timeout(),
            Pool::Metadata => METADATA_TIMEOUT,
        }
    }

    /// How long a transfer may go without progress either way.
    pub fn stall_timeout(&self) -> std::time::Duration {
        self.limits.stall_timeout()
    }
}
