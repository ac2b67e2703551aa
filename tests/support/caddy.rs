//! Caddy as a real process, for the proxy tests: a Caddyfile written to a temp directory,
//! Caddy's home, data and config there too (nothing under the user's home), the admin API
//! off. Stopped on drop.

use crate::support::preflight::{self, Need};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Caddy {
    child: Child,
    dir: tempfile::TempDir,
}

impl Caddy {
    /// Runs `caddyfile` with these environment variables; returns once `port` accepts.
    pub fn start(caddyfile: &str, port: u16, env: &[(&str, &str)]) -> Caddy {
        preflight::require(&[Need::Caddy]);
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("Caddyfile");
        std::fs::write(&conf, caddyfile).unwrap();
        let log = std::fs::File::create(dir.path().join("caddy.log")).unwrap();
        let child = Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&conf)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut caddy = Caddy { child, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = caddy.child.try_wait() {
                panic!("caddy exited with {status}:\n{}", caddy.log());
            }
            assert!(
                Instant::now() < deadline,
                "caddy did not listen:\n{}",
                caddy.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        caddy
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("caddy.log")).unwrap_or_default()
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
