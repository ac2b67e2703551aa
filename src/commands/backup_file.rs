//! The backup file of `sharelog backup`: an export that only grows. Opening reads
//! only its tail: a torn last line (a kill during a write) is cut off, and the last
//! complete line must be a sealed event, whose seq and hash the next event must continue.
//! Every append is written and fsynced before the next is received.

use super::verify::Chain;
use super::CommandError;
use crate::store::mirror;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub struct BackupFile {
    file: File,
    path: PathBuf,
    /// The chain as the file ends: what a new event must continue.
    chain: Chain,
}

impl BackupFile {
    pub fn open(path: &Path) -> Result<BackupFile, CommandError> {
        let at = |e: std::io::Error| {
            CommandError::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(at)?;
        let len = file.metadata().map_err(at)?.len();
        let end = mirror::prev_newline(&mut file, len)
            .map_err(at)?
            .map_or(0, |nl| nl + 1);
        if end != len {
            eprintln!(
                "sharelog: {}: dropping a torn last line ({} bytes, from an interrupted write)",
                path.display(),
                len - end
            );
            file.set_len(end).map_err(at)?;
            file.sync_data().map_err(at)?;
        }
        let chain = match end {
            0 => Chain::new(false),
            _ => {
                let start = mirror::prev_newline(&mut file, end - 1)
                    .map_err(at)?
                    .map_or(0, |nl| nl + 1);
                let mut last = vec![0; (end - 1 - start) as usize];
                file.seek(SeekFrom::Start(start)).map_err(at)?;
                file.read_exact(&mut last).map_err(at)?;
                // Checked on its own (partial): its predecessor is not read.
                let checked = Chain::new(true).check(0, &last, None).map_err(|e| {
                    CommandError::Broken(format!(
                        "{}: the last line is not a sealed event ({e}); check the file with \
                         `sharelog audit verify --file`",
                        path.display()
                    ))
                })?;
                Chain::resume(checked.seq, checked.hash)
            }
        };
        Ok(BackupFile {
            file,
            path: path.to_path_buf(),
            chain,
        })
    }

    pub fn last_seq(&self) -> u64 {
        self.chain.last_seq()
    }

    /// The chain the next received line must continue.
    pub fn chain(&mut self) -> &mut Chain {
        &mut self.chain
    }

    /// Appends checked lines (each ending in `\n`) and makes them durable.
    pub fn append(&mut self, lines: &[u8]) -> Result<(), CommandError> {
        self.file
            .write_all(lines)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| {
                CommandError::Io(std::io::Error::new(
                    e.kind(),
                    format!("writing {}: {e}", self.path.display()),
                ))
            })
    }
}
