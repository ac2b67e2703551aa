//! nginx with `deploy/nginx.conf` (only the two upstream addresses and the listen
//! port substituted) as a real process, for tests that go through the proxy.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nginx from PATH or Debian's /usr/sbin, installed with apt-get when missing.
pub fn binary() -> PathBuf {
    let find = || {
        let path = std::env::var("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|d| d.join("nginx"))
            .find(|p| p.is_file())
    };
    if let Some(found) = find() {
        return found;
    }
    let installed = Command::new("apt-get")
        .args(["install", "-y", "nginx"])
        .status()
        .is_ok_and(|s| s.success());
    match find() {
        Some(found) if installed => found,
        _ => panic!("nginx is missing and could not be installed: run `apt-get install -y nginx`"),
    }
}

/// `deploy/nginx.conf` with exactly these three strings replaced, each found exactly once.
pub fn config(sharelog: &str, navidrome: &str, port: u16) -> String {
    let mut conf =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .unwrap();
    for (from, to) in [
        ("server 127.0.0.1:4534;", format!("server {sharelog};")),
        ("server 127.0.0.1:4533;", format!("server {navidrome};")),
        ("listen 8080;", format!("listen 127.0.0.1:{port};")),
    ] {
        assert_eq!(
            conf.matches(from).count(),
            1,
            "deploy/nginx.conf must contain `{from}` exactly once (the test substitutes it)"
        );
        conf = conf.replace(from, &to);
    }
    conf
}

/// An nginx master process in the foreground; stopped (SIGQUIT, then SIGKILL) on drop.
pub struct Nginx {
    child: Child,
    pub port: u16,
    prefix: tempfile::TempDir,
}

impl Nginx {
    pub fn start(config: &str, port: u16) -> Nginx {
        let prefix = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(prefix.path().join("logs")).unwrap();
        let conf = prefix.path().join("nginx.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(binary())
            .arg("-p")
            .arg(format!("{}/", prefix.path().display()))
            .args(["-e", "logs/error.log", "-c"])
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            child,
            port,
            prefix,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", nginx.error_log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not listen:\n{}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("logs/error.log")).unwrap_or_default()
    }

    /// What nginx logged of the requests it served (the shipped config's `access_log`).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("logs/access.log")).unwrap_or_default()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: a graceful stop that takes the workers down with the master.
        let _ = Command::new("kill")
            .args(["-QUIT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
