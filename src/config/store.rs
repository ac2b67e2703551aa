//! `store:`: which engine keeps the event log. `sled` (the default) keeps it in
//! `dataDir`, for one process; `postgres` keeps it in the database that
//! `postgresUrl` names, where several sharelog processes (replicas) may share it.

use super::env::EnvVar;
use super::{ConfigError, Settings};
use serde::Deserialize;
use std::fmt;

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StoreConfig {
    pub engine: Engine,
    /// A libpq connection string (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`
    /// or `key=value` pairs); a secret, as it may hold the password.
    pub postgres_url: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    #[default]
    Sled,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sled => "sled",
            Engine::Postgres => "postgres",
        }
    }
}

// Hand-written so the connection string (and its password) never reaches a log line.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match self.postgres_url.is_empty() {
            true => "<unset>",
            false => "<redacted>",
        };
        f.debug_struct("StoreConfig")
            .field("engine", &self.engine)
            .field("postgres_url", &url)
            .finish()
    }
}

impl StoreConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        match self.engine {
            Engine::Postgres if self.postgres_url.trim().is_empty() => Err(ConfigError(
                "store.engine is postgres, but store.postgresUrl (SHARELOG_POSTGRES_URL) is \
                 empty: set it to the database's connection string"
                    .into(),
            )),
            Engine::Postgres => crate::store::check_postgres_url(&self.postgres_url)
                .map_err(|why| ConfigError(format!("store.postgresUrl: {why}"))),
            Engine::Sled => Ok(()),
        }
    }
}

pub const ENGINE_VAR: EnvVar = EnvVar {
    name: "SHARELOG_STORE_ENGINE",
    key: "store.engine",
    accepts: "sled or postgres",
    default: |s| s.store.engine.name().to_string(),
    apply: |s: &mut Settings, v| {
        s.store.engine = match v {
            "sled" => Engine::Sled,
            "postgres" => Engine::Postgres,
            _ => return Err("expected sled or postgres".into()),
        };
        Ok(())
    },
};

pub const POSTGRES_URL_VAR: EnvVar = EnvVar {
    name: "SHARELOG_POSTGRES_URL",
    key: "store.postgresUrl",
    accepts: "a libpq connection string, postgres://USER:PASSWORD@HOST:PORT/DATABASE (secret)",
    default: |_| String::new(),
    apply: |s, v| {
        s.store.postgres_url = v.to_string();
        Ok(())
    },
};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::config::Settings;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<Settings, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, yaml).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load(Some(&file), |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .map_err(|e| e.to_string())
    }

    #[test]
    fn sled_is_the_default_engine() {
        let s = load("", &[]).unwrap();
        assert_eq!(s.store.engine, super::Engine::Sled);
    }

    #[test]
    fn postgres_without_a_url_names_both_keys() {
        for (yaml, env) in [
            ("store: { engine: postgres }", vec![]),
            ("", vec![("SHARELOG_STORE_ENGINE", "postgres")]),
        ] {
            let err = load(yaml, &env).unwrap_err();
            assert!(err.contains("store.engine"), "{err}");
            assert!(err.contains("store.postgresUrl"), "{err}");
            assert!(err.contains("SHARELOG_POSTGRES_URL"), "{err}");
        }
    }

    #[test]
    fn the_url_comes_from_the_file_or_the_environment_and_never_shows() {
        let url = "postgres://sharelog:hunter2@db:5432/sharelog";
        let s = load(
            &format!("store: {{ engine: postgres, postgresUrl: \"{url}\" }}"),
            &[],
        )
        .unwrap();
        assert_eq!(s.store.postgres_url, url);
        assert!(!format!("{s:?}").contains("hunter2"));
        let s = load(
            "",
            &[
                ("SHARELOG_STORE_ENGINE", "postgres"),
                ("SHARELOG_POSTGRES_URL", url),
            ],
        )
        .unwrap();
        assert_eq!(
            (s.store.engine, s.store.postgres_url.as_str()),
            (super::Engine::Postgres, url)
        );
    }

    #[test]
    fn a_bad_engine_or_url_is_refused_naming_the_key_and_not_the_password() {
        let err = load("store: { engine: mysql }", &[]).unwrap_err();
        assert!(err.contains("store.engine"), "{err}");
        let err = load("", &[("SHARELOG_STORE_ENGINE", "mysql")]).unwrap_err();
        assert!(
            err.contains("SHARELOG_STORE_ENGINE") && err.contains("sled or postgres"),
            "{err}"
        );
        let err = load(
            "store: { engine: postgres, postgresUrl: \"postgres://u:hunter2@db/x?sslmode=bogus\" }",
            &[],
        )
        .unwrap_err();
        assert!(
            err.contains("store.postgresUrl") && err.contains("sslmode"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let err = load(
            "",
            &[
                ("SHARELOG_STORE_ENGINE", "postgres"),
                ("SHARELOG_POSTGRES_URL", "host=db password='hunter2"),
            ],
        )
        .unwrap_err();
        assert!(err.contains("store.postgresUrl"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
