//! `promtool` (Debian's `prometheus` package), installed by the preflight check when missing.

use crate::support::preflight::{self, Need};

pub fn promtool() -> &'static str {
    preflight::require(&[Need::Promtool]);
    "promtool"
}
