//! Several events per sled row. One group commit of n events writes about n/8 `E`
//! rows and one `S` row per share instead of 2n rows: sled's cost is per key (tree
//! walk, page delta, log message), so this is what lets a committer keep up with
//! tens of thousands of durable visits a second (docs/performance.md).
//!
//! - `E` first seq → the lines of seqs `first, first+1, …`, joined by `\n`.
//! - `S` share `0x00` first version → big-endian seqs of versions `first, first+1, …`.
//!
//! A row of one event is exactly the layout of the first schema (one line; one seq),
//! so logs written before packing read unchanged.

use crate::store::{keys, StoreError};
use std::collections::HashMap;

/// Most bytes in one `E` row. sled keeps up to 17 values in a leaf and writes a
/// leaf over 128 KiB as a separate blob file that it never fsyncs; 4 KiB rows keep
/// every leaf far below that, so every byte stays in the one file we fsync.
pub const MAX_ROW_BYTES: usize = 4096;
/// Most seqs in one `S` row (the same 4 KiB).
const MAX_STREAM_RUN: usize = MAX_ROW_BYTES / 8;

/// Whether an `E` row of `row_len` bytes takes one more line of `line_len` bytes
/// (a row always takes its first line, however long).
pub fn row_takes(row_len: usize, line_len: usize) -> bool {
    row_len + 1 + line_len <= MAX_ROW_BYTES
}

/// Collects one batch's events into packed rows.
#[derive(Default)]
pub struct Packer {
    rows: Vec<(u64, Vec<u8>)>,
    next_seq: u64,
    /// Per share: runs of consecutive versions.
    streams: HashMap<String, VersionRuns>,
}

/// One share's `S` rows being collected: runs of consecutive versions, as
/// (first version, big-endian seqs), each at most `MAX_STREAM_RUN` long.
#[derive(Default)]
pub struct VersionRuns(Vec<(u64, Vec<u8>)>);

impl VersionRuns {
    pub fn push(&mut self, seq: u64, version: u64) {
        match self.0.last_mut() {
            Some((first, seqs))
                if *first + (seqs.len() / 8) as u64 == version
                    && seqs.len() / 8 < MAX_STREAM_RUN =>
            {
                seqs.extend_from_slice(&seq.to_be_bytes());
            }
            _ => self.0.push((version, seq.to_be_bytes().to_vec())),
        }
    }

    /// Moves the runs into `batch` as the `S` rows of `stream`; returns how many seqs.
    pub fn write_to(&mut self, stream: &str, batch: &mut sled::Batch) -> usize {
        let mut count = 0;
        for (first, seqs) in self.0.drain(..) {
            count += seqs.len() / 8;
            batch.insert(keys::stream(stream, first), seqs);
        }
        count
    }
}

impl crate::store::engine::EventSink for Packer {
    fn push(&mut self, seq: u64, stream: &str, version: u64, line: &[u8]) {
        self.push_line(seq, line);
        self.push_version(seq, stream, version);
    }
}

impl Packer {
    /// Adds an event's line to the `E` rows only.
    pub fn push_line(&mut self, seq: u64, line: &[u8]) {
        match self.rows.last_mut() {
            Some((_, row)) if seq == self.next_seq && row_takes(row.len(), line.len()) => {
                row.push(b'\n');
                row.extend_from_slice(line);
            }
            _ => self.rows.push((seq, line.to_vec())),
        }
        self.next_seq = seq + 1;
    }

    /// Adds an event's (share, version) to the `S` rows only.
    pub fn push_version(&mut self, seq: u64, stream: &str, version: u64) {
        if !self.streams.contains_key(stream) {
            self.streams
                .insert(stream.to_string(), VersionRuns::default());
        }
        if let Some(runs) = self.streams.get_mut(stream) {
            runs.push(seq, version);
        }
    }

    pub fn write_to(self, batch: &mut sled::Batch) {
        for (first, row) in self.rows {
            batch.insert(&keys::event(first), row);
        }
        for (stream, mut runs) in self.streams {
            runs.write_to(&stream, batch);
        }
    }
}

/// The seqs of an `S` row's value.
pub fn stream_seqs(value: &[u8]) -> Result<impl Iterator<Item = u64> + '_, StoreError> {
    if value.is_empty() || !value.len().is_multiple_of(8) {
        return Err(StoreError::Corrupt("stream row".into()));
    }
    Ok(value.chunks_exact(8).map(|c| {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        u64::from_be_bytes(b)
    }))
}

/// One `E` row, handed out line by line without copying (`IVec::subslice`).
pub struct Lines {
    row: sled::IVec,
    next_seq: u64,
    pos: usize,
}

impl Lines {
    pub fn new(key: &[u8], row: sled::IVec) -> Result<Self, StoreError> {
        let first =
            keys::seq_of_event_key(key).ok_or_else(|| StoreError::Corrupt("event key".into()))?;
        Ok(Lines {
            row,
            next_seq: first,
            pos: 0,
        })
    }

