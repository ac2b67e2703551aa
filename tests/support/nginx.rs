//! A real nginx running `deploy/nginx.conf`, with only the two upstream addresses and the
//! listen port substituted (as scripts/check_deploy.sh does). CI installs nginx; a missing
//! nginx fails the test that asks for it, with the command that installs it.

use super::{http_send, HttpResponse};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nginx from PATH or Debian's /usr/sbin.
pub fn binary() -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
        .expect("nginx is not installed: apt-get install -y nginx (.ci/run does)")
}

/// `deploy/nginx.conf` with exactly these three strings replaced, each found exactly once.
pub fn shipped_config(sharelog: &str, navidrome: &str, port: u16) -> String {
    let mut out =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .unwrap();
    for (from, to) in [
        ("server 127.0.0.1:4534;", format!("server {sharelog};")),
        ("server 127.0.0.1:4533;", format!("server {navidrome};")),
        ("listen 8080;", format!("listen 127.0.0.1:{port};")),
    ] {
        assert_eq!(
            out.matches(from).count(),
            1,
            "deploy/nginx.conf must contain `{from}` exactly once"
        );
        out = out.replace(from, &to);
    }
    out
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

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http_send("GET", &format!("{}{path}", self.url()), headers, None)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
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
