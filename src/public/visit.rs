//! A visit (or a preview) goes through the same group-committed, fsynced log as every
//! other change, and is on disk before the visitor gets an answer. The committer
//! re-checks deleted/expired, a revoked link and the visit limits, so a share deleted while
//! its page was being prepared is not counted (and answers 404), and a limit is exact
//! however many visitors race for its last visit. A visit through a recipient link is
//! tagged with it, and counts towards the link's and the share's counts and limits.

use super::door::Door;
use super::gate::Entry;
use crate::domain::{VisitData, VisitFormat, VisitKind, VisitShare};
use crate::error::ApiError;
use actix_web::http::header;
use actix_web::HttpRequest;
use std::net::IpAddr;
use time::OffsetDateTime;

pub const MAX_PLAYER_CHARS: usize = 64;
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// Appends ShareVisited (`kind` Visit) or SharePreviewed (`kind` Preview) for a
/// successful `GET /share/{id}`. The caller decides the kind (a preview bot or a
/// prefetch is a Preview); everything recorded is the same for both.
#[allow(clippy::too_many_arguments)] // one argument per recorded field; a struct would only rename them
pub async fn record(
    state: &Door,
    req: &HttpRequest,
    entry: &Entry,
    ip: IpAddr,
    format: VisitFormat,
    download: bool,
    player: Option<&str>,
    kind: VisitKind,
) -> Result<(), ApiError> {
    let visit = visit_of(state, req, entry, ip, format, download, player, kind);
    state.store.visit(visit).await??;
    Ok(())
}

/// The command of a visit (or preview) to the share `entry` opened (through its link, if
/// any), with what it records of the request.
#[allow(clippy::too_many_arguments)] // as `record`
pub fn visit_of(
    state: &Door,
    req: &HttpRequest,
    entry: &Entry,
    ip: IpAddr,
    format: VisitFormat,
    download: bool,
    player: Option<&str>,
    kind: VisitKind,
) -> VisitShare {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .filter(|s| !s.is_empty())
        .map(|s| cut(&s, MAX_USER_AGENT_CHARS));
    let visit = VisitData {
        format,
        download,
        player: player
            .filter(|p| !p.is_empty())
            .map(|p| cut(p, MAX_PLAYER_CHARS)),
        client_ip: state
            .parts
            .ip_recorder
            .record(ip, OffsetDateTime::now_utc()),
        user_agent,
        link: entry.link.clone(),
    };
    VisitShare {
        id: entry.share.id.clone(),
        kind,
        visit,
    }
}

/// At most `max` characters (not bytes: a multi-byte character is never split).
pub fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_counts_characters_not_bytes() {
        let s = "東".repeat(300);
        let c = cut(&s, MAX_USER_AGENT_CHARS);
        assert_eq!(c.chars().count(), 256);
        assert_eq!(cut("ab", 64), "ab");
    }
}