    /// The seq after this row's last event.
    pub fn end_seq(&self) -> u64 {
        let rest = self.row.get(self.pos..).unwrap_or_default();
        let lines = rest.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        self.next_seq + if rest.is_empty() { 0 } else { lines }
    }
}

impl Iterator for Lines {
    /// (seq, line without newline)
    type Item = (u64, sled::IVec);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.row.get(self.pos..).filter(|r| !r.is_empty())?;
        let len = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        let line = self.row.subslice(self.pos, len);
        let seq = self.next_seq;
        self.pos += len + 1;
        self.next_seq += 1;
        Some((seq, line))
    }
}

/// The row holding `seq`: the last `E` row whose first seq is at most `seq`.
pub fn row_containing(db: &sled::Db, seq: u64) -> Result<Option<Lines>, StoreError> {
    match db.range(keys::event(0)..=keys::event(seq)).next_back() {
        None => Ok(None),
        Some(kv) => {
            let (k, v) = kv?;
            Lines::new(&k, v).map(Some)
        }
    }
}

/// Looks up many seqs that are mostly close together (one share's history),
/// reading each row once while consecutive seqs stay inside it.
#[derive(Default)]
pub struct LineCache {
    row: Vec<(u64, sled::IVec)>,
}

impl LineCache {
    pub fn get(&mut self, db: &sled::Db, seq: u64) -> Result<sled::IVec, StoreError> {
        let missing = || StoreError::Corrupt(format!("event {seq} is missing"));
        let first = self.row.first().map_or(u64::MAX, |(s, _)| *s);
        if seq < first || seq >= first + self.row.len() as u64 {
            self.row = row_containing(db, seq)?.ok_or_else(missing)?.collect();
        }
        let first = self.row.first().map_or(u64::MAX, |(s, _)| *s);
        let index = seq.checked_sub(first).ok_or_else(missing)?;
        self.row
            .get(index as usize)
            .map(|(_, line)| line.clone())
            .ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::engine::EventSink;

    fn db() -> (sled::Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        (db, dir)
    }

    fn line(seq: u64, len: usize) -> Vec<u8> {
        let mut l = format!("{{\"seq\":{seq},\"pad\":\"").into_bytes();
        l.resize(len - 2, b'x');
        l.extend_from_slice(b"\"}");
        l
    }

    #[test]
    fn packed_rows_read_back_line_by_line_and_stay_under_the_row_limit() {
        let (db, _dir) = db();
        let mut p = Packer::default();
        for seq in 1..=100u64 {
            let stream = if seq % 3 == 0 { "a" } else { "b" };
            p.push(seq, stream, seq, &line(seq, 300 + (seq as usize % 7) * 50));
        }
        let mut batch = sled::Batch::default();
        p.write_to(&mut batch);
        db.apply_batch(batch).unwrap();

        let mut rows = 0;
        let mut seqs = Vec::new();
        for kv in db.scan_prefix([keys::EVENT]) {
            let (k, v) = kv.unwrap();
            assert!(v.len() <= MAX_ROW_BYTES, "row of {} bytes", v.len());
            rows += 1;
            for (seq, l) in Lines::new(&k, v).unwrap() {
                assert_eq!(l.as_ref(), line(seq, 300 + (seq as usize % 7) * 50));
                seqs.push(seq);
            }
        }
        assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
        assert!(rows > 1 && rows < 20, "{rows} rows for 100 events");
        let one = |seq| {
            let found: Vec<_> = crate::store::reader::between(&db, seq, seq)
                .map(|e| e.unwrap().line.to_vec())
                .collect();
            found
        };
        assert_eq!(one(57), vec![line(57, 350)]);
        assert!(one(101).is_empty());
        assert!(one(0).is_empty());
    }

    #[test]
    fn a_share_whose_versions_jump_starts_a_new_stream_row() {
        let (db, _dir) = db();
        let mut p = Packer::default();
        p.push(1, "a", 1, b"{}");
        p.push(2, "a", 2, b"{}");
        p.push(3, "a", 5, b"{}");
        let mut batch = sled::Batch::default();
        p.write_to(&mut batch);
        db.apply_batch(batch).unwrap();
        let rows: Vec<(Vec<u8>, Vec<u64>)> = db
            .scan_prefix(keys::stream_prefix("a"))
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), stream_seqs(&v).unwrap().collect())
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (keys::stream("a", 1), vec![1, 2]),
                (keys::stream("a", 5), vec![3])
            ]
        );
    }

    #[test]
    fn rows_of_the_first_schema_read_as_rows_of_one() {
        let (db, _dir) = db();
        for seq in 1..=3u64 {
            db.insert(keys::event(seq), line(seq, 100)).unwrap();
        }
        let mut cache = LineCache::default();
        for seq in [3, 1, 2] {
            assert_eq!(cache.get(&db, seq).unwrap().as_ref(), line(seq, 100));
        }
        assert!(cache.get(&db, 4).is_err());
        let (k, v) = db.scan_prefix([keys::EVENT]).next_back().unwrap().unwrap();
        assert_eq!(Lines::new(&k, v).unwrap().end_seq(), 4);
        assert!(stream_seqs(&[1, 2, 3]).is_err());
    }
}
