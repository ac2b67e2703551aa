//! Secrets every replica shares (`Reader::secret`): 32 random bytes per name, made
//! by whichever replica asks first and read by the others, in `sharelog_secrets`.

use super::reader::Pool;
use crate::store::StoreError;

/// Inserts the offered value unless the name has one, and returns the stored value.
/// When another replica inserts the name at the same moment, the insert waits for
/// it and makes nothing, and this statement's snapshot may not see its row: no row
/// comes back, and the statement is run again.
const GET_OR_CREATE: &str = "
    WITH made AS (
        INSERT INTO sharelog_secrets (name, value) VALUES ($1, $2)
        ON CONFLICT (name) DO NOTHING RETURNING value
    )
    SELECT value FROM made UNION ALL SELECT value FROM sharelog_secrets WHERE name = $1";

pub fn secret(pool: &Pool, name: &str) -> Result<[u8; 32], StoreError> {
    let mut offered = [0u8; 32];
    getrandom::getrandom(&mut offered)
        .map_err(|e| StoreError::engine("drawing random bytes for a secret", e))?;
    // On a thread of its own: the server asks for its keys while it starts, on the
    // async runtime, where waiting for the engine's runtime is not allowed.
    std::thread::scope(|s| {
        s.spawn(|| get_or_create(pool, name, &offered))
            .join()
            .map_err(|_| StoreError::Failed("reading a secret failed (a panic)".into()))?
    })
}

fn get_or_create(pool: &Pool, name: &str, offered: &[u8; 32]) -> Result<[u8; 32], StoreError> {
    let conn = pool.conn()?;
    let offered: &[u8] = offered;
    for _ in 0..3 {
        let rows = pool.io().run(
            "reading a secret",
            conn.client.query(GET_OR_CREATE, &[&name, &offered]),
        )?;
        if let Some(row) = rows.first() {
            let value: Vec<u8> = row
                .try_get(0)
                .map_err(|e| StoreError::Corrupt(format!("secret {name}: {e}")))?;
            return value
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("secret {name} is not 32 bytes")));
        }
    }
    Err(StoreError::Unavailable(format!(
        "secret {name}: another replica kept creating it"
    )))
}
