//! `sharelog replay --until TIME | --seq N`: the live shares as they were at
//! that point, as a JSON array of share objects (docs/api.md), visit counts included.

use super::ReplayArgs;
use super::{event_count, open_log, progress, CommandError};
use crate::api::view::share_json;
use crate::config::Settings;
use serde_json::Value;
use std::io::Write;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn run(settings: &Settings, args: ReplayArgs) -> Result<(), CommandError> {
    let log = open_log(settings)?;
    let bar = progress::bar(event_count(&log), "replaying");
    let until = args.until;
    let until_seq = args.seq.unwrap_or(u64::MAX);
    let folded = log.fold_while(
        |h| {
            h.seq <= until_seq
                && until
                    .is_none_or(|t| OffsetDateTime::parse(&h.at, &Rfc3339).is_ok_and(|at| at <= t))
        },
        &mut |n| bar.set_position(n),
    )?;
    bar.finish_and_clear();
    let mut live: Vec<_> = folded.shares.live().collect();
    live.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let out: Vec<Value> = live
        .into_iter()
        .map(|s| share_json(s, &settings.public_url))
        .collect();
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &out).map_err(std::io::Error::from)?;
    writeln!(stdout)?;
    Ok(())
}
