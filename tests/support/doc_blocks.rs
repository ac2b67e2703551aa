//! The docs' ```sh examples as data: read from the markdown, then run by bash with the
//! real curl and the binary under test. Used by tests/docs_examples.rs.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// One ```sh block: where it is and its text.
pub struct Block {
    pub doc: &'static str,
    pub line: usize,
    pub text: String,
}

/// Every ```sh block of `doc` (a path from the crate root), indented ones included.
pub fn sh_blocks(doc: &'static str) -> Vec<Block> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
    let markdown = std::fs::read_to_string(&path).unwrap();
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    doc,
                    line: i + 1,
                    text: String::new(),
                });
                if lang.trim() != "sh" {
                    open.as_mut().unwrap().line = 0; // not a shell example: dropped at its end
                }
            }
            (Some(_), Some(_)) => {
                let b = open.take().unwrap();
                if b.line != 0 {
                    blocks.push(b);
                }
            }
            (Some(b), None) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{doc}: an unclosed code fence");
    blocks
}

/// A block that only sets variables (api.md's `S=`, `T=`, `H=`): run before every later
/// block of its doc, as a reader would have it in their shell.
pub fn is_prelude(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .all(|l| {
            l.split_once('=')
                .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase()))
        })
}

/// The JSON values an example printed, one after another (JSON Lines, or jq's
/// pretty-printed output, or two answers printed without a newline between them).
pub fn json_values(out: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("not JSON ({e}):\n{out}")))
        .collect()
}

/// `text` without the lines that start with a prefix in `skipped`.
pub fn without_skipped_lines(text: &str, skipped: &[(&str, &str)]) -> String {
    text.lines()
        .filter(|l| !skipped.iter().any(|(p, _)| l.trim_start().starts_with(p)))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Runs `script` in bash in a fresh directory (real curl, failing on any HTTP error; the
/// binary under test on PATH as `sharelog`); its stdout and the directory.
pub fn run(script: &str, config: &Path, bin_dir: &Path) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let full = format!(
        "set -euo pipefail\ncurl() {{ command curl --fail-with-body --max-time 30 \"$@\"; }}\n{script}"
    );
    let out = Command::new("timeout")
        .args(["60", "bash", "-c", &full])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("SHARELOG_CONFIG", config)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example failed ({}):\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, dir)
}

/// `sharelog [ARGS] --help`'s output.
pub fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sharelog"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "sharelog {args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}
