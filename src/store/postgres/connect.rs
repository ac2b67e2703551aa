//! Connections to PostgreSQL, and the one runtime that drives them.
//!
//! tokio-postgres is asynchronous; the store's sides are not (the committer and the
//! watcher are OS threads, reads run on blocking threads). So the engine owns a
//! small runtime of its own, with one I/O thread that drives every connection, and
//! each side waits for its requests with `block_on`. Requests that do not depend on
//! each other's answers are sent together (tokio-postgres pipelines them), so a
//! batch costs two round trips: begin (BEGIN, lock, catch up) and append (write,
//! COMMIT). A wait never lasts past `WAIT`: a database that stops answering fails
//! the batch (503) instead of hanging the process.
//!
//! The connection string's password appears in no message: places are named by
//! `describe` (user, host, port, database), and parse errors are reduced to the
//! option they concern.

use crate::store::StoreError;
use std::future::Future;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::runtime::{Handle, Runtime};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

/// Longest wait for one request (a lock held by another replica's batch included).
pub const WAIT: Duration = Duration::from_secs(30);

/// The engine's runtime and where it connects.
pub struct Io {
    /// Taken on drop, to shut it down without blocking (a drop may happen on an async thread).
    runtime: Mutex<Option<Runtime>>,
    handle: Handle,
    /// A runtime of one thread's own, driven by that thread's waits (see `local`).
    local: bool,
    config: Config,
    /// `describe(config)`: where, for messages.
    pub place: String,
}

impl Io {
    /// The shared runtime: one I/O thread drives the connections of every side
    /// (readers, the watcher), which wait from any thread.
    pub fn new(url: &str) -> Result<Io, StoreError> {
        let config = parse(url).map_err(StoreError::Unavailable)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("postgres-io")
            .enable_all()
            .build()
            .map_err(|e| StoreError::engine("starting the PostgreSQL runtime", e))?;
        Ok(Io::with(runtime, false, config))
    }

    /// A runtime for one thread's connection (the committer's), driven by that thread
    /// while it waits: its requests and answers go through no other thread, which on a
    /// busy machine is where a round trip's time went (each hand-over waits for a core).
    pub fn local(&self) -> Result<Io, StoreError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::engine("starting the PostgreSQL runtime", e))?;
        Ok(Io::with(runtime, true, self.config.clone()))
    }

    fn with(runtime: Runtime, local: bool, config: Config) -> Io {
        Io {
            handle: runtime.handle().clone(),
            runtime: Mutex::new(Some(runtime)),
            local,
            place: describe(&config),
            config,
        }
    }

    /// Waits for `f` (at most `WAIT`). A caller on an async runtime of its own (the
    /// notification worker's, an actix handler's) may not block its thread on another
    /// runtime: the wait then happens on a scoped thread of its own.
    pub fn run<T: Send>(
        &self,
        doing: &str,
        f: impl Future<Output = Result<T, tokio_postgres::Error>> + Send,
    ) -> Result<T, StoreError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return std::thread::scope(|s| {
                s.spawn(|| self.run_here(doing, f)).join().map_err(|_| {
                    StoreError::Failed(format!("a PostgreSQL call failed while {doing} (a panic)"))
                })?
            });
        }
        self.run_here(doing, f)
    }

    /// `run` on a thread outside any async runtime.
    fn run_here<T>(
        &self,
        doing: &str,
        f: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        // The timer is made inside the runtime: it needs its clock.
        let timed = async { tokio::time::timeout(WAIT, f).await };
        let result = if self.local {
            // Only the runtime's own `block_on` drives a one-thread runtime's I/O.
            let runtime = self.runtime.lock().unwrap_or_else(|e| e.into_inner());
            match runtime.as_ref() {
                Some(runtime) => runtime.block_on(timed),
                None => return Err(StoreError::Closed),
            }
        } else {
            self.handle.block_on(timed)
        };
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.failure(doing, &e)),
            Err(_) => Err(StoreError::Unavailable(format!(
                "PostgreSQL at {} did not answer within {} s while {doing}",
                self.place,
                WAIT.as_secs()
            ))),
        }
    }

    /// A failure while `doing`, with the database's own words (never the password).
    pub fn failure(&self, doing: &str, e: &tokio_postgres::Error) -> StoreError {
        StoreError::Unavailable(format!(
            "PostgreSQL at {}, {doing}: {}",
            self.place,
            chain(e)
        ))
    }

    /// A new connection, driven on the engine's runtime until the client is dropped.
    pub fn connect(&self) -> Result<Client, StoreError> {
        let config = self.config.clone();
        let place = self.place.clone();
        self.run("connecting", async move {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    log::warn!("PostgreSQL connection to {place} ended: {}", chain(&e));
                }
            });
            Ok(client)
        })
    }

    /// A new connection whose notifications (the process id of each notifying
    /// backend) go to `notified`; the channel closes when the connection ends.
    pub fn connect_listening(
        &self,
        notified: std::sync::mpsc::Sender<i32>,
    ) -> Result<Client, StoreError> {
        let config = self.config.clone();
        let place = self.place.clone();
        self.run("connecting to listen", async move {
            let (client, mut connection) = config.connect(NoTls).await?;
            tokio::spawn(async move {
                loop {
                    match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                        Some(Ok(AsyncMessage::Notification(n))) => {
                            if notified.send(n.process_id()).is_err() {
                                return;
                            }
                        }
                        // Notices (e.g. of a migration) are not this connection's business.
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            log::warn!(
                                "PostgreSQL listening connection to {place} ended: {}",
                                chain(&e)
                            );
                            return;
                        }
                        None => return,
                    }
                }
            });
            Ok(client)
        })
    }
}

