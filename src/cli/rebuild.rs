//! `sharelog rebuild`: recreates every projection row from the log and says
//! whether the result differs from what was stored.

use super::{event_count, open_log, progress, CommandError};
use crate::config::Settings;
use std::time::Instant;

pub fn run(settings: &Settings) -> Result<(), CommandError> {
    let log = open_log(settings)?;
    let before = log.projections()?;
    let bar = progress::bar(event_count(&log), "rebuilding");
    let started = Instant::now();
    let (after, checkpoint) = log.rebuild(&mut |n| bar.set_position(n))?;
    let secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let events = checkpoint.last_seq;
    println!(
        "rebuilt {} shares ({} live) from {events} events (last seq {}) in {secs:.2} s ({:.0} events/s); projections {}",
        after.all().count(),
        after.live_count(),
        checkpoint.last_seq,
        events as f64 / secs.max(1e-9),
        if before == after { "unchanged" } else { "repaired" },
    );
    Ok(())
}
