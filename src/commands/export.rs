//! `sharelog audit export`: the log's stored lines, which already are the
//! canonical export format, copied to stdout in seq order (constant memory).

use super::{event_count, open_log, progress, CommandError};
use crate::cli::ExportArgs;
use crate::config::Settings;
use std::io::Write;

pub fn run(settings: &Settings, args: ExportArgs) -> Result<(), CommandError> {
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
