//! The backup file of `sharelog backup`: an export that only grows. Opening reads
//! only its tail: a torn last line (a kill during a write) is cut off, and the last
//! complete line must be a sealed event, whose seq and hash the next event must continue.
//! Every append is written and fsynced before the next is received. A run that fails leaves
//! no file if there was none (the file is created with the first events), and never a part of
//! a batch: a failed append is cut back to the file's length before it.

use super::verify::Chain;
use super::CommandError;
use crate::fsutil;
use crate::store::mirror;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub struct BackupFile {
    /// `None` until the first events arrive for a file that did not exist.
    file: Option<File>,
    /// The length of the whole, checked lines the file holds.
    len: u64,
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
        let mut file = match OpenOptions::new().read(true).append(true).open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Self::absent(path),
            Err(e) => return Err(at(e)),
        };
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
            file: Some(file),
            len: end,
            path: path.to_path_buf(),
            chain,
        })
    }

    /// A file that does not exist yet: its directory must, so that a typo fails now.
    fn absent(path: &Path) -> Result<BackupFile, CommandError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(CommandError::Refused(format!(
                "--to {}: the directory {} does not exist",
                path.display(),
                dir.display()
            )));
        }
        Ok(BackupFile {
            file: None,
            len: 0,
            path: path.to_path_buf(),
            chain: Chain::new(false),
        })
    }

    pub fn last_seq(&self) -> u64 {
        self.chain.last_seq()
    }

    /// The chain the next received line must continue.
    pub fn chain(&mut self) -> &mut Chain {
        &mut self.chain
    }

    /// Appends checked lines (each ending in `\n`) and makes them durable. On failure the
    /// file is as it was before the call (a file this call created is removed).
    pub fn append(&mut self, lines: &[u8]) -> Result<(), CommandError> {
        let created = self.file.is_none();
        let result = self.write(lines);
        if result.is_err() {
            if created {
                self.file = None;
                let _ = std::fs::remove_file(&self.path);
            } else if let Some(f) = &self.file {
                let _ = f.set_len(self.len).and_then(|_| f.sync_data());
            }
        }
        result.map_err(|e| {
            CommandError::Io(std::io::Error::new(
                e.kind(),
                format!("writing {}: {e}", self.path.display()),
            ))
        })
    }

    fn write(&mut self, lines: &[u8]) -> std::io::Result<()> {
        let created = self.file.is_none();
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(
                OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create_new(true)
                    .open(&self.path)?,
            ),
        };
        file.write_all(lines)?;
        file.sync_data()?;
        if created {
            // The new name must be as durable as the lines in it.
            fsutil::sync_dir(&self.path)?;
        }
        self.len += lines.len() as u64;
        Ok(())
    }

    /// A run that succeeded leaves the file, even when the server had no events yet.
    pub fn finish(&mut self) -> Result<(), CommandError> {
        if self.file.is_none() {
            self.append(&[])?;
        }
        Ok(())
    }
}
