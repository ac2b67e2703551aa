//! `sharelog audit export`: the log's stored lines, which already are the
//! canonical export format, copied to stdout in seq order (constant memory).
//! After a clean shutdown they come from the export mirror
//! (`<dataDir>/events.jsonl`, see `store::mirror`) without opening sled;
//! otherwise (after a crash, or an import) from sled, which costs more memory.

use super::{event_count, open_log, progress, CommandError};
use crate::cli::ExportArgs;
use crate::config::Settings;
use crate::store::mirror::{self, CleanMirror};
use crate::store::StoreError;
use std::io::Write;

pub fn run(settings: &Settings, args: ExportArgs) -> Result<(), CommandError> {
    let dir = &settings.data_dir;
    let lock = mirror::lock_shared(dir).map_err(|e| match e {
        StoreError::Locked(_) => CommandError::Locked(dir.display().to_string()),
        other => CommandError::Store(other),
    })?;
    if lock.is_some() {
        if let Some(clean) = CleanMirror::open(dir)? {
            let result = from_mirror(clean, args);
            drop(lock);
            return result;
        }
        eprintln!(
            "sharelog: the export mirror {} is not clean (the server did not shut down cleanly, \
             or events were imported); exporting from the event log instead, which takes more \
             memory. Starting the server once restores the mirror.",
            mirror::path(dir).display()
        );
    }
    // sled takes its own exclusive lock: ours must go first.
    drop(lock);
    from_sled(settings, args)
}

fn from_mirror(mut mirror: CleanMirror, args: ExportArgs) -> Result<(), CommandError> {
    let filter = args.into_filter();
    let everything = filter.is_empty();
    let bar = progress::bar(mirror.last_seq(), "exporting");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    while let Some((header, line)) = mirror.next_line()? {
        let seq = header.seq;
        if everything || filter.matches(&header) {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
        if seq.is_multiple_of(8192) {
            bar.set_position(seq);
        }
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(())
}

fn from_sled(settings: &Settings, args: ExportArgs) -> Result<(), CommandError> {
    let log = open_log(settings)?;
    let bar = progress::bar(event_count(&log), "exporting");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut scanned = 0u64;
    for ev in log.filtered(args.into_filter()) {
        let ev = ev?;
        out.write_all(&ev.line)?;
        out.write_all(b"\n")?;
        scanned += 1;
        if scanned.is_multiple_of(8192) {
            bar.set_position(ev.seq);
        }
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(())
}
