//! nginx as a real process, for tests that go through the proxy: with `deploy/nginx.conf`
//! (only the two upstream addresses and the listen port substituted), or with the include
//! file `deploy/nginx-sharelog-locations.conf` inside a TLS server block such as a
//! Navidrome host already has.

use crate::support::preflight::{self, Need};
use crate::support::tls::SelfSigned;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nginx from PATH or Debian's /usr/sbin (installed by the preflight check when missing).
pub fn binary() -> PathBuf {
    preflight::require(&[Need::Nginx]);
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
        .expect("the preflight check found nginx")
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

/// An nginx.conf whose one server block is what a Navidrome host typically has already: TLS
/// with `tls`'s certificate, its own body settings, an X-Forwarded-For that APPENDS to the
/// client's, Navidrome at `location /`, and `include` of
/// `deploy/nginx-sharelog-locations.conf` with only sharelog's address substituted
/// (written into `dir`, which must outlive nginx's start).
pub fn tls_server_with_include(
    sharelog: &str,
    navidrome: &str,
    port: u16,
    tls: &SelfSigned,
    dir: &Path,
) -> String {
    let include =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(INCLUDE)).unwrap();
    assert!(
        include.contains("proxy_pass http://127.0.0.1:4534;"),
        "{INCLUDE} must proxy to 127.0.0.1:4534 (the test substitutes it)"
    );
    let path = dir.join("sharelog-locations.conf");
    std::fs::write(&path, include.replace("127.0.0.1:4534", sharelog)).unwrap();
    format!(
        "worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log logs/access.log;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name _;
        ssl_certificate     {cert};
        ssl_certificate_key {key};
        client_max_body_size 10m;
        client_body_buffer_size 256k;
        proxy_max_temp_file_size 0;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;

        include {include};

        location / {{
            proxy_pass http://{navidrome};
        }}
    }}
}}
",
        cert = tls.cert.display(),
        key = tls.key.display(),
        include = path.display(),
    )
}

/// The include file of sharelog's locations, from the crate root.
pub const INCLUDE: &str = "deploy/nginx-sharelog-locations.conf";

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
