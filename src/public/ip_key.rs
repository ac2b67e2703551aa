//! The secret behind `audit.clientIp: hash`, kept in `ip-hash.key` in the data dir.
//!
//! It is written atomically, so a start that fails half way (a full disk) leaves no file or a
//! whole one. A file that is not 32 bytes (left by an older version interrupted while writing
//! it, or damaged) is replaced by a new key with a warning instead of stopping every later
//! start: a new key only means visitor hashes from now on cannot be linked to older ones,
//! which happens every UTC day anyway.

use crate::fsutil;
use std::path::Path;

/// The file holding the hash secret, inside the data dir.
pub const KEY_FILE: &str = "ip-hash.key";

/// Loads the secret from `data_dir`, or creates it on first start or when the file is damaged.
pub fn load_or_create(data_dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(key);
            }
            log::warn!(
                "{} holds {} bytes, not a 32-byte key (a start interrupted while writing it?); \
                 writing a new key: visitor hashes from now on will not match earlier ones",
                path.display(),
                bytes.len()
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(data_dir)?;
    fsutil::write_atomic(&path, &key)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_and_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap(), first);
        assert_eq!(load_or_create(dir.path()).unwrap(), first);
    }

    #[test]
    fn an_empty_or_short_file_is_replaced_by_a_whole_key() {
        for damaged in [&b""[..], &[7u8; 17][..], &[7u8; 33][..]] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(KEY_FILE), damaged).unwrap();
            let key = load_or_create(dir.path()).unwrap();
            assert_eq!(std::fs::read(dir.path().join(KEY_FILE)).unwrap(), key);
        }
    }
}
