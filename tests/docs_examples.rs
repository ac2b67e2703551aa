//! The docs cannot drift: every ```sh example in the user docs is taken from the markdown
//! itself and run by bash, with real curl and jq, against the real binary in front of the
//! real test music server, and its output is checked against what the doc says it shows.
//! An example the test does not know fails the test until it is given an expectation or a
//! reason to be left out. The error table in docs/api.md is held equal to `ErrorCode`.

use crate::support;
use support::{binary, doc_blocks, doc_expectations};

use binary::Binary;
use doc_blocks::{help, is_prelude, run, sh_blocks, without_skipped_lines};
use doc_expectations::{expectations, Expectation, SHARE_KEYS};
use serde_json::{json, Value};
use sharelog::error_code::ErrorCode;
use std::collections::BTreeMap;
use std::path::Path;
use support::preflight::{self, Need, HEADLINE, ITEMS};
use support::{admin, upstream, SECRET};

/// The docs whose examples a reader copies. subsonic.md and public-access.md are listed
/// although they hold no ```sh block today, so an example added there is run too.
const DOCS: &[&str] = &[
    "README.md",
    "docs/api.md",
    "docs/subsonic.md",
    "docs/public-access.md",
    "docs/operations.md",
    "docs/cli.md",
    "docs/audit.md",
];

/// Whole blocks that are not run, found by a line they contain, with the reason.
const SKIPPED_BLOCKS: &[(&str, &str)] = &[
    ("cargo run --release     #", "builds a release and serves on the fixed default port forever; CI builds and tests by other steps"),
    ("scripts/demo.sh", "the quickstart script itself: run by tests/demo_script.rs"),
    ("follow=true&after=1200", "a live feed never ends by design: tests/audit_follow.rs reads it"),
    ("git clone <repository>", "fetches from the network (loopback only here)"),
    ("cat > .env <<'EOF'", "configures the Docker Compose deployment; Docker is not on the CI machine"),
    ("docker compose up -d --build", "starts the Docker Compose deployment; needs Docker"),
    ("docker compose exec sharelog busybox", "runs inside the Compose deployment; needs Docker"),
    ("cargo build --release --locked", "a release build and an install into /usr/local as root; the binary under test is the same code"),
    ("useradd --system", "creates a system user as root on the host"),
    ("install -m 0644 deploy/sharelog.service", "installs and starts a systemd unit as root; scripts/check_deploy.sh checks the unit with systemd-analyze verify"),
    ("s#^pid .*#pid /run/nginx.pid;#", "installs nginx's system config as root: tests/deploy_proxy.rs runs nginx with deploy/nginx.conf"),
    ("deploy/Caddyfile /etc/caddy", "installs Caddy's system config as root and restarts its service: scripts/check_deploy.sh runs Caddy with deploy/Caddyfile"),
    ("deploy/nginx-sharelog-locations.conf /etc/nginx", "installs into the system's nginx as root and reloads it: tests/deploy_proxy.rs runs the include file inside a TLS server block"),
    ("deploy/sharelog-routes.caddy /etc/caddy", "installs into the system's Caddy as root and reloads it: tests/deploy_proxy.rs runs the snippet inside a TLS site"),
    ("apt-get install -y python3", "installs system packages as root: the preflight check installs the same list, which the_readme_says_what_cargo_test_needs_as_the_preflight_check_does holds equal to it"),
    ("S=http://localhost:8080", "the smoke test through nginx in front of Navidrome: tests/deploy_proxy.rs runs the same steps"),
    ("docker compose build sharelog", "an upgrade of the Compose deployment; needs Docker"),
    ("systemctl enable --now sharelog-backup-follow", "installs a systemd unit as root: tests/backup_drill.rs runs `sharelog backup --follow` itself"),
    ("docker compose exec -T sharelog sharelog backup", "needs Docker: the backup command inside it is run by tests/backup_cli.rs"),
    ("runuser -u sharelog -- sharelog restore", "restores into /var/lib/sharelog as the sharelog user; the drill block runs the same restore in a temporary directory"),
    ("deploy/docker-compose.postgres.yml --project-directory", "the two-replica Compose deployment; needs Docker: tests/store_replicas.rs runs two replicas on one PostgreSQL behind deploy/nginx.conf with this file's upstream line"),
    ("--config /etc/sharelog/postgres.yaml restore", "a move from /etc/sharelog's sled log into a production database: tests/store_postgres_offline.rs restores a sled export into PostgreSQL with the binary and compares the export"),
];

