//! `promtool` (Debian's `prometheus` package), installed with apt-get when missing.

use std::process::Command;

pub fn promtool() -> &'static str {
    let found = |p: &str| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if found("promtool") {
        return "promtool";
    }
    let installed = Command::new("apt-get")
        .args(["install", "-y", "prometheus"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed && found("promtool"),
        "promtool is missing and could not be installed: run `apt-get install -y prometheus`"
    );
    "promtool"
}
