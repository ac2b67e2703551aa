//! A derived copy of the log for the offline export: `<dataDir>/events.jsonl`
//! holds every stored `E` row (the canonical export line) followed by `\n`, in
//! seq order from seq 1. sled stays the source of truth: the committer appends
//! a batch here only after sled made it durable, and never fsyncs this file on
//! the hot path. `<dataDir>/events.jsonl.clean` (`{"lastSeq":N}`) is written
//! only by a clean close, after the final sled flush and fsync and an fsync of
//! the mirror, and removed at open before anything is appended: its presence
//! means the mirror holds exactly seqs `1..=N` and sled's log ends at `N`.
//! Opening reconciles the mirror with sled from its tail (O(tail), not O(events)).

use super::{raw, StoreError};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const FILE: &str = "events.jsonl";
pub const MARKER: &str = "events.jsonl.clean";

/// How much of the file one backwards step reads when looking for a line start.
const CHUNK: u64 = 64 * 1024;

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

pub fn marker_path(dir: &Path) -> PathBuf {
    dir.join(MARKER)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Marker {
    last_seq: u64,
}

#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// How many bytes of lines the committer collects before one `write`: appending
/// every batch made each of sled's fsyncs also flush the mirror's new blocks
/// (ext4 `data=ordered`), which cost a single appender ~15% of its throughput.
const WRITE_EVERY: usize = 1024 * 1024;

/// The committer's append handle. `file` is `None` once the mirror is dirty
/// (a failed write or reconciliation): nothing more is appended and no marker is
/// written, so the export falls back to sled until the next open repairs it.
/// Lines not yet written are lost in a crash, which the next open repairs too.
pub struct Mirror {
    file: Option<File>,
    pending: Vec<u8>,
}

impl Mirror {
    /// Removes the marker (failing the open if it cannot), then brings the
    /// mirror up to sled's `last_seq`. A failed reconciliation only leaves the mirror dirty.
    pub fn open(dir: &Path, db: &sled::Db, last_seq: u64) -> Result<Mirror, StoreError> {
        remove_marker(dir)?;
        let attempt = match reconcile(&path(dir), db, last_seq) {
            Err(StoreError::Corrupt(e)) => {
                log::warn!("the export mirror is damaged ({e}); recreating it from the log");
                std::fs::remove_file(path(dir))
                    .map_err(StoreError::from)
                    .and_then(|_| reconcile(&path(dir), db, last_seq))
            }
            other => other,
        };
        let file = match attempt {
            Ok(file) => Some(file),
            Err(e) => {
                log::warn!(
                    "the export mirror {} could not be reconciled ({e}); offline exports read sled until the next start",
                    path(dir).display()
                );
                None
            }
        };
        Ok(Mirror {
            file,
            pending: Vec::new(),
        })
    }

    pub fn is_live(&self) -> bool {
        self.file.is_some()
    }

    /// Adds a durable batch's lines (each followed by `\n`), writing them out once
    /// there are many. Never fails the caller.
    pub fn append(&mut self, lines: &[u8]) {
        if self.file.is_none() {
            return;
        }
        self.pending.extend_from_slice(lines);
        if self.pending.len() >= WRITE_EVERY {
            self.write_pending();
        }
    }

    fn write_pending(&mut self) {
        let Some(file) = self.file.as_mut() else {
            self.pending.clear();
            return;
        };
        if let Err(e) = file.write_all(&self.pending) {
            log::error!(
                "writing the export mirror failed ({e}); it is repaired at the next start, offline exports read sled until then"
            );
            self.file = None;
        }
        self.pending.clear();
    }

    /// The clean close: fsyncs the mirror, then writes the marker naming `last_seq`
    /// (temp file, fsync, rename, fsync of the directory). Call only after sled's final flush and fsync.
    pub fn close_clean(mut self, dir: &Path, last_seq: u64) -> Result<(), StoreError> {
        self.write_pending();
        let Some(file) = self.file else {
            return Ok(());
        };
        file.sync_all()?;
        drop(file);
        let body = serde_json::to_vec(&Marker { last_seq })
            .map_err(|e| StoreError::Io(format!("encoding the mirror marker: {e}")))?;
        crate::fsutil::write_atomic(&marker_path(dir), &body)?;
        Ok(())
    }
}

/// Removes the marker: the mirror is about to change, or no longer follows sled.
pub fn remove_marker(dir: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(marker_path(dir)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Io(format!(
            "removing {}: {e}",
            marker_path(dir).display()
        ))),
    }
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
fn last_complete(file: &mut File) -> Result<(u64, u64), StoreError> {
    let len = file.metadata()?.len();
    match prev_newline(file, len)? {
        None => Ok((0, 0)),
        Some(nl) => Ok((line_ending_at(file, nl)?.0, nl + 1)),
    }
}

/// Opens the mirror for appending and makes it hold exactly seqs `1..=last_seq`.
fn reconcile(path: &Path, db: &sled::Db, last_seq: u64) -> Result<File, StoreError> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let (mut seq, mut end) = match last_complete(&mut file) {
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
        let nl = end - 1;
        let (_, start) = line_ending_at(&mut file, nl)?;
        (seq, end) = match start {
            0 => (0, 0),
            _ => (line_ending_at(&mut file, start - 1)?.0, start),
        };
    }
    if end != len {
        file.set_len(end)?;
    }
    if seq < last_seq {
        if end == 0 {
            log::info!(
                "creating the export mirror {} from {last_seq} events",
                path.display()
            );
        }
        let mut out = BufWriter::with_capacity(1024 * 1024, &file);
        let mut expect = seq + 1;
        for ev in raw::events(db, expect) {
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
    }
    Ok(file)
}

/// A shared `flock` on `<dataDir>/db`, held while exporting from the mirror so that
/// no server starts meanwhile. `Ok(None)` when there is no `db` file; `Locked` while
/// a server (sled holds an exclusive `flock` on that file) has the directory open.
pub fn lock_shared(dir: &Path) -> Result<Option<File>, StoreError> {
    use std::os::fd::AsRawFd;
    let file = match File::open(dir.join("db")) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // SAFETY: flock on a descriptor we own; the lock goes with the descriptor.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(if e.kind() == std::io::ErrorKind::WouldBlock {
            StoreError::Locked(format!("{}: {e}", dir.join("db").display()))
        } else {
            StoreError::Io(format!("locking {}: {e}", dir.join("db").display()))
        });
    }
    Ok(Some(file))
}

