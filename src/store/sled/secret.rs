//! The sled engine's secrets (`Reader::secret`): one file `<name>.key` in the data
//! dir each, 32 random bytes made on first use (`ip-hash.key` is the secret behind
//! `audit.clientIp: hash`).
//!
//! A key is written atomically, so a start that fails half way (a full disk) leaves no
//! file or a whole one. A file that is not 32 bytes (left by an older version
//! interrupted while writing it, or damaged) is replaced by a new key with a warning
//! instead of stopping every later start: a new key only means what it signed or
//! hashed before (visitor hashes, page tokens) no longer matches, which for visitor
//! hashes happens every UTC day anyway.

use crate::fsutil;
use std::path::Path;

/// The file holding secret `name`, inside the data dir.
pub fn file_name(name: &str) -> String {
    format!("{name}.key")
}

/// Loads secret `name` from `data_dir`, or creates it on first use or when the file is damaged.
pub fn load_or_create(data_dir: &Path, name: &str) -> std::io::Result<[u8; 32]> {
    let path = data_dir.join(file_name(name));
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
        let first = load_or_create(dir.path(), "ip-hash").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("ip-hash.key")).unwrap(),
            first
        );
        assert_eq!(load_or_create(dir.path(), "ip-hash").unwrap(), first);
        assert_ne!(load_or_create(dir.path(), "other").unwrap(), first);
    }

    #[test]
    fn an_empty_or_short_file_is_replaced_by_a_whole_key() {
        for damaged in [&b""[..], &[7u8; 17][..], &[7u8; 33][..]] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("ip-hash.key"), damaged).unwrap();
            let key = load_or_create(dir.path(), "ip-hash").unwrap();
            assert_eq!(std::fs::read(dir.path().join("ip-hash.key")).unwrap(), key);
        }
    }
}