/// Single lines that are not run (the rest of their block is), with the reason.
const SKIPPED_LINES: &[(&str, &str)] = &[(
    "mpv ",
    "a media player, not installed in CI; the M3U it opens is fetched by the line above",
)];

/// Placeholders in the docs and what stands in for them here.
struct Fixture {
    base: String,
    share_id: String,
    track_id: String,
    album_id: String,
    admin_token: String,
}

impl Fixture {
    fn substitute(&self, text: &str) -> String {
        let up = upstream::shared();
        text.replace("https://music.example.com", &self.base)
            .replace("http://127.0.0.1:4534", &self.base)
            .replace("eyJhbGciOiJIUzI1NiIs...", &self.admin_token)
            .replace("a-long-random-secret-of-32-bytes", SECRET)
            .replace("cargo run --release -q --", "sharelog")
            .replace("Xb3kQ9mPz2LwR7tYc4NvJ1", &self.share_id)
            .replace("tr-1", &self.track_id)
            .replace("al-1", &self.album_id)
            .replace(
                "u=alice&p=secret",
                &format!("u={}&p={}", up.user.username, up.user.password),
            )
            .replace("/var/backups/sharelog/audit.jsonl", "audit.jsonl")
            .replace(
                "scripts/verify_audit.py",
                concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/verify_audit.py"),
            )
    }
}

/// A fresh downloadable share of one album, described as the docs' examples are.
fn new_share_in(server: &Binary, album_id: &str) -> String {
    let body = json!({"albums": [album_id], "description": "Road trip", "downloadable": true});
    let (status, share) = server.send("POST", "/api/share", Some(&body)).unwrap();
    assert_eq!(status, 201, "{share}");
    share["id"].as_str().unwrap().to_string()
}