impl Drop for Io {
    fn drop(&mut self) {
        let runtime = self
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(runtime) = runtime {
            // Connections still open are closed with it; nothing is waited for.
            runtime.shutdown_background();
        }
    }
}

/// An error and its causes, in one line (tokio-postgres puts the server's message in the cause).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Parses a libpq URL or key=value string, with sharelog's defaults for what it
/// leaves out. The error never quotes the string.
pub fn parse(url: &str) -> Result<Config, String> {
    let mut config = Config::from_str(url).map_err(|e| {
        // tokio-postgres's reasons name an option or a position; only those naming an
        // option are safe to repeat (a position's message quotes a character of the string).
        let reason = std::error::Error::source(&e)
            .map(|c| c.to_string())
            .filter(|r| r.starts_with("invalid value for option") || r.starts_with("unknown option"));
        match reason {
            Some(r) => format!("not a valid PostgreSQL connection string: {r}"),
            None => "not a valid PostgreSQL connection string (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE or key=value pairs)".into(),
        }
    })?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(
            "sslmode=require: this build talks to PostgreSQL without TLS; \
                    reach the database over a private network or a Unix socket, \
                    with sslmode=disable or prefer"
                .into(),
        );
    }
    if config.get_hosts().is_empty() {
        return Err("no host: name the database server (host=... or postgres://HOST/...)".into());
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("sharelog");
    }
    // A replica whose host vanished holds the log's write lock until its
    // connection is known dead: keepalives make that seconds, not hours.
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(10));
    Ok(config)
}

/// Where a config connects: `user@host:port/database`, without the password.
pub fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("");
    format!("{user}{}/{db}", hosts.join(","))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_place_is_named_without_its_password() {
        for url in [
            "postgres://sharelog:s3cr%40t@db.example:5433/logs?sslmode=disable",
            "host=db.example port=5433 user=sharelog password='s3cr@t' dbname=logs",
        ] {
            let config = parse(url).unwrap();
            assert_eq!(describe(&config), "sharelog@db.example:5433/logs");
        }
    }

    #[test]
    fn a_bad_string_is_refused_without_quoting_it() {
        for (url, says) in [
            (
                "postgres://u:hunter2@h/db?sslmode=hunter2",
                "option `sslmode`",
            ),
            (
                "host=h password='hunter2",
                "not a valid PostgreSQL connection string",
            ),
            ("host=h passwor=hunter2", "unknown option `passwor`"),
            ("postgres://u:hunter2@h/db?sslmode=require", "without TLS"),
            ("user=u password=hunter2", "no host"),
        ] {
            let err = parse(url).unwrap_err();
            assert!(err.contains(says), "{url}: {err}");
            assert!(!err.contains("hunter2"), "{url}: {err}");
        }
    }

    #[test]
    fn defaults_fill_what_the_string_leaves_out() {
        let config = parse("postgres://h/db").unwrap();
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(10)));
        assert_eq!(config.get_application_name(), Some("sharelog"));
        let config = parse("postgres://h/db?connect_timeout=3&application_name=a").unwrap();
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(config.get_application_name(), Some("a"));
    }
}
