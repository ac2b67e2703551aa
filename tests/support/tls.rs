//! TLS for the proxy tests: a self-signed certificate for 127.0.0.1 and localhost (made
//! with `openssl`), and requests over HTTPS with `curl`, which checks the proxy's
//! certificate against that one (no `--insecure`).

use crate::support::preflight::{self, Need};
use crate::support::HttpResponse;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A certificate and its key in a temp directory, removed on drop.
pub struct SelfSigned {
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl SelfSigned {
    pub fn new() -> SelfSigned {
        preflight::require(&[Need::Openssl]);
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SelfSigned {
            cert,
            key,
            _dir: dir,
        }
    }
}

/// One HTTPS request with curl, trusting only `ca`; the final answer's status, headers
/// and body (as `http_send` gives them for plain HTTP).
pub fn https_send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    ca: &Path,
) -> HttpResponse {
    preflight::require(&[Need::Curl]);
    let dir = tempfile::tempdir().unwrap();
    let (head, out) = (dir.path().join("head"), dir.path().join("body"));
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "30", "-X", method, "--cacert"])
        .arg(ca)
        .arg("-D")
        .arg(&head)
        .arg("-o")
        .arg(&out);
    for (k, v) in headers {
        cmd.arg("-H").arg(format!("{k}: {v}"));
    }
    if let Some(b) = body {
        let file = dir.path().join("request");
        std::fs::write(&file, b).unwrap();
        cmd.arg("--data-binary").arg(format!("@{}", file.display()));
    }
    let done = cmd.arg(url).output().unwrap();
    assert!(
        done.status.success(),
        "curl {method} {url}: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    // -D holds every answer's head (a 100 Continue first, if any): the last one counts.
    let heads = std::fs::read_to_string(&head).unwrap();
    let last = heads
        .split("\r\n\r\n")
        .filter(|h| !h.trim().is_empty())
        .last()
        .unwrap_or_default();
    let mut lines = last.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {heads:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: std::fs::read(&out).unwrap_or_default(),
    }
}
