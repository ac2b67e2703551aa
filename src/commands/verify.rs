//! `sharelog audit verify [--file EXPORT] [--partial]`: checks the hash chain
//! by the rules of docs/audit.md, of the database or of an export file, and
//! names the first bad seq.

pub use super::chain_check::Chain;
use super::{event_count, open_log, progress, CommandError};
use crate::cli::VerifyArgs;
use crate::config::Settings;
use crate::store::mirror::{self, CleanMirror};
use crate::store::StoreError;
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

/// The data directory's log: from the export mirror after a clean shutdown (it holds
/// the log's bytes, and streams in a few MB, where a pass through sled costs hundreds
/// of MB at a million events), otherwise from sled.
fn from_data_dir(settings: &Settings, chain: &mut Chain) -> Result<(), CommandError> {
    let dir = &settings.data_dir;
    let lock = mirror::lock_shared(dir).map_err(|e| match e {
        StoreError::Locked(_) => CommandError::Locked(dir.display().to_string()),
        other => CommandError::Store(other),
    })?;
    if lock.is_some() {
        if let Some(mut clean) = CleanMirror::open(dir)? {
            let bar = progress::bar(clean.last_seq(), "verifying");
            while let Some((header, line)) = clean.next_line()? {
                let seq = header.seq;
                chain.check(seq, line, Some(seq))?;
                if seq.is_multiple_of(8192) {
                    bar.set_position(seq);
                }
            }
            bar.finish_and_clear();
            drop(lock);
            return Ok(());
        }
    }
    // sled takes its own exclusive lock: ours must go first.
    drop(lock);
    let log = open_log(settings)?;
    let bar = progress::bar(event_count(&log), "verifying");
    for (i, ev) in log.events(1).enumerate() {
        let ev = ev?;
        chain.check(i as u64 + 1, &ev.line, Some(ev.seq))?;
        if ev.seq.is_multiple_of(8192) {
            bar.set_position(ev.seq);
        }
    }
    bar.finish_and_clear();
    Ok(())
}
