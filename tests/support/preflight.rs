//! What the tests need from the machine, checked once per test run. The first test that
//! needs a tool (nginx, Chromium, promtool, `cc`, root for a tmpfs mount ...) looks for all of
//! them at once, installs every missing Debian package in one `apt-get install` when it can
//! (root and apt-get), and if anything is still missing prints ONE message, once, listing
//! all of it and why it could not be installed. Each test that needs a missing thing then
//! fails with a one-line pointer to that message: never skipped, never a pass it did not earn.
//!
//! `SHARELOG_TEST_PREFLIGHT_PATH` (directories, `:`-separated) replaces where tools are looked
//! for, and so where apt-get is found: `docs_examples` runs the suite with an empty directory
//! there to check that the message is printed once and lists everything.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Something a test needs from the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Root,
    PythonVenv,
    Chromium,
    Chromedriver,
    Nginx,
    Caddy,
    Promtool,
    Cc,
    Curl,
    Jq,
    Openssl,
    Mpv,
}

/// One line of the README's list and of the message: what, which Debian package, who needs it.
pub struct Item {
    pub need: Need,
    pub name: &'static str,
    /// The Debian packages that provide it; empty for root.
    pub packages: &'static [&'static str],
    pub used_by: &'static str,
}

pub const ITEMS: &[Item] = &[
    Item {
        need: Need::Root,
        name: "root",
        packages: &[],
        used_by: "tests/faults_disk_full.rs mounts a small tmpfs (and apt-get needs root)",
    },
    Item {
        need: Need::PythonVenv,
        name: "python3 with venv",
        packages: &["python3", "python3-venv"],
        used_by: "the test music server (supysonic, installed from PyPI into target/test-upstream)",
    },
    Item {
        need: Need::Chromium,
        name: "chromium",
        packages: &["chromium"],
        used_by: "the browser tests (share_page_browser, demo_script, ...)",
    },
    Item {
        need: Need::Chromedriver,
        name: "chromedriver",
        packages: &["chromium-driver"],
        used_by: "the browser tests drive Chromium through it",
    },
    Item {
        need: Need::Nginx,
        name: "nginx",
        packages: &["nginx"],
        used_by: "tests/deploy_proxy.rs, tests/share_page_proxy.rs",
    },
    Item {
        need: Need::Caddy,
        name: "caddy",
        packages: &["caddy"],
        used_by: "tests/deploy_proxy.rs (the Caddy snippet inside a TLS site)",
    },
    Item {
        need: Need::Promtool,
        name: "promtool",
        packages: &["prometheus"],
        used_by: "tests/ops_metrics.rs, tests/ops_alerts.rs",
    },
    Item {
        need: Need::Cc,
        name: "cc",
        packages: &["gcc", "libc6-dev"],
        used_by: "the fault tests compile tests/support/fault_shim.c",
    },
    Item {
        need: Need::Curl,
        name: "curl",
        packages: &["curl"],
        used_by: "tests/docs_examples.rs runs the docs' examples; the TLS proxy tests",
    },
    Item {
        need: Need::Jq,
        name: "jq",
        packages: &["jq"],
        used_by: "tests/docs_examples.rs runs the docs' examples",
    },
    Item {
        need: Need::Openssl,
        name: "openssl",
        packages: &["openssl"],
        used_by: "tests/deploy_proxy.rs makes a self-signed certificate",
    },
    Item {
        need: Need::Mpv,
        name: "mpv",
        packages: &["mpv"],
        used_by: "tests/public_access_player.rs plays a password share's M3U",
    },
];

/// The first line of the message, also what each failing test points at.
pub const HEADLINE: &str = "sharelog tests: this machine lacks what some tests need";

/// What the check found after trying to install.
struct Report {
    missing: Vec<Need>,
}

static REPORT: OnceLock<Report> = OnceLock::new();

/// Fails the calling test, with a pointer to the one message, unless every `need` is there.
/// The first call checks (and installs) everything; later calls only look at the result.
pub fn require(needs: &[Need]) {
    let report = REPORT.get_or_init(check);
    let missing: Vec<&str> = needs
        .iter()
        .filter(|n| report.missing.contains(n))
        .map(|n| item(*n).name)
        .collect();
    assert!(
        missing.is_empty(),
        "this test needs {}, missing on this machine: see \"{HEADLINE}\" printed once above",
        missing.join(", ")
    );
}

fn item(need: Need) -> &'static Item {
    ITEMS
        .iter()
        .find(|i| i.need == need)
        .expect("every need is listed")
}

