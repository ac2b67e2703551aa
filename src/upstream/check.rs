//! sharelog's own login to the music server, checked once at start, in the background: a
//! wrong setting is named in the log at once (with the setting that fixes it) instead of at
//! the first create or play, and the listener never waits for the music server.

use super::{Upstream, UpstreamError};
use std::time::Duration;

/// The first wait before checking again while the music server cannot be reached (it may
/// still be starting next to us); each wait doubles up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// Pings the music server with sharelog's credentials until it answers, then logs what the
/// answer means: the login works, or why it is refused and what to set. A music server that
/// cannot be reached is said once, and checked again until it answers.
pub async fn check_at_start(upstream: Upstream) {
    let mut wait = RETRY_FIRST;
    let mut said_unreachable = false;
    loop {
        match upstream.ping().await {
            Ok(()) => {
                log::info!(
                    "music server login checked: it accepts sharelog's user {:?}",
                    upstream.settings.username
                );
                return;
            }
            Err(UpstreamError::Unavailable(why)) => {
                if !said_unreachable {
                    // No URL in the line: one may carry credentials.
                    log::warn!(
                        "the music server (upstream.url) cannot be reached ({why}): creating \
                         and playing shares fail until it answers; sharelog keeps checking"
                    );
                    said_unreachable = true;
                }
                actix_web::rt::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
            Err(e @ UpstreamError::Refused(_)) => {
                log::warn!("{e}. Creating and playing shares fail until this is fixed");
                return;
            }
            Err(e) => {
                log::warn!("the music server's answer to sharelog's login check (ping): {e}");
                return;
            }
        }
    }
}
