//! The command line (docs/cli.md): `args` parses it; the offline subcommands open a
//! stopped service's log directly, or (`token`) need only the configuration,
//! (`backup`) a running server's URL. Exit status:
//! 0 done, 1 failed (for `verify`: the chain is broken), 2 the data directory is
//! held by a running server, or the command cannot run with this configuration.

mod args;
mod backup;
mod backup_file;
mod chain_check;
mod export;
mod progress;
mod rebuild;
mod replay;
mod restore;
mod token;
mod verify;

use crate::config::Settings;
use crate::store::{Log, StoreError};
pub use args::{
    AuditCmd, BackupArgs, Cli, Cmd, ExportArgs, ReplayArgs, RestoreArgs, TokenArgs, VerifyArgs,
};
use std::process::ExitCode;

/// Why a subcommand stopped.
#[derive(Debug)]
pub enum CommandError {
    /// A running server holds this data directory.
    Locked(String),
    /// The command cannot run with this configuration (says why): exit 2, like a held directory.
    Unusable(String),
    /// The hash chain is broken at this seq (or unreadable at this line of a file).
    Broken(String),
    /// The command will not do what was asked (a used target, a bad argument).
    Refused(String),
    Store(StoreError),
    Io(std::io::Error),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Locked(dir) => write!(
                f,
                "the data directory {dir} is in use by a running sharelog server; stop it first \
                 (or read the audit trail live through GET /api/audit)"
            ),
            CommandError::Unusable(m) => write!(f, "{m}"),
            CommandError::Broken(m) => write!(f, "FAIL {m}"),
            CommandError::Refused(m) => write!(f, "{m}"),
            CommandError::Store(e) => write!(f, "{e}"),
            CommandError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Store(e)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        CommandError::Io(e)
    }
}

impl CommandError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CommandError::Locked(_) | CommandError::Unusable(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

/// Runs an offline subcommand and turns its outcome into an exit status.
pub fn run(cmd: Cmd, settings: &Settings) -> ExitCode {
    let result = match cmd {
        Cmd::Serve => Ok(()),
        Cmd::Audit {
            command: AuditCmd::Export(args),
        } => export::run(settings, args),
        Cmd::Audit {
            command: AuditCmd::Verify(args),
        } => verify::run(settings, args),
        Cmd::Replay(args) => replay::run(settings, args),
        Cmd::Rebuild => rebuild::run(settings),
        Cmd::Backup(args) => backup::run(args),
        Cmd::Restore(args) => restore::run(settings, args),
        Cmd::Token(args) => token::run(settings, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(CommandError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sharelog: {e}");
            e.exit_code()
        }
    }
}

/// Opens the configured data directory, telling a held lock apart from other failures.
fn open_log(settings: &Settings) -> Result<Log, CommandError> {
    Log::open_at(&settings.store_location()).map_err(|e| data_dir_error(settings, e))
}

/// A failure to use the configured log, with a held lock told apart (exit 2).
fn data_dir_error(settings: &Settings, e: StoreError) -> CommandError {
    match e {
        StoreError::Locked(_) => CommandError::Locked(settings.store_location().describe()),
        other => CommandError::Store(other),
    }
}

/// The number of events in the log, for progress bars.
fn event_count(log: &Log) -> u64 {
    log.checkpoint().ok().flatten().map_or(0, |c| c.last_seq)
}
