//! The command line (docs/cli.md). `serve --help` lists every environment variable.

use crate::domain::Event;
use crate::domain::ShareId;
use crate::store::Filter;
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
    #[command(after_help = crate::config::env_help())]
    Serve,
    /// Export or verify the audit trail (the hash-chained event log).
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Print the live shares as they were at a point in the log (a JSON array).
    Replay(ReplayArgs),
    /// Rebuild every projection from the log.
    Rebuild,
    /// Append a running server's new events to a JSON Lines backup file.
    Backup(BackupArgs),
    /// Build the (empty) data directory from an export, checking its whole chain.
    Restore(RestoreArgs),
    /// Print a local owner token (HS256, as Navidrome signs them) for the configured auth.jwtSecret.
    Token(TokenArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Write the log as JSON Lines to stdout (filters make a partial export).
    Export(ExportArgs),
    /// Check the hash chain of the database, or of an export file.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this share's events.
    #[arg(long, value_name = "ID", value_parser = parse_share_id)]
    pub share: Option<ShareId>,
    /// Only events of this type.
    #[arg(long = "type", value_name = "T", value_parser = PossibleValuesParser::new(Event::TYPES))]
    pub kind: Option<String>,
    /// Only events at or after this RFC 3339 time.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<OffsetDateTime>,
    /// Only events at or before this RFC 3339 time.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub until: Option<OffsetDateTime>,
}

impl ExportArgs {
    pub fn into_filter(self) -> Filter {
        Filter {
            share: self.share,
            kind: self.kind,
            since: self.since,
            until: self.until,
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// An export file to check instead of the database.
    #[arg(long, value_name = "EXPORT.jsonl")]
    pub file: Option<PathBuf>,
    /// The file is a filtered (partial) export: seq gaps are allowed.
    #[arg(long, requires = "file")]
    pub partial: bool,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ReplayArgs {
    /// Apply the events recorded at or before this RFC 3339 time.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub until: Option<OffsetDateTime>,
    /// Apply the events up to and including this seq.
    #[arg(long, value_name = "N")]
    pub seq: Option<u64>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The server's base URL, e.g. http://127.0.0.1:4534.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// A file holding an admin's bearer token (never printed).
    #[arg(long, value_name = "F")]
    pub token_file: PathBuf,
    /// The backup file: created if absent, continued from its last seq otherwise.
    #[arg(long, value_name = "FILE.jsonl")]
    pub to: PathBuf,
    /// Keep streaming new events, reconnecting with back-off, instead of stopping when caught up.
    #[arg(long)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A complete export (`audit export`, `GET /api/audit` or `sharelog backup`).
    #[arg(long, value_name = "FILE.jsonl")]
    pub from: PathBuf,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The username (the token's `sub` claim).
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The user id (the `uid` claim); defaults to the username.
    #[arg(long, value_name = "ID")]
    pub uid: Option<String>,
    /// Mark the token as an admin's (`adm: true`): sees every share and the audit trail.
    #[arg(long)]
    pub admin: bool,
    /// How long the token is valid, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=8760))]
    pub hours: u64,
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("not an RFC 3339 time: {e}"))
}

fn parse_share_id(s: &str) -> Result<ShareId, String> {
    ShareId::parse(s).ok_or_else(|| "not a share id (1-64 letters and digits)".to_string())
}
