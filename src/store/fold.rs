//! Folding the log into shares fast enough for `rebuild` and `replay` on
//! millions of events. Visits, the bulk of any log, change only the counter,
//! so they are applied from a few header fields; other events are decoded in
//! full and go through `domain::apply`, the one definition of the rules.

use super::raw::{Header, RawEvent};
use super::{chain, Checkpoint, Envelope, StoreError, SCHEMA_VERSION};
use crate::domain::{apply, Share};
use crate::projection::Shares;
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Report progress every this many events.
const PROGRESS_EVERY: u64 = 65_536;

/// The shares as of the last folded event, and where that is.
pub struct Folded {
    pub shares: Shares,
    pub checkpoint: Checkpoint,
    pub events: u64,
}

/// Folds events in seq order while `take` accepts their header; stops at the first it refuses.
pub fn fold(
    events: impl Iterator<Item = Result<RawEvent, StoreError>>,
    mut take: impl FnMut(&Header<'_>) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Folded, StoreError> {
    let mut by_id: HashMap<String, Share> = HashMap::new();
    let mut checkpoint = Checkpoint {
        last_seq: 0,
        last_hash: chain::GENESIS,
        schema_version: SCHEMA_VERSION,
    };
    let mut count = 0u64;
    for raw in events {
        let raw = raw?;
        let header = raw.header()?;
        if !take(&header) {
            break;
        }
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: bad {what}", raw.seq));
        if header.kind == "ShareVisited" {
            let at = OffsetDateTime::parse(&header.at, &Rfc3339).map_err(|_| corrupt("at"))?;
            if let Some(s) = by_id.get_mut(header.stream.as_ref()) {
                s.version += 1;
                s.visit_count += 1;
                s.last_visited_at = Some(at);
            }
        } else {
            let env = Envelope::from_line(&raw.line).map_err(|e| StoreError::Corrupt(e.0))?;
            let state = by_id.remove(env.stream.as_str());
            if let Some(next) = apply(state, &env.stream, &env.event, env.at) {
                by_id.insert(env.stream.as_str().to_string(), next);
            }
        }
        checkpoint.last_seq = raw.seq;
        checkpoint.last_hash = chain::from_hex(&header.hash).ok_or_else(|| corrupt("hash"))?;
        count += 1;
        if count.is_multiple_of(PROGRESS_EVERY) {
            progress(count);
        }
    }
    progress(count);
    let mut shares = Shares::default();
    for (_, share) in by_id {
        shares.put(share);
    }
    Ok(Folded {
        shares,
        checkpoint,
        events: count,
    })
}
