//! Reading the mirror after a clean close: what `audit export` and `audit verify`
//! stream instead of sled.

use super::reconcile::last_complete;
use super::{marker_path, path, Marker};
use crate::store::{Header, StoreError};
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

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
    pub fn next_line(&mut self) -> Result<Option<(Header<'_>, &[u8])>, StoreError> {
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
        let header: Header<'_> = serde_json::from_slice(line).map_err(|e| {
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
