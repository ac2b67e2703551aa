//! A real Subsonic server (supysonic 0.7.9, started by `scripts/test_upstream.py`) for tests.
//!
//! `shared()` starts one instance per test binary; it lives until the test process exits (the
//! launcher sees EOF on its stdin and stops the server). `start()` gives a private instance that
//! is stopped on `stop()` or drop.
//!
//! The first start in a fresh checkout installs a venv into `target/test-upstream` (about 10 s);
//! later starts take about 2 s. Set `SHARELOG_TEST_PYTHON` to pick the python interpreter and
//! `SHARELOG_KEEP_UPSTREAM=1` to keep the instance's workdir (logs, database) after it stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Subsonic API version sent by `rest_url`.
pub const API_VERSION: &str = "1.12.0";
/// Subsonic client name (`c=`) sent by `rest_url`.
pub const CLIENT: &str = "test";

/// How long to wait for the launcher's JSON line (includes a first-time venv install).
const START_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, Clone, Debug)]
pub struct Album {
    pub id: String,
    pub name: String,
    pub artist: String,
    pub songs: Vec<Song>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct Song {
    pub id: String,
    pub title: String,
    pub artist: String,
    #[serde(rename = "albumId")]
    pub album_id: String,
    pub track: u32,
    pub duration: u32,
    pub suffix: String,
    #[serde(rename = "contentType")]
    pub content_type: String,
    pub size: u64,
    /// Absolute path of the source file on disk (compare `stream`/`download` bytes with it).
    pub path: PathBuf,
}

#[derive(Deserialize, Clone, Debug)]
pub struct Playlist {
    pub id: String,
    pub name: String,
    pub songs: Vec<Song>,
}

/// The launcher's JSON line.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    url: String,
    admin: Creds,
    user: Creds,
    albums: Vec<Album>,
    playlist: Playlist,
    workdir: PathBuf,
    #[serde(default)]
    big_dir: Option<PathBuf>,
}

pub struct TestUpstream {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    /// Admin user ("admin" / "adminpass"); owns the playlist.
    pub admin: Creds,
    /// Non-admin user ("alice" / "alicepass").
    pub user: Creds,
    /// Albums in `getAlbumList2?type=alphabeticalByName` order, songs by track number:
    /// "Alpha" (Ann Artist, 3 mp3), "Beta" (Bob Band, flac + ogg), "Café 東京" (Zoë, 1 mp3),
    /// plus "Big" (Big Artist, 1 large 320 kbps mp3) with `start_with_big_track`.
    pub albums: Vec<Album>,
    /// "Road Trip" (admin's, private): Alpha #1, Beta #1 (flac), Alpha #3.
    pub playlist: Playlist,
    /// Folder holding the big track (only with `start_with_big_track`).
    pub big_dir: Option<PathBuf>,
    /// The instance's data dir (supysonic.conf, db, server.log); removed when it stops.
    pub workdir: PathBuf,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    stdout: Option<BufReader<ChildStdout>>,
    tempdir: Option<tempfile::TempDir>,
}

/// The instance shared by all tests of this binary (started on first use). Do not mutate
/// shared state through it in ways other tests could observe; use `start()` for that.
pub fn shared() -> &'static TestUpstream {
    static SHARED: OnceLock<TestUpstream> = OnceLock::new();
    SHARED.get_or_init(start)
}

/// A fresh, private instance (stopped by `stop()` or drop).
pub fn start() -> TestUpstream {
    launch(None)
}

/// Like `start()`, plus a "Big" album with one ~`mb` MB 320 kbps mp3 (cached after first use).
pub fn start_with_big_track(mb: u32) -> TestUpstream {
    launch(Some(mb))
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn launch(big_track_mb: Option<u32>) -> TestUpstream {
    let root = manifest_dir();
    let cache = root.join("target").join("test-upstream");
    let keep =
        std::env::var_os("SHARELOG_KEEP_UPSTREAM").is_some_and(|v| !v.is_empty() && v != "0");
    let tempdir = tempfile::Builder::new()
        .prefix("sharelog-upstream-")
        .tempdir()
        .expect("upstream harness: cannot create a temp dir");
    let workdir = tempdir.path().to_path_buf();
    let tempdir = if keep {
        eprintln!("upstream harness: keeping {}", workdir.display());
        let _ = tempdir.keep();
        None
    } else {
        Some(tempdir)
    };

    if std::env::var_os("SHARELOG_TEST_PYTHON").is_none() {
        super::preflight::require(&[super::preflight::Need::PythonVenv]);
    }
    let python = std::env::var("SHARELOG_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd = Command::new(&python);
    cmd.arg(root.join("scripts").join("test_upstream.py"))
        .arg("--cache")
        .arg(&cache)
        .arg("--workdir")
        .arg(&workdir)
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if !keep {
        // The launcher deletes the workdir itself, so the never-dropped `shared()` one goes too.
        cmd.arg("--rm-workdir");
    }
    if let Some(mb) = big_track_mb {
        cmd.arg("--big-track-mb").arg(mb.to_string());
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("upstream harness: cannot run {python} scripts/test_upstream.py: {e}")
    });
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("piped stdout");

    // Read the JSON line in a thread so that a hung launcher cannot hang the tests forever.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let res = reader.read_line(&mut line).map(|_| (line, reader));
        let _ = tx.send(res);
    });
    let (line, reader) = match rx.recv_timeout(START_TIMEOUT) {
        Ok(Ok((line, reader))) if !line.trim().is_empty() => (line, reader),
        other => {
            let _ = child.kill();
            let status = child.wait().ok();
            let why = match other {
                Ok(Ok(_)) => "it exited without printing its JSON line".to_string(),
                Ok(Err(e)) => format!("reading its stdout failed: {e}"),
                Err(_) => format!("no JSON line within {START_TIMEOUT:?}"),
            };
            panic!("upstream harness: scripts/test_upstream.py failed: {why} (status {status:?}); see its stderr above");
        }
    };
    let info: Info = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("upstream harness: bad JSON line from launcher ({e}): {line}"));

    TestUpstream {
        url: info.url,
        admin: info.admin,
        user: info.user,
        albums: info.albums,
        playlist: info.playlist,
        big_dir: info.big_dir,
        workdir: info.workdir,
        child: Some(child),
        stdin,
        stdout: Some(reader),
        tempdir,
    }
}

