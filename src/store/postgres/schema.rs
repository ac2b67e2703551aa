//! The database's schema, versioned: numbered SQL files embedded in the binary and
//! applied at start, each in its own transaction with its version recorded in
//! `sharelog_schema_version`. Replicas that start together take turns (a session
//! advisory lock), so each migration runs once. A database migrated by a newer
//! sharelog is refused rather than written with rules this one does not know.

use super::connect::Io;
use crate::store::StoreError;
use tokio_postgres::Client;

/// Every migration, in order: (version, SQL).
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/001_log.sql")),
    (2, include_str!("migrations/002_secrets.sql")),
    (3, include_str!("migrations/003_cursors.sql")),
];

/// Advisory lock keys ("sharelog" in ASCII, and the next number): the log's write
/// lock, taken by each batch for its transaction, and the migrations' lock.
pub const WRITE_LOCK: i64 = 0x7368_6172_656c_6f67;
const MIGRATION_LOCK: i64 = WRITE_LOCK + 1;

/// Brings the schema up to this version; returns the version it found.
pub fn migrate(io: &Io, client: &Client) -> Result<i32, StoreError> {
    io.run("waiting for the migration lock", async {
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
    })?;
    let result = apply(io, client);
    let unlocked = io.run("releasing the migration lock", async {
        client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await
    });
    let found = result?;
    unlocked?;
    Ok(found)
}

/// The schema version of the database, 0 when it has no sharelog tables; changes nothing.
pub fn found(io: &Io, client: &Client) -> Result<i32, StoreError> {
    io.run("reading the schema version", async {
        let exists: bool = client
            .query_one(
                "SELECT to_regclass('sharelog_schema_version') IS NOT NULL",
                &[],
            )
            .await?
            .try_get(0)?;
        if !exists {
            return Ok(0);
        }
        client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM sharelog_schema_version",
                &[],
            )
            .await?
            .try_get(0)
    })
}

fn apply(io: &Io, client: &Client) -> Result<i32, StoreError> {
    let found: i32 = io.run("reading the schema version", async {
        // Asked first: `CREATE TABLE IF NOT EXISTS` would log a notice at every start.
        let exists: bool = client
            .query_one(
                "SELECT to_regclass('sharelog_schema_version') IS NOT NULL",
                &[],
            )
            .await?
            .try_get(0)?;
        if !exists {
            client
                .batch_execute(
                    "CREATE TABLE sharelog_schema_version (
                         version integer PRIMARY KEY,
                         applied_at timestamptz NOT NULL DEFAULT now())",
                )
                .await?;
        }
        let row = client
            .query_one(
                "SELECT coalesce(max(version), 0) FROM sharelog_schema_version",
                &[],
            )
            .await?;
        row.try_get(0)
    })?;
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if found > newest {
        return Err(StoreError::Unavailable(format!(
            "the database's schema is at version {found}, newer than this sharelog knows \
             ({newest}): a newer sharelog migrated it; run that version"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        log::info!(
            "PostgreSQL at {}: applying schema migration {version}",
            io.place
        );
        io.run(&format!("applying schema migration {version}"), async {
            // One transaction: a migration is applied whole or not at all.
            client.batch_execute("BEGIN").await?;
            let applied = async {
                client.batch_execute(sql).await?;
                client
                    .execute(
                        "INSERT INTO sharelog_schema_version (version) VALUES ($1)",
                        &[version],
                    )
                    .await?;
                client.batch_execute("COMMIT").await
            }
            .await;
            if applied.is_err() {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            applied
        })?;
    }
    Ok(found)
}
