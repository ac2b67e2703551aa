//! Bringing the mirror in line with sled at open, from its tail: a torn last line
//! is cut, missing lines are appended from the log.

use crate::store::{reader, StoreError};
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// How much of the file one backwards step reads when looking for a line start.
const CHUNK: u64 = 64 * 1024;

#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// The position of the last `\n` before byte `before`, reading backwards in chunks.
pub fn prev_newline(file: &mut File, before: u64) -> std::io::Result<Option<u64>> {
    let mut end = before;
    let mut buf = Vec::new();
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        buf.resize((end - start) as usize, 0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf)?;
        if let Some(i) = buf.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(start + i as u64));
        }
        end = start;
    }
    Ok(None)
}

/// The seq of the line that ends (with `\n`) at byte `nl`, and where that line starts.
fn line_ending_at(file: &mut File, nl: u64) -> Result<(u64, u64), StoreError> {
    let start = prev_newline(file, nl)?.map_or(0, |p| p + 1);
    let mut buf = vec![0; (nl - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut buf)?;
    let seq = serde_json::from_slice::<SeqOnly>(&buf)
        .map_err(|e| StoreError::Corrupt(format!("export mirror line at byte {start}: {e}")))?
        .seq;
    Ok((seq, start))
}

/// The seq of the last complete line and the file length up to its `\n`
/// (`(0, 0)` when there is none). Bytes after it are a torn write.
pub(super) fn last_complete(file: &mut File) -> Result<(u64, u64), StoreError> {
    let len = file.metadata()?.len();
    match prev_newline(file, len)? {
        None => Ok((0, 0)),
        Some(nl) => Ok((line_ending_at(file, nl)?.0, nl + 1)),
    }
}

/// Opens the mirror for appending and makes it hold exactly seqs `1..=last_seq`.
pub(super) fn reconcile(path: &Path, db: &sled::Db, last_seq: u64) -> Result<File, StoreError> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let (seq, end) = keep_up_to(&mut file, last_seq)?;
    if seq < last_seq {
        if end == 0 {
            log::info!(
                "creating the export mirror {} from {last_seq} events",
                path.display()
            );
        }
        append_from_log(&file, db, seq + 1, last_seq)?;
    }
    Ok(file)
}

/// Cuts the file after its last complete line with a seq up to `last_seq` (a torn
/// write, or lines sled does not have); returns that line's seq and the new length.
fn keep_up_to(file: &mut File, last_seq: u64) -> Result<(u64, u64), StoreError> {
    let len = file.metadata()?.len();
    let (mut seq, mut end) = match last_complete(file) {
        Ok(found) => found,
        Err(StoreError::Corrupt(e)) => {
            log::warn!(
                "the export mirror's last line is damaged ({e}); recreating it from the log"
            );
            (0, 0)
        }
        Err(e) => return Err(e),
    };
    // Impossible by construction (lines are appended after sled commits), but never trust it.
    while seq > last_seq {
        let (_, start) = line_ending_at(file, end - 1)?;
        (seq, end) = match start {
            0 => (0, 0),
            _ => (line_ending_at(file, start - 1)?.0, start),
        };
    }
    if end != len {
        file.set_len(end)?;
    }
    Ok((seq, end))
}

/// Appends the log's events `from..=last_seq`, checking that none is missing.
fn append_from_log(file: &File, db: &sled::Db, from: u64, last_seq: u64) -> Result<(), StoreError> {
    let mut out = BufWriter::with_capacity(1024 * 1024, file);
    let mut expect = from;
    for ev in reader::events(db, expect) {
        let ev = ev?;
        if ev.seq > last_seq {
            break;
        }
        if ev.seq != expect {
            return Err(StoreError::Corrupt(format!(
                "event {expect} missing from the log"
            )));
        }
        out.write_all(&ev.line)?;
        out.write_all(b"\n")?;
        expect += 1;
    }
    out.flush()?;
    if expect != last_seq + 1 {
        return Err(StoreError::Corrupt(format!(
            "the log ends at {} instead of {last_seq}",
            expect - 1
        )));
    }
    Ok(())
}
