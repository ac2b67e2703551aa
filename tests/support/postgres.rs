//! A real, throw-away PostgreSQL (Debian's `postgresql` package) for the tests: one
//! cluster per test binary, `initdb` into a temp dir as the `postgres` user, listening
//! on 127.0.0.1 only on a free port, with a password-protected role `sharelog`. Each
//! sharelog under test gets a database of its own (`database_for` its data dir, so a
//! restart on the same data dir finds the same log). The cluster is stopped and its
//! directory removed when the test binary exits (a watchdog waits for our end of a pipe).
//!
//! `TEST_ENGINE=postgres` runs the black-box suites on this engine (`engine()`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// Which engine the black-box tests run on: `TEST_ENGINE`, `sled` by default. (Not a
/// `SHARELOG_*` name: the binaries under test inherit it, and warn about such names.)
pub fn engine() -> &'static str {
    static ENGINE: OnceLock<&'static str> = OnceLock::new();
    ENGINE.get_or_init(|| match std::env::var("TEST_ENGINE").as_deref() {
        Err(_) | Ok("") | Ok("sled") => "sled",
        Ok("postgres") => "postgres",
        Ok(other) => panic!("TEST_ENGINE={other:?}: expected sled or postgres"),
    })
}

/// Whether this run's black-box tests use PostgreSQL.
pub fn on_postgres() -> bool {
    engine() == "postgres"
}

pub struct Cluster {
    pub port: u16,
    /// The cluster's directory: data, socket and server log.
    pub dir: PathBuf,
    bin: PathBuf,
    /// The `sharelog` role's password (random per run).
    pub password: String,
    created: Mutex<HashSet<String>>,
    /// Our end closes when the test binary exits: the watchdog then stops the cluster and removes `dir`.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

/// The cluster of this test binary, started on first use.
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    SHARED.get_or_init(start)
}

/// Whether Debian's PostgreSQL server is installed (for the preflight check).
pub fn installed() -> bool {
    newest_bin_dir().is_some()
}

/// Debian's newest installed server binaries.
fn newest_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn as_postgres(bin: &Path, tool: &str) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(bin.join(tool));
    cmd
}

fn run(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start() -> Cluster {
    super::preflight::require(&[super::preflight::Need::Postgres]);
    let bin = newest_bin_dir().expect("checked by the preflight");
    let dir = tempfile::Builder::new()
        .prefix("sharelog-pg-")
        .tempdir()
        .unwrap()
        .keep();
    run(
        {
            let mut c = Command::new("chown");
            c.arg("postgres:postgres").arg(&dir);
            c
        },
        "chown of the cluster dir",
    );
    let data = dir.join("data");
    let mut initdb = as_postgres(&bin, "initdb");
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"])
        .args(["--auth-local=trust", "--auth-host=scram-sha-256"]);
    run(initdb, "initdb");
    let port = super::free_port();
    let options = format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} \
         -c max_connections=400 -c shared_buffers=64MB",
        dir.display()
    );
    let mut pg_ctl = as_postgres(&bin, "pg_ctl");
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-o", &options, "-w", "-t", "60", "start"]);
    run(pg_ctl, "pg_ctl start");
    // Stops the cluster (fast: nothing of it is kept) and removes it once our end of the pipe closes.
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat >/dev/null; runuser -u postgres -- {} -D {} -m immediate stop >/dev/null 2>&1; rm -rf {}",
            bin.join("pg_ctl").display(),
            data.display(),
            dir.display()
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = watchdog.stdin.take().unwrap();
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let cluster = Cluster {
        port,
        dir,
        bin,
        password,
        created: Mutex::new(HashSet::new()),
        _watchdog: Mutex::new((watchdog, stdin)),
    };
    cluster.psql(
        "postgres",
        &format!("CREATE ROLE sharelog LOGIN PASSWORD '{}'", cluster.password),
    );
    cluster
}

impl Cluster {
    /// Runs `sql` as the superuser in `db` (over the cluster's Unix socket); psql's output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-U",
            "postgres",
        ])
        .arg("-h")
        .arg(&self.dir)
        .args(["-p", &self.port.to_string(), "-d", db, "-c", sql]);
        run(cmd, &format!("psql {sql:?}")).trim().to_string()
    }

    /// The connection string of `db` as the `sharelog` role.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://sharelog:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// A new, empty database owned by `sharelog`; its URL.
    pub fn fresh_database(&self) -> String {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        self.create(&name);
        self.url(&name)
    }

    /// The database of a sharelog whose data dir is `data_dir` (created on first use).
    pub fn database_for(&self, data_dir: &Path) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        data_dir.hash(&mut h);
        let name = format!("d_{:016x}", h.finish());
        self.create(&name);
        self.url(&name)
    }

    fn create(&self, name: &str) {
        let mut created = self.created.lock().unwrap();
        if created.insert(name.to_string()) {
            self.psql(
                "postgres",
                &format!("CREATE DATABASE {name} OWNER sharelog"),
            );
        }
    }

    /// Runs `sql` in the database that `url` names (as the superuser).
    pub fn psql_url(&self, url: &str, sql: &str) -> String {
        let db = url.rsplit('/').next().unwrap();
        self.psql(db, sql)
    }

    /// Everything the database that `url` names holds, as `pg_dump` writes it (the
    /// PostgreSQL counterpart of a sled data directory's files).
    pub fn dump(&self, url: &str) -> String {
        let db = url.rsplit('/').next().unwrap();
        let mut cmd = Command::new(self.bin.join("pg_dump"));
        cmd.args(["-U", "postgres", "-h"]).arg(&self.dir).args([
            "-p",
            &self.port.to_string(),
            "-d",
            db,
        ]);
        run(cmd, &format!("pg_dump {db}"))
    }
}