#[test]
fn every_documented_example_runs_and_shows_what_the_doc_says() {
    // Given the real binary, a share in it and a backup of its log
    preflight::require(&[Need::Curl, Need::Jq]);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut server = Binary::start(work.path(), &data, &[]);
    let base = format!("http://127.0.0.1:{}", server.port);
    let up = upstream::shared();
    let album = up.album("Alpha");
    let bin_dir = work.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sharelog"), bin_dir.join("sharelog")).unwrap();
    let config = work.path().join("sharelog.yaml");
    let probe = new_share_in(&server, &album.id);
    let (_, real) = server
        .send("GET", &format!("/api/share/{probe}"), None)
        .unwrap();
    let mut real_keys: Vec<&str> = real
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    real_keys.sort();
    let mut documented = SHARE_KEYS.to_vec();
    documented.sort();
    assert_eq!(
        real_keys, documented,
        "a real share's keys differ from docs/api.md's example"
    );
    // One visit before the examples, so the audit examples have visits to export.
    let visit = support::http_send("GET", &format!("{base}/share/{probe}"), &[], None);
    assert_eq!(visit.status, 200);
    let new_share = || Fixture {
        base: base.clone(),
        share_id: new_share_in(&server, &album.id),
        track_id: album.songs[0].id.clone(),
        album_id: album.id.clone(),
        admin_token: admin(),
    };

    // When every sh block of every doc is run, online ones now and offline ones after a stop
    let expectations = expectations();
    let mut offline = Vec::new();
    let mut ran = BTreeMap::new();
    for doc in DOCS {
        let mut prelude = String::new();
        for block in sh_blocks(doc) {
            let at = format!("{}:{}", block.doc, block.line);
            if SKIPPED_BLOCKS.iter().any(|(m, _)| block.text.contains(m)) {
                continue;
            }
            if is_prelude(&block.text) {
                prelude.push_str(&block.text);
                continue;
            }
            let matching: Vec<&Expectation> = expectations
                .iter()
                .filter(|e| block.text.contains(e.marker))
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "{at}: an example needs exactly one expectation or a reason to skip it:\n{}",
                block.text
            );
            let e = matching[0];
            let fixture = new_share();
            let mut script = fixture.substitute(&format!(
                "{prelude}{}",
                without_skipped_lines(&block.text, SKIPPED_LINES)
            ));
            if block.text.contains("/var/backups/sharelog/audit.jsonl") {
                // The backup these operations start from, taken as operations.md says.
                script = format!(
                    "printf %s {} > backup.token\nsharelog backup --url {base} --token-file backup.token --to audit.jsonl >/dev/null\n{script}",
                    fixture.admin_token
                );
            }
            if block.text.contains("filtered.jsonl") {
                // The complete and the filtered export these verify examples read.
                script = format!("sharelog audit export > export.jsonl\nsharelog audit export --type ShareVisited > filtered.jsonl\n{script}");
            }
            if e.offline {
                offline.push((at.clone(), script, e.check));
            } else {
                let (out, dir) = run(&script, &config, &bin_dir);
                (e.check)(&out, dir.path());
            }
            *ran.entry(e.marker).or_insert(0) += 1;
        }
    }
    assert_eq!(server.sigterm().code(), Some(0), "{}", server.log());
    for (at, script, check) in offline {
        let (out, dir) = run(&script, &config, &bin_dir);
        eprintln!("ran {at}");
        check(&out, dir.path());
    }

    // Then every expectation was used (an example that disappeared from the docs shows here)
    for e in &expectations {
        assert!(
            ran.contains_key(e.marker),
            "no doc example matches {:?} any more",
            e.marker
        );
    }
}

/// The `| status | code | when |` table under "## Errors" in docs/api.md: code -> status.
fn documented_error_table() -> BTreeMap<String, u16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md");
    let markdown = std::fs::read_to_string(path).unwrap();
    let section = markdown.split("\n## Errors\n").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let mut table = BTreeMap::new();
    for row in section.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let Ok(status) = cells[0].trim_start_matches("| ").parse::<u16>() else {
            continue; // the header row
        };
        // "(+ `currentVersion`)" names an extra field or header, not a code.
        let mut codes = String::new();
        let mut depth = 0;
        for c in cells[1].chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => codes.push(c),
                _ => {}
            }
        }
        for code in codes.split('`').skip(1).step_by(2) {
            let before = table.insert(code.to_string(), status);
            assert!(before.is_none(), "{code} is in the table twice");
        }
    }
    table
}

#[test]
fn the_error_table_in_the_api_doc_matches_every_error_code() {
    // Given the codes the service can send, each with its status
    let actual: BTreeMap<String, u16> = ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.status().as_u16()))
        .collect();
    // When the table in docs/api.md is read
    let documented = documented_error_table();
    // Then both list the same codes with the same statuses
    assert_eq!(
        documented, actual,
        "docs/api.md's error table differs from src/error_code.rs"
    );
}

#[test]
fn the_share_object_example_has_the_keys_of_a_real_share() {
    // Given the share object shown in docs/api.md
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md");
    let markdown = std::fs::read_to_string(path).unwrap();
    let example = markdown
        .split("## The share object\n\n```json\n")
        .nth(1)
        .unwrap();
    let example: Value = serde_json::from_str(example.split("```").next().unwrap()).unwrap();
    let mut documented: Vec<&String> = example.as_object().unwrap().keys().collect();
    documented.sort();
    let mut listed: Vec<&str> = SHARE_KEYS.to_vec();
    listed.sort();
    assert_eq!(
        documented, listed,
        "the example and SHARE_KEYS (checked against the server) differ"
    );
}

