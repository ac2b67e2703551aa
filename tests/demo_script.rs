//! `scripts/demo.sh`, the README's quickstart, run as a person would: it starts the
//! test music server and sharelog, creates a share and prints its link; the link
//! answers with playable tracks, and opened in a real browser its page plays the
//! first track when Play is pressed; on SIGTERM (as on Ctrl-C) it stops both servers.
//! With its default port taken (the README's first step still running) it picks another
//! and says so; a port asked for and taken is named with the process that holds it. It
//! never sends anything to a server it did not start.
use crate::support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use support::browser::{Browser, Viewport};
use support::http_send;

/// The README's example secret: the demo run with it accepts the README's token example.
const README_SECRET: &str = "a-long-random-secret-of-32-bytes";

fn refuses_connections(url: &str) -> bool {
    let addr = url.trim_start_matches("http://");
    std::net::TcpStream::connect(addr).is_err()
}

/// Another server on a port (as the README's `cargo run` left on 4534): answers every
/// request 401, as a sharelog with another secret would, and counts the connections.
struct OtherServer {
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl OtherServer {
    fn on(port: u16) -> Option<OtherServer> {
        let listener = TcpListener::bind(("127.0.0.1", port)).ok()?;
        listener.set_nonblocking(true).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (connections.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut c, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        let _ = c.set_nonblocking(false);
                        let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
                        let _ = c.read(&mut [0u8; 4096]);
                        let _ = c.write_all(
                            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Some(OtherServer { connections, stop })
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for OtherServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// `scripts/demo.sh ARGS` with the binary under test; its stdout lines arrive on the
/// channel, its stderr is collected (and passed on to ours).
fn demo(
    args: &[&str],
) -> (
    std::process::Child,
    mpsc::Receiver<String>,
    Arc<Mutex<String>>,
) {
    demo_with(env!("CARGO_BIN_EXE_sharelog"), args)
}

/// `scripts/demo.sh ARGS` running `bin` as sharelog.
fn demo_with(
    bin: &str,
    args: &[&str],
) -> (
    std::process::Child,
    mpsc::Receiver<String>,
    Arc<Mutex<String>>,
) {
    let mut child = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo.sh"))
        .args(args)
        .env("DEMO_BIN", bin)
        .env("SHARELOG_JWT_SECRET", README_SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let err = child.stderr.take().unwrap();
    let collected = Arc::new(Mutex::new(String::new()));
    let into = collected.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let mut all = into.lock().unwrap();
            all.push_str(&line);
            all.push('\n');
        }
    });
    (child, rx, collected)
}

/// README.md's example of `sharelog token` and curl, against `origin`, with the binary
/// under test for `cargo run --release -q --`. Its stdout.
fn readme_token_example(origin: &str) -> String {
    let block = support::doc_blocks::sh_blocks("README.md")
        .into_iter()
        .find(|b| b.text.contains("token --user"))
        .expect("README.md has the `sharelog token` example")
        .text;
    assert!(
        block.contains(&format!("SHARELOG_JWT_SECRET={README_SECRET}")),
        "{block}"
    );
    let script = block
        .replace("cargo run --release -q --", env!("CARGO_BIN_EXE_sharelog"))
        .replace("http://127.0.0.1:4534", origin);
    let out = Command::new("bash")
        .args(["-c", &format!("set -euo pipefail\ncurl() {{ command curl --fail-with-body -sS \"$@\"; }}\n{script}")])
        .env_remove("SHARELOG_JWT_SECRET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the README's token example failed against the demo ({}):\n{script}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_demo_prints_a_working_share_link_and_stops_both_servers() {
    // Given another server still on the default port 4534 (the README's first step left
    // running; if something else already holds 4534, that is the same situation)
    let other = OtherServer::on(4534);
    // When the demo runs as the README says, with the README's example secret
    let (mut child, rx, stderr) = demo(&["--for", "600"]);
    // When it has printed its link
    let (mut link, mut upstream) = (None, None);
    while link.is_none() || upstream.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(600))
            .expect("the demo printed no link");
        if let Some(l) = line.strip_prefix("SHARE_URL=") {
            link = Some(l.to_string());
        }
        if let Some(u) = line.strip_prefix("UPSTREAM_URL=") {
            upstream = Some(u.to_string());
        }
    }
    let (link, upstream) = (link.unwrap(), upstream.unwrap());
    // Then it picked another port, said which and why, and never talked to the other server
    let origin = link.split("/share/").next().unwrap().to_string();
    let port: u16 = origin.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 4534, "{link}");
    let said = stderr.lock().unwrap().clone();
    let holder = match &other {
        Some(_) => format!("process {}", std::process::id()),
        None => String::new(), // held by something else: named by its own pid
    };
    assert!(
        said.contains(&format!("demo: port 4534 is taken by {holder}")),
        "{said}"
    );
    assert!(
        said.contains(&format!("using port {port} instead")),
        "{said}"
    );
    if let Some(other) = &other {
        assert_eq!(
            other.connections(),
            0,
            "the demo talked to the other server"
        );
    }

    // And the README's token example, with the same secret, works against the demo:
    // alice's token is accepted (curl fails on a 401) and lists her shares (none yet)
    let listed: Value = serde_json::from_str(&readme_token_example(&origin)).unwrap();
    assert!(listed.is_array(), "{listed}");

    // Then the link answers the share, and its first track streams audio
    let r = http_send("GET", &link, &[("Accept", "application/json")], None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let share: Value = serde_json::from_slice(&r.body).unwrap();
    let tracks = share["tracks"].as_array().unwrap();
    assert!(!tracks.is_empty(), "{share}");
    let stream = tracks[0]["streamUrl"].as_str().unwrap();
    let audio = http_send("GET", stream, &[], None);
    assert_eq!(audio.status, 200);
    assert!(audio.body.len() > 1000, "{} bytes", audio.body.len());
    assert!(
        audio
            .header("content-type")
            .unwrap_or("")
            .starts_with("audio/"),
        "{:?}",
        audio.header("content-type")
    );

    // And a person who opens the link in a browser and presses Play hears the first track
    let browser = Browser::start(Viewport::Desktop);
    browser.goto(&link);
    browser.click("#play");
    let first = tracks[0]["id"].as_str().unwrap();
    browser.wait_for(
        "the first track to play",
        &format!(
            "(() => {{ const a = document.getElementById('player');
                      return a.src.endsWith('/stream/{first}') && !a.paused && a.currentTime > 0.2; }})()"
        ),
    );
    browser.screenshot("demo-link-playing");
    browser.assert_no_console_problems();
    drop(browser);

    // And SIGTERM (as Ctrl-C) stops the script and both servers
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the demo did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success(), "stopped by a signal: {status:?}");
    assert!(
        refuses_connections(&format!("127.0.0.1:{port}")),
        "sharelog still listens"
    );
    assert!(
        refuses_connections(&upstream),
        "the music server still listens"
    );
}