/// Where tools are looked for: the override, or PATH and the sbin directories.
fn search_dirs() -> Vec<PathBuf> {
    if let Some(dirs) = std::env::var_os("SHARELOG_TEST_PREFLIGHT_PATH") {
        return std::env::split_paths(&dirs).collect();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .collect()
}

fn find(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn present(dirs: &[PathBuf], need: Need) -> bool {
    let tool = |name: &str| find(dirs, name).is_some();
    match need {
        Need::Root => is_root(),
        Need::PythonVenv => find(dirs, "python3").is_some_and(|py| {
            Command::new(py)
                .args(["-c", "import venv, ensurepip"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        }),
        Need::Chromium => tool("chromium"),
        Need::Chromedriver => tool("chromedriver"),
        Need::Nginx => tool("nginx"),
        Need::Caddy => tool("caddy"),
        Need::Promtool => tool("promtool"),
        Need::Cc => tool("cc"),
        Need::Curl => tool("curl"),
        Need::Jq => tool("jq"),
        Need::Openssl => tool("openssl"),
        Need::Mpv => tool("mpv"),
    }
}

fn missing(dirs: &[PathBuf]) -> Vec<Need> {
    ITEMS
        .iter()
        .map(|i| i.need)
        .filter(|n| !present(dirs, *n))
        .collect()
}

/// Looks for everything, installs what apt can give in one go, and prints the one message.
fn check() -> Report {
    let dirs = search_dirs();
    let before = missing(&dirs);
    let packages: Vec<&str> = before
        .iter()
        .flat_map(|n| item(*n).packages.iter().copied())
        .collect();
    let mut why_not = None;
    if !packages.is_empty() {
        why_not = install(&dirs, &packages).err();
    }
    let after = missing(&dirs);
    if !after.is_empty() {
        let text = message(&after, why_not.as_deref());
        // Straight to the process's stderr: libtest captures only `eprintln!`, per test, and
        // this must be seen once for the whole run.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
    Report { missing: after }
}

/// `apt-get install` of `packages` (after `apt-get update` if the first try fails); the
/// packages' maintainer scripts may not start daemons (nginx would take port 80).
fn install(dirs: &[PathBuf], packages: &[&str]) -> Result<(), String> {
    if !is_root() {
        return Err("not running as root, so apt-get cannot install them".into());
    }
    let Some(apt) = find(dirs, "apt-get") else {
        return Err(
            "apt-get is not on this machine: the tests install their tools from Debian's \
             packages (Debian 12 bookworm or 13 trixie)"
                .into(),
        );
    };
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("preflight-apt.log");
    let policy = Path::new("/usr/sbin/policy-rc.d");
    let made_policy =
        !policy.exists() && std::fs::write(policy, "#!/bin/sh\nexit 101\n").is_ok() && {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(policy, std::fs::Permissions::from_mode(0o755)).is_ok()
        };
    let run = |args: &[&str]| -> bool {
        let Ok(log) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
        else {
            return false;
        };
        let Ok(log2) = log.try_clone() else {
            return false;
        };
        Command::new(&apt)
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut install_args = vec!["install", "-y", "-q"];
    install_args.extend_from_slice(packages);
    let ok = run(&install_args) || (run(&["update", "-q"]) && run(&install_args));
    if made_policy {
        let _ = std::fs::remove_file(policy);
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`apt-get install -y {}` failed (its output: {})",
            packages.join(" "),
            log_path.display()
        ))
    }
}

/// The one message: every missing thing with its package and its tests, why it was not
/// installed, and the command that would install it.
pub fn message(missing: &[Need], why_not: Option<&str>) -> String {
    let mut text = format!("\n==== {HEADLINE} ====\n");
    for need in missing {
        let i = item(*need);
        let package = if i.packages.is_empty() {
            "run `cargo test` as root".to_string()
        } else {
            format!("apt package {}", i.packages.join(" + "))
        };
        text.push_str(&format!(
            "  - {:<18} {:<36} {}\n",
            i.name, package, i.used_by
        ));
    }
    if let Some(why) = why_not {
        text.push_str(&format!("Not installed: {why}.\n"));
    }
    let packages: Vec<&str> = missing
        .iter()
        .flat_map(|n| item(*n).packages.iter().copied())
        .collect();
    if !packages.is_empty() {
        text.push_str(&format!(
            "Install them and run again:  apt-get install -y {}\n",
            packages.join(" ")
        ));
    }
    text.push_str(
        "The tests that need them fail (each points here); the others run. README.md, \
         \"Set-up\", says what `cargo test` needs.\n====\n\n",
    );
    text
}