/// The mirror after a clean close, read front to back in constant memory.
pub struct CleanMirror {
    reader: BufReader<File>,
    last_seq: u64,
    next_seq: u64,
    buf: Vec<u8>,
}

impl CleanMirror {
    /// `Some` when the marker exists and names the seq of the mirror's last complete line
    /// with nothing after it; `None` means the mirror is not known to be complete.
    pub fn open(dir: &Path) -> Result<Option<CleanMirror>, StoreError> {
        let marker = match std::fs::read(marker_path(dir)) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Ok(Marker { last_seq }) = serde_json::from_slice(&marker) else {
            return Ok(None);
        };
        let mut file = match File::open(path(dir)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata()?.len();
        match last_complete(&mut file) {
            Ok((seq, end)) if seq == last_seq && end == len => {}
            Ok(_) | Err(StoreError::Corrupt(_)) => return Ok(None),
            Err(e) => return Err(e),
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(Some(CleanMirror {
            reader: BufReader::with_capacity(256 * 1024, file),
            last_seq,
            next_seq: 1,
            buf: Vec::new(),
        }))
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The next line (without `\n`) and its header; checks that seqs run 1, 2, … without gaps.
    pub fn next_line(&mut self) -> Result<Option<(raw::Header<'_>, &[u8])>, StoreError> {
        if self.next_seq > self.last_seq {
            return Ok(None);
        }
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf)?;
        if n == 0 || self.buf.last() != Some(&b'\n') {
            return Err(StoreError::Corrupt(format!(
                "the export mirror ends before seq {}",
                self.next_seq
            )));
        }
        let line = &self.buf[..self.buf.len() - 1];
        let header: raw::Header<'_> = serde_json::from_slice(line).map_err(|e| {
            StoreError::Corrupt(format!("export mirror, seq {}: {e}", self.next_seq))
        })?;
        if header.seq != self.next_seq {
            return Err(StoreError::Corrupt(format!(
                "export mirror: seq {} where {} was expected",
                header.seq, self.next_seq
            )));
        }
        self.next_seq += 1;
        Ok(Some((header, line)))
    }
}
