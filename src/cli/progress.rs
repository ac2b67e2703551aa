//! Progress bars on a terminal, nothing when stderr is piped or the work is small.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Below this many events no bar is shown (docs/cli.md: "more than about 100k").
const MIN_EVENTS: u64 = 100_000;

pub fn bar(total: u64, what: &'static str) -> ProgressBar {
    if total < MIN_EVENTS || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style =
        ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} events ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(total).with_style(style).with_message(what)
}

/// A bar over the bytes of an input file, for work whose event count is not known ahead.
pub fn bytes(total: u64, what: &'static str) -> ProgressBar {
    // About 450 bytes an event: the same threshold as `bar`.
    if total < MIN_EVENTS * 450 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(total).with_style(style).with_message(what)
}
