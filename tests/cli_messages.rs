//! What a person reads when something is wrong, from the real binary: errors name their
//! object (address, path, variable) and what is accepted, are printed once, and a
//! misspelled `SHARELOG_*` variable is not silently ignored.
use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `sharelog ARGS` with a fresh data dir and these variables, after it exits.
fn sharelog(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(args)
        .env("SHARELOG_DATA_DIR", dir.path().join("data"))
        .env("SHARELOG_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `sharelog serve` that must refuse to start: one that starts anyway is killed after 20 s
/// (the test then fails on its status) instead of running on.
fn refused_serve(env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .arg("serve")
        .env("SHARELOG_DATA_DIR", dir.path().join("data"))
        .env("SHARELOG_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts `sharelog serve`, returns its log lines up to "listening on", then stops it.
fn startup_log(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .arg("serve")
        .env("SHARELOG_DATA_DIR", dir.path().join("data"))
        .env("SHARELOG_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("no 'listening' line ({e}); log so far:\n{log}"));
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    log
}

#[test]
fn an_address_in_use_is_named_and_the_error_printed_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = sharelog(&["serve"], &[("SHARELOG_LISTEN", &addr)]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("already in use"),
        "{err}"
    );
    assert_eq!(
        err.matches("cannot listen").count(),
        1,
        "printed more than once: {err}"
    );
}

#[test]
fn a_data_dir_that_is_a_file_or_lies_under_one_is_named_as_such() {
    // Given a file where the data directory, or one of its parents, should be
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let under = file.join("data");
    let (file, under) = (file.to_str().unwrap(), under.to_str().unwrap());
    for (data, says) in [
        (file, format!("dataDir: {file} is a file, not a directory")),
        (
            under,
            format!("dataDir: {under} cannot be used: {file} is a file, not a directory"),
        ),
    ] {
        // When the server or an offline command starts on it
        for args in [&["serve"][..], &["rebuild"][..]] {
            let out = sharelog(args, &[("SHARELOG_DATA_DIR", data)]);
            let err = stderr(&out);
            // Then the message says what is wrong with it and how to fix it, once, with
            // the status of a configuration error (not a storage error about "File exists")
            assert_eq!(out.status.code(), Some(2), "{args:?} {data}: {err}");
            assert!(err.contains(&says), "{args:?} {data}: {err}");
            assert!(err.contains("SHARELOG_DATA_DIR"), "{err}");
            assert_eq!(err.matches("dataDir:").count(), 1, "{err}");
            assert!(!err.contains("os error"), "{err}");
        }
    }
}

#[test]
fn a_held_data_directory_is_a_sentence_not_a_debug_value() {
    // Given a running server on a data directory
    let app = support::spawn_app(|_| {});
    let data = app.data_dir.to_str().unwrap().to_string();
    // When a second server, and an offline command, try to open it
    for args in [&["serve"][..], &["rebuild"][..], &["audit", "export"][..]] {
        let out = sharelog(args, &[("SHARELOG_DATA_DIR", &data)]);
        let err = stderr(&out);
        // Then each names the directory and says what to do, with no Rust debug output
        assert!(!out.status.success(), "{args:?}");
        assert!(
            err.contains(&format!("the data directory {data} is in use")),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("Os {") && !err.contains("WouldBlock") && !err.contains("os error"),
            "{args:?}: {err}"
        );
        // And each exits 2, as docs/cli.md, operations.md and architecture.md say
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    }
    let architecture =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/architecture.md"))
            .unwrap();
    assert!(
        architecture.contains("a second `serve`, or an offline command")
            && architecture.contains("with exit code 2"),
        "docs/architecture.md no longer says what a held directory's status is"
    );
}

/// The ```` ``` ```` block docs/cli.md shows for a held data directory, its path replaced.
fn documented_lock_message(data: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md")).unwrap();
    let section = doc
        .split("## Offline commands and the data directory")
        .nth(1)
        .unwrap();
    let block = section.split("```\n").nth(1).unwrap();
    block
        .replace("/var/lib/sharelog", data)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_lock_message_is_the_one_the_cli_doc_shows() {
    // Given a running server on a data directory
    let app = support::spawn_app(|_| {});
    let data = app.data_dir.to_str().unwrap().to_string();
    // When an offline command tries to open it
    let out = sharelog(&["rebuild"], &[("SHARELOG_DATA_DIR", &data)]);
    // Then it prints exactly what docs/cli.md shows (line breaks aside)
    let printed = stderr(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(printed, documented_lock_message(&data));
}

#[test]
fn a_password_in_the_upstream_url_is_refused_pointing_at_upstream_password() {
    for url in [
        "http://sharelog:hunter2-pw@music:4533",
        "https://sharelog:hunter2-pw@music:4533/",
        "ftp://sharelog:hunter2-pw@music",
        "http://sharelog@music:4533",
    ] {
        let out = refused_serve(&[("SHARELOG_UPSTREAM_URL", url)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert!(err.contains("upstream.url"), "{url}: {err}");
        assert!(
            !err.contains("hunter2-pw"),
            "{url}: the password was echoed: {err}"
        );
        if url.starts_with("http") {
            assert!(
                err.contains("upstream.password") && err.contains("SHARELOG_UPSTREAM_PASSWORD"),
                "{url}: {err}"
            );
        }
    }
    // The same in the YAML file, and for the other URLs, which never need a login
    for (var, key) in [
        ("SHARELOG_PUBLIC_URL", "publicUrl"),
        ("SHARELOG_NAVIDROME_URL", "auth.navidromeUrl"),
    ] {
        let out = refused_serve(&[(var, "https://u:hunter2-pw@music.example")]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{var}: {err}");
        assert!(
            err.contains(key) && !err.contains("hunter2-pw"),
            "{var}: {err}"
        );
    }
}

#[test]
fn startup_never_logs_a_urls_user_name_or_password() {
    // A URL without userinfo is logged as it is; with userinfo the server does not start
    // and the refusal shows `***` in its place.
    let log = startup_log(&[("SHARELOG_UPSTREAM_URL", "http://127.0.0.1:9/music")]);
    assert!(log.contains("http://127.0.0.1:9/music"), "{log}");
    let out = refused_serve(&[("SHARELOG_UPSTREAM_URL", "http://bob:hunter2-pw@127.0.0.1:9")]);
    let err = stderr(&out);
    assert!(err.contains("http://***@127.0.0.1:9"), "{err}");
    assert!(!err.contains("bob") && !err.contains("hunter2-pw"), "{err}");
}

#[test]
fn env_errors_list_the_accepted_values() {
    let cases = [
        ("SHARELOG_SHARING_ENABLED", "yes", "true or false"),
        ("SHARELOG_ALLOW_DOWNLOADS", "1", "true or false"),
        ("SHARELOG_MAX_BITRATE", "-5", "a whole number"),
        ("SHARELOG_LISTEN", "localhost", "IP:PORT"),
        ("SHARELOG_UPSTREAM_AUTH", "basic", "token or password"),
        ("SHARELOG_TRUSTED_PROXIES", "10.0.0.300", "10.0.0.300"),
    ];
    for (var, value, accepted) in cases {
        let out = sharelog(&["serve"], &[(var, value)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {err}");
        assert!(
            err.contains(var) && err.contains(accepted),
            "{var}={value}: {err}"
        );
    }
}

#[test]
fn a_public_url_with_a_query_says_why_it_is_refused() {
    let out = sharelog(
        &["serve"],
        &[("SHARELOG_PUBLIC_URL", "https://music.example/?x=1")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("publicUrl") && err.contains("query"), "{err}");
}

#[test]
fn a_jwt_secret_too_short_to_verify_anything_is_refused_without_echoing_it() {
    let out = sharelog(&["serve"], &[("SHARELOG_JWT_SECRET", "hunter2")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("auth.jwtSecret") && err.contains("12 bytes"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn a_misspelled_variable_is_warned_about_with_the_closest_name() {
    let log = startup_log(&[("SHARELOG_SHARNG_ENABLED", "false")]);
    assert!(
        log.contains("SHARELOG_SHARNG_ENABLED is not a sharelog setting")
            && log.contains("did you mean SHARELOG_SHARING_ENABLED?"),
        "{log}"
    );
}

#[test]
fn startup_logs_the_upstream_and_warns_when_its_credentials_are_empty() {
    let url = "http://127.0.0.1:9";
    let log = startup_log(&[("SHARELOG_UPSTREAM_URL", url)]);
    assert!(
        log.contains(&format!("music server (upstream): {url}")),
        "{log}"
    );
    assert!(
        log.contains("upstream.username or upstream.password is empty"),
        "{log}"
    );
    // With both set, no warning (and the password never appears)
    let log = startup_log(&[
        ("SHARELOG_UPSTREAM_URL", url),
        ("SHARELOG_UPSTREAM_USERNAME", "sharelog"),
        ("SHARELOG_UPSTREAM_PASSWORD", "pa55-word-value"),
    ]);
    assert!(!log.contains("is empty"), "{log}");
    assert!(!log.contains("pa55-word-value"), "{log}");
}

#[test]
fn serve_help_lists_every_variable_with_its_default() {
    let out = sharelog(&["serve", "--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let defaults = sharelog::config::Settings::default();
    for var in sharelog::config::ENV_VARS {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(var.name))
            .unwrap_or_else(|| panic!("{} missing from serve --help:\n{help}", var.name));
        let default = (var.default)(&defaults);
        let shown = if default.is_empty() {
            "\"\"".to_string()
        } else {
            default
        };
        assert!(
            line.contains(var.key) && line.contains(&format!("[default: {shown}]")),
            "{line}"
        );
    }
    assert!(
        help.contains("SHARELOG_CONFIG") && help.contains("RUST_LOG"),
        "{help}"
    );
}

#[test]
fn audit_export_accepts_only_event_types_and_lists_them() {
    for bad in ["Bogus", "sharevisited"] {
        let out = sharelog(&["audit", "export", "--type", bad], &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "--type {bad}: {err}");
        for t in sharelog::domain::Event::TYPES {
            assert!(err.contains(t), "--type {bad}: {t} not listed: {err}");
        }
    }
    // A real type gets past the command line to the (here empty) data directory
    let out = sharelog(&["audit", "export", "--type", "ShareVisited"], &[]);
    let err = stderr(&out);
    assert!(
        !err.contains("invalid value") && err.contains("no event log"),
        "{err}"
    );
}
