//! `sharelog audit export`: the log's stored lines, which already are the
//! canonical export format, copied to stdout in seq order (constant memory), from
//! the cheapest source the engine has (sled after a clean shutdown: its export
//! mirror `<dataDir>/events.jsonl`, without opening sled).

use super::ExportArgs;
use super::{progress, CommandError};
use crate::config::Settings;
use crate::store::{offline, Header, StoreError};
use std::io::Write;

pub fn run(settings: &Settings, args: ExportArgs) -> Result<(), CommandError> {
    let filter = args.into_filter();
    let everything = filter.is_empty();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let bar = std::cell::OnceCell::new();
    let mut written = Ok(());
    let read = offline::each_line(
        &settings.store_location(),
        &mut |total| {
            let _ = bar.set(progress::bar(total, "exporting"));
        },
        &mut |seq, line| {
            let keep = everything || {
                let header: Header<'_> = serde_json::from_slice(line)
                    .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
                filter.matches(&header)
            };
            if keep {
                if let Err(e) = out.write_all(line).and_then(|_| out.write_all(b"\n")) {
                    // Stops the read; the write's error is the one to report.
                    written = Err(e);
                    return Err(StoreError::Closed);
                }
            }
            if seq.is_multiple_of(8192) {
                if let Some(bar) = bar.get() {
                    bar.set_position(seq);
                }
            }
            Ok(())
        },
    );
    written?;
    read.map_err(|e| super::data_dir_error(settings, e))?;
    out.flush()?;
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    Ok(())
}
