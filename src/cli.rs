//! The command line (CONTRACT §7).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "sharelog",
    version,
    about = "Public share links for a Subsonic music server, kept as an event log"
)]
pub struct Cli {
    /// YAML configuration file (every key has a default).
    #[arg(long, global = true, env = "SHARELOG_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the service (the default).
    Serve,
}