/// Waits (at most a minute) for the demo to end by itself; its status and its stderr.
fn ended(
    mut child: std::process::Child,
    stderr: &Arc<Mutex<String>>,
) -> (std::process::ExitStatus, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the demo did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200)); // the stderr reader's last lines
    let said = stderr.lock().unwrap().clone();
    (status, said)
}

#[test]
fn a_demo_that_fails_after_sharelog_started_shows_sharelogs_log_before_it_is_deleted() {
    // Given a sharelog whose server starts but whose `token` fails (any later step could)
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("sharelog-without-tokens");
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\nif [ \"$1\" = token ]; then echo 'token: refused for this test' >&2; exit 1; fi\nexec {} \"$@\"\n",
            env!("CARGO_BIN_EXE_sharelog")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // When the demo runs with it
    let port = support::free_port().to_string();
    let (child, _out, stderr) = demo_with(bin.to_str().unwrap(), &["--port", &port]);
    let (status, said) = ended(child, &stderr);
    // Then it fails, and sharelog's own log is shown before its temp dir is deleted
    assert!(!status.success(), "{said}");
    assert!(said.contains("demo: sharelog's log:"), "{said}");
    assert!(
        said.contains(&format!("listening on port {port}")),
        "{said}"
    );
}

#[test]
fn a_port_asked_for_and_taken_is_named_with_its_process_and_never_talked_to() {
    // Given another server on the port the demo is asked to use
    let port = support::free_port();
    let other = OtherServer::on(port).unwrap();
    // When the demo is started on it
    let (child, _out, stderr) = demo(&["--port", &port.to_string(), "--for", "60"]);
    let (status, said) = ended(child, &stderr);
    // Then it stops at once, naming the port and the process that holds it
    assert!(!status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "demo: port {port} is taken by process {}",
            std::process::id()
        )),
        "{said}"
    );
    // And it started nothing and sent nothing to that server
    assert!(!said.contains("starting the test music server"), "{said}");
    assert_eq!(
        other.connections(),
        0,
        "the demo talked to the other server"
    );
}
