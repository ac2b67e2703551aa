//! The checkpoint (key `Z`): the log's last seq and hash, written in the same batch
//! as every commit, and the schema version of the rows beside it.

use serde::{Deserialize, Serialize};

/// The last committed position: written with every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub last_seq: u64,
    #[serde(with = "hex_hash")]
    pub last_hash: [u8; 32],
    pub schema_version: u32,
}

/// The version of the projection rows beside the log. A log whose rows an older
/// version wrote has them rebuilt from the log once, at its first open (version 2 added
/// the per-day rows `D`, which an older log lacks for every visit it holds).
pub const SCHEMA_VERSION: u32 = 2;

mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::store::chain::to_hex(h))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        crate::store::chain::from_hex(&s).ok_or_else(|| serde::de::Error::custom("bad hash"))
    }
}