impl TestUpstream {
    /// Stops the server (closes the launcher's stdin and waits for it). Idempotent.
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        eprintln!("upstream harness: launcher did not exit, killing it");
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        drop(self.stdout.take());
        drop(self.tempdir.take());
    }

    /// Whether the launcher (and so the server) is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    pub fn port(&self) -> u16 {
        self.addr()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in url")
    }

    /// Every album's songs, albums in alphabetical order, songs by track number.
    pub fn all_songs(&self) -> Vec<Song> {
        self.albums
            .iter()
            .flat_map(|a| a.songs.iter().cloned())
            .collect()
    }

    /// The album with this name (panics if missing).
    pub fn album(&self, name: &str) -> &Album {
        self.albums
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("upstream harness: no album named {name:?}"))
    }

    /// The song with this title (panics if missing).
    pub fn song(&self, title: &str) -> &Song {
        self.albums
            .iter()
            .flat_map(|a| a.songs.iter())
            .find(|s| s.title == title)
            .unwrap_or_else(|| panic!("upstream harness: no song titled {title:?}"))
    }

    /// `URL/rest/METHOD.view?u=admin&p=adminpass&c=test&v=1.12.0&f=json&k=v...`
    /// (parameters are percent-encoded; later ones may repeat keys, e.g. `songId`).
    pub fn rest_url(&self, method: &str, params: &[(&str, &str)]) -> String {
        self.rest_url_as(&self.admin, method, params)
    }

    /// `rest_url` with other credentials (e.g. `&self.user`).
    pub fn rest_url_as(&self, creds: &Creds, method: &str, params: &[(&str, &str)]) -> String {
        let mut q = vec![
            ("u", creds.username.as_str()),
            ("p", creds.password.as_str()),
            ("c", CLIENT),
            ("v", API_VERSION),
            ("f", "json"),
        ];
        q.extend_from_slice(params);
        format!("{}/rest/{}.view?{}", self.url, method, query_string(&q))
    }

    /// GET `rest_url(method, params)` and return the parsed `subsonic-response` object
    /// (panics on a non-200 status or non-JSON body; does NOT check `status`).
    pub fn api(&self, method: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let url = self.rest_url(method, params);
        let (status, body) = http_get(&url);
        assert_eq!(
            status,
            200,
            "GET {url}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "GET {url}: not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        v["subsonic-response"].take()
    }
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Percent-encodes `k=v&k=v` (RFC 3986 unreserved characters kept).
pub fn query_string(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A raw HTTP response from `http_request`.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names as sent by the server (compare case-insensitively, or use `header`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Plain HTTP/1.0 GET over a std `TcpStream` (http:// only): (status, body).
pub fn http_get(url: &str) -> (u16, Vec<u8>) {
    let r = http_request("GET", url, &[]);
    (r.status, r.body)
}

/// HTTP/1.0 request over a std `TcpStream` (http:// only, no body), with extra headers such
/// as `("Range", "bytes=0-99")`. Reads until the server closes; de-chunks if needed.
pub fn http_request(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_send(method, url, headers, None)
}

/// `http_request` with an optional body (sent with `Content-Length`).
pub fn http_send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> HttpResponse {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("http_request: only http:// URLs are supported: {url}"));
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream =
        TcpStream::connect(host).unwrap_or_else(|e| panic!("http_request: connect {host}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
    stream.set_write_timeout(Some(Duration::from_secs(30))).ok();
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {host}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    stream
        .write_all(&bytes)
        .unwrap_or_else(|e| panic!("http_request: write to {host}: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("http_request: read from {url}: {e}"));

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("http_request: no header end in response from {url}"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("http_request: bad status line {status_line:?} from {url}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_str = String::from_utf8_lossy(&data[..eol]);
        let size_str = size_str.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_str, 16) else {
            break;
        };
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            out.extend_from_slice(&data[..size.min(data.len())]);
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
    out
}
