//! The real `sharelog` binary as a child process, with its log captured to a file, and a
//! small tmpfs to fill up. For fault tests that need a process to stop, fail and restart.

use crate::support::preflight::{self, Need};
use crate::support::{alice, free_port, postgres, upstream, PUBLIC_URL, SECRET};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Binary {
    child: Child,
    pub port: u16,
    log_path: PathBuf,
}

/// Writes a config for `data_dir` (and the shared upstream) into `work_dir`.
fn config(work_dir: &Path, data_dir: &Path, port: u16) -> PathBuf {
    let up = upstream::shared();
    let path = work_dir.join("sharelog.yaml");
    let mut yaml = format!(
        "listen: 127.0.0.1:{port}\ndataDir: {}\npublicUrl: {PUBLIC_URL}\nauth:\n  jwtSecret: {SECRET}\nupstream:\n  url: {}\n  username: {}\n  password: {}\n  auth: password\naudit:\n  clientIp: hash\npublicAccess:\n  rateLimit:\n    perMinute: 0\n    burst: 0\n",
        data_dir.display(),
        up.url,
        up.admin.username,
        up.admin.password
    );
    if postgres::on_postgres() {
        let url = postgres::shared().database_for(data_dir);
        yaml.push_str(&format!(
            "store:\n  engine: postgres\n  postgresUrl: \"{url}\"\n"
        ));
    }
    std::fs::write(&path, yaml).unwrap();
    path
}

impl Binary {
    /// Starts the binary; `env` adds variables (e.g. `LD_PRELOAD`). Does not wait.
    pub fn spawn(work_dir: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Binary {
        let port = free_port();
        let config = config(work_dir, data_dir, port);
        let log_path = work_dir.join(format!("sharelog-{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sharelog"));
        cmd.args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Binary {
            child: cmd.spawn().unwrap(),
            port,
            log_path,
        }
    }

    /// Starts the binary and waits until `/readyz` answers 200.
    pub fn start(work_dir: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Binary {
        let mut b = Binary::spawn(work_dir, data_dir, env);
        let started = Instant::now();
        while b.send("GET", "/readyz", None).map(|r| r.0) != Some(200) {
            if let Some(status) = b.child.try_wait().unwrap() {
                panic!("sharelog exited ({status}) before ready:\n{}", b.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never ready:\n{}",
                b.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        b
    }

    /// Waits for the process to exit by itself (e.g. a failed start).
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < within, "still running:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status (the graceful stop takes at most ~10 s).
    pub fn sigterm(&mut self) -> ExitStatus {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.wait_exit(Duration::from_secs(30))
    }

    /// `kill -9`: the process gets no chance to finish anything. Returns once the kernel
    /// has torn it down (a zombie or gone: its files and locks are released), so a test
    /// may open its data at once; the process is reaped on drop.
    pub fn kill9(&self) {
        let pid = self.child.id();
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        let stat = format!("/proc/{pid}/stat");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            match std::fs::read_to_string(&stat) {
                // The state follows the command in parentheses: "pid (comm) S ...".
                Ok(s)
                    if !s
                        .rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z') =>
                {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return,
            }
        }
        panic!("process {pid} still running 30 s after SIGKILL");
    }

    /// The process id (for /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// One HTTP/1.0 request as alice (when `body` is given, or always for `/api`); `None`
    /// when the connection fails.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.0\r\nHost: x\r\nAccept: application/json\r\nX-ND-Authorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            alice(),
            body.len()
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).ok()?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
    }

    /// Creates a share of one song; its id.
    pub fn create_share(&self) -> String {
        let song = &upstream::shared().album("Alpha").songs[0].id;
        let (status, body) = self
            .send("POST", "/api/share", Some(&json!({ "songs": [song] })))
            .unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A tmpfs of a few MiB, unmounted (lazily, so a process still inside cannot block it) on
/// drop, a failed test included. Needs root, as these tests run in CI.
pub struct Tmpfs {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(mib: u32) -> Tmpfs {
        preflight::require(&[Need::Root]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs failed: run as root");
        Tmpfs { path, _dir: dir }
    }

    /// Fills the filesystem with `filler` until a write fails for lack of space.
    pub fn fill(&self) {
        let mut f = std::fs::File::create(self.path.join("filler")).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if let Err(e) = f.write_all(&chunk) {
                assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
                break;
            }
        }
        // Fill the last partial block too.
        while f.write_all(&[0u8]).is_ok() {}
    }

    pub fn free(&self) {
        std::fs::remove_file(self.path.join("filler")).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// `tests/support/fault_shim.c` compiled with `cc` into target/ (once per test process).
pub fn fault_shim() -> PathBuf {
    static SHIM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    SHIM.get_or_init(|| {
        preflight::require(&[Need::Cc]);
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fault_shim.c");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let out = dir.join("fault_shim.so");
        // Built under a name of our own, then renamed: test binaries run in parallel.
        let tmp = dir.join(format!("fault_shim.{}.so", std::process::id()));
        let status = Command::new("cc")
            .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
            .arg(&tmp)
            .arg(&src)
            .arg("-ldl")
            .status()
            .expect("cc (build-essential) is needed for the fault tests");
        assert!(status.success(), "compiling {} failed", src.display());
        std::fs::rename(&tmp, &out).unwrap();
        out
    })
    .clone()
}
