//! `sharelog audit verify [--file EXPORT] [--partial]`: checks the hash chain
//! by the rules of docs/audit.md, of the database or of an export file, and
//! names the first bad seq.

pub use super::chain_check::Chain;
use super::VerifyArgs;
use super::{progress, CommandError};
use crate::config::Settings;
use crate::store::{offline, StoreError};
use std::io::BufRead;

pub fn run(settings: &Settings, args: VerifyArgs) -> Result<(), CommandError> {
    let mut chain = Chain::new(args.partial);
    match &args.file {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| {
                CommandError::Io(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", path.display()),
                ))
            })?;
            let reader = std::io::BufReader::with_capacity(256 * 1024, file);
            for (i, line) in reader.split(b'\n').enumerate() {
                chain.check(i as u64 + 1, &line?, None)?;
            }
        }
        None => from_data_dir(settings, &mut chain)?,
    }
    println!("OK {}", chain.summary());
    Ok(())
}

/// The configured log, from the cheapest source its engine has (sled after a clean
/// shutdown: the export mirror, which holds the log's bytes and streams in a few MB,
/// where a pass through sled costs hundreds of MB at a million events).
fn from_data_dir(settings: &Settings, chain: &mut Chain) -> Result<(), CommandError> {
    let bar = std::cell::OnceCell::new();
    let mut broken = Ok(());
    let read = offline::each_line(
        &settings.store_location(),
        &mut |total| {
            let _ = bar.set(progress::bar(total, "verifying"));
        },
        &mut |seq, line| {
            if let Err(e) = chain.check(seq, line, Some(seq)) {
                // Stops the read; the chain's verdict is the one to report.
                broken = Err(e);
                return Err(StoreError::Closed);
            }
            if seq.is_multiple_of(8192) {
                if let Some(bar) = bar.get() {
                    bar.set_position(seq);
                }
            }
            Ok(())
        },
    );
    broken?;
    read.map_err(|e| super::data_dir_error(settings, e))?;
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    Ok(())
}