#[test]
fn the_cli_synopsis_names_every_subcommand_with_flags_it_takes() {
    // Given the synopsis at the top of docs/cli.md
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md");
    let markdown = std::fs::read_to_string(path).unwrap();
    let synopsis = markdown.split("```\n").nth(1).unwrap();
    let mut documented = Vec::new();
    for line in synopsis.lines() {
        let words: Vec<&str> = line.split_whitespace().skip(1).collect();
        // The subcommand is the words before the first option; `[serve]` is optional.
        let command: Vec<&str> = words
            .iter()
            .map(|w| w.trim_matches(|c| c == '[' || c == ']'))
            .take_while(|w| !w.starts_with("--") && w.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        // Then each option it shows is one the binary takes
        let text = help(&command);
        for flag in words
            .iter()
            .filter_map(|w| w.trim_start_matches('[').strip_prefix("--"))
        {
            let flag = flag.trim_end_matches(']');
            assert!(
                text.contains(&format!("--{flag}")),
                "`sharelog {}` has no --{flag}:\n{text}",
                command.join(" ")
            );
        }
        documented.push(command.first().copied().unwrap_or_default().to_string());
    }
    // And every subcommand of the binary is in the synopsis
    let top = help(&[]);
    let commands = top
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    for name in commands.lines().filter_map(|l| l.split_whitespace().next()) {
        if name != "help" {
            assert!(
                documented.iter().any(|d| d == name),
                "docs/cli.md's synopsis lacks `{name}`"
            );
        }
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// README.md from the line `heading` to the next `## ` heading.
fn readme_section(heading: &str) -> String {
    let readme = read("README.md");
    let section = readme
        .split(&format!("\n{heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("README.md has no {heading}"));
    section.split("\n## ").next().unwrap().to_string()
}

#[test]
fn the_readme_says_what_cargo_test_needs_as_the_preflight_check_does() {
    // Given what the tests check for on the machine (tests/support/preflight.rs)
    let mut packages: Vec<&str> = ITEMS
        .iter()
        .flat_map(|i| i.packages.iter().copied())
        .collect();
    packages.sort();
    packages.dedup();
    // When the README's Set-up section is read
    let setup = readme_section("## Set-up");
    // Then it names every package, root, and the systems it is run on
    for package in &packages {
        assert!(
            setup.contains(&format!("`{package}`")),
            "README's Set-up does not name the package {package}"
        );
    }
    for said in ["root", "Debian 12 (bookworm)", "tmpfs", "one message"] {
        assert!(
            setup.contains(said),
            "README's Set-up does not say {said:?}"
        );
    }
    // And its apt-get line installs exactly those packages
    let line = setup
        .lines()
        .find_map(|l| l.strip_prefix("apt-get install -y "))
        .expect("README's Set-up has an apt-get install line");
    let mut listed: Vec<&str> = line.split_whitespace().collect();
    listed.sort();
    assert_eq!(
        listed, packages,
        "README's apt-get line and the preflight check differ"
    );
}

#[test]
fn a_machine_without_the_tools_gets_one_message_listing_all_of_them() {
    // Given the suite run where no tool can be found (and so no apt-get to install one)
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["deploy_proxy::", "--test-threads", "3"])
        .env("SHARELOG_TEST_PREFLIGHT_PATH", empty.path())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    // Then each test that needs a tool fails, pointing at the message
    assert!(!out.status.success(), "{stdout}");
    assert_eq!(
        stdout
            .matches(&format!("see \"{HEADLINE}\" printed once above"))
            .count(),
        3,
        "{stdout}"
    );
    // And the message is printed once, listing everything missing, why nothing was
    // installed, and the line that installs it
    assert_eq!(stderr.matches(HEADLINE).count(), 1, "{stderr}");
    for item in ITEMS.iter().filter(|i| i.need != Need::Root) {
        assert!(
            stderr.contains(&format!("  - {}", item.name)),
            "{} is not listed:\n{stderr}",
            item.name
        );
    }
    assert!(stderr.contains("Not installed: "), "{stderr}");
    assert!(
        stderr.contains("apt-get install -y python3 python3-venv chromium chromium-driver"),
        "{stderr}"
    );
}

#[test]
fn the_readme_lists_every_doc_the_project_files_and_the_compose_file() {
    let readme = read("README.md");
    let table = readme_section("## Documentation");
    // Every page under docs/ is in the table
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            assert!(
                table.contains(&format!("](docs/{name})")),
                "README's docs table lacks docs/{name}"
            );
        }
    }
    // And cli.md's row names every subcommand the binary has
    let row = table
        .lines()
        .find(|l| l.contains("](docs/cli.md)"))
        .unwrap();
    let top = help(&[]);
    let commands = top.split("Commands:\n").nth(1).unwrap();
    for name in commands
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
    {
        assert!(
            row.contains(&format!("`{name}")),
            "cli.md's row lacks {name}: {row}"
        );
    }
    // And the files a self-hoster looks for exist and are linked
    for file in [
        "CHANGELOG.md",
        "SECURITY.md",
        "CONTRIBUTING.md",
        "docker-compose.yml",
    ] {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(file).is_file(),
            "{file} is missing"
        );
        assert!(
            readme.contains(&format!("]({file})")),
            "README does not link {file}"
        );
    }
    // And the screenshots are where the text says they are
    let pictures = readme.find("<img src=\"docs/images/").unwrap();
    for (at, _) in readme.match_indices("screenshots above") {
        assert!(at > pictures, "'screenshots above' before the screenshots");
    }
    for (at, _) in readme.match_indices("screenshots below") {
        assert!(at < pictures, "'screenshots below' after the screenshots");
    }
}

#[test]
fn the_changelog_holds_this_version_and_the_version_is_said_alike_everywhere() {
    let version = env!("CARGO_PKG_VERSION");
    let changelog = read("CHANGELOG.md");
    // Keep a Changelog: an Unreleased section first, then the versions, newest first
    assert!(changelog.contains("[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)"));
    let headings: Vec<&str> = changelog.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(headings.first(), Some(&"## [Unreleased]"), "{headings:?}");
    for h in &headings[1..] {
        let (v, date) = h
            .strip_prefix("## [")
            .and_then(|r| r.split_once("] - "))
            .unwrap_or_else(|| panic!("not `## [VERSION] - DATE`: {h}"));
        assert!(v.split('.').all(|n| n.parse::<u32>().is_ok()), "{h}");
        let ymd: Vec<u32> = date.split('-').filter_map(|n| n.parse().ok()).collect();
        assert!(
            ymd.len() == 3
                && date.len() == 10
                && (1..=12).contains(&ymd[1])
                && (1..=31).contains(&ymd[2]),
            "{h}: not YYYY-MM-DD"
        );
    }
    // And Cargo's version is either released there or the one Unreleased will be
    let released = headings
        .iter()
        .any(|h| h.starts_with(&format!("## [{version}] - ")));
    let unreleased = changelog
        .split("## [Unreleased]")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    assert!(
        released || unreleased.contains(&format!("Will be {version}")),
        "CHANGELOG.md does not hold {version}"
    );
    assert!(
        headings.contains(&"## [0.1.0] - 2026-11-29"),
        "{headings:?}"
    );
    // And the API document served at /openapi.json carries the same version
    assert!(
        read("docs/openapi.yaml").contains(&format!("\n  version: {version}\n")),
        "docs/openapi.yaml's info.version is not {version}"
    );
}
