//! The log in sled: the key layout, packed rows, opening and loading, reading,
//! the export mirror, offline access and the restore's writer.

pub mod cursor;
pub mod engine;
pub mod import;
pub mod keys;
pub mod mirror;
pub mod offline;
pub mod open;
pub mod packing;
pub mod reader;
pub mod release;
pub mod restore_target;
pub mod secret;

/// sled's own errors, wherever `?` meets them in this engine: the seam's error keeps
/// the whole error as its source and names no engine in its type.
impl From<::sled::Error> for super::StoreError {
    fn from(e: ::sled::Error) -> Self {
        super::StoreError::engine("using the sled database", e)
    }
}
