#![forbid(unsafe_code)]

use clap::Parser;
use sharelog::cli::{AuditCmd, Cli, Cmd, VerifyArgs};
use sharelog::config::Settings;
use sharelog::startup::{Application, StartupError};
use sharelog::store::StoreError;
use std::process::ExitCode;

/// A configuration that cannot work, a data directory held by another server, or bad
/// arguments: the same status for `serve` as for the offline commands (docs/cli.md).
const EXIT_UNUSABLE: u8 = 2;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    // A misspelled variable would otherwise be silently ignored.
    for warning in sharelog::config::unknown_env_vars(
        std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
    ) {
        log::warn!("{warning}");
    }
    let settings = match Settings::load(cli.config.as_deref(), |k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sharelog: {e}");
            return ExitCode::from(EXIT_UNUSABLE);
        }
    };
    let command = cli.command.unwrap_or(Cmd::Serve);
    if uses_data_dir(&command) {
        if let Err(e) = settings.check_data_dir() {
            eprintln!("sharelog: {e}");
            return ExitCode::from(EXIT_UNUSABLE);
        }
    }
    match command {
        Cmd::Serve => serve(settings),
        offline => sharelog::cli::run(offline, &settings),
    }
}

/// Every command but `backup`, `token` and `audit verify --file` opens `dataDir`.
fn uses_data_dir(command: &Cmd) -> bool {
    !matches!(
        command,
        Cmd::Backup(_)
            | Cmd::Token(_)
            | Cmd::Audit {
                command: AuditCmd::Verify(VerifyArgs { file: Some(_), .. }),
            }
    )
}

/// Why `serve` stopped.
enum Stop {
    Start(StartupError),
    Run(std::io::Error),
}

fn serve(settings: Settings) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).map_err(Stop::Start)?;
        app.run_until_stopped().await.map_err(Stop::Run)
    });
    // Printed once, on stderr, whatever RUST_LOG says.
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Start(e)) => {
            eprintln!("sharelog: {e}");
            match e {
                StartupError::Store(_, StoreError::Locked(_)) => ExitCode::from(EXIT_UNUSABLE),
                _ => ExitCode::FAILURE,
            }
        }
        Err(Stop::Run(e)) => {
            eprintln!("sharelog: {e}");
            ExitCode::FAILURE
        }
    }
}
