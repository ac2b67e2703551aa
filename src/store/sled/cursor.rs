//! The sled engine's cursors (`Reader::cursor`): one file `<name>.cursor` in the data
//! dir each, holding the seq as decimal text, replaced atomically (temp file, fsync,
//! rename, fsync of the directory), so a crash leaves the old position or the new one.

use crate::store::error::Doing;
use crate::store::StoreError;
use std::path::{Path, PathBuf};

fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.cursor"))
}

/// The cursor's seq; 0 when it was never written.
pub fn read(dir: &Path, name: &str) -> Result<u64, StoreError> {
    let file = path(dir, name);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).doing(|| format!("reading {}", file.display())),
    };
    text.trim()
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{}: not a seq: {text:?}", file.display())))
}

pub fn write(dir: &Path, name: &str, seq: u64) -> Result<(), StoreError> {
    let file = path(dir, name);
    crate::fsutil::write_atomic(&file, format!("{seq}\n").as_bytes())
        .doing(|| format!("writing {}", file.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cursor_starts_at_zero_and_keeps_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), "notify").unwrap(), 0);
        write(dir.path(), "notify", 42).unwrap();
        write(dir.path(), "other", 7).unwrap();
        assert_eq!(read(dir.path(), "notify").unwrap(), 42);
        std::fs::write(dir.path().join("notify.cursor"), "x").unwrap();
        assert!(matches!(
            read(dir.path(), "notify"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
