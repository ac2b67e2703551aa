#![forbid(unsafe_code)]

use clap::Parser;
use sharelog::cli::{Cli, Cmd};
use sharelog::config::Settings;
use sharelog::startup::Application;
use std::process::ExitCode;

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
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Cmd::Serve) {
        Cmd::Serve => serve(settings),
        offline => sharelog::commands::run(offline, &settings),
    }
}

fn serve(settings: Settings) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Printed once, on stderr, whatever RUST_LOG says.
        Err(e) => {
            eprintln!("sharelog: {e}");
            ExitCode::FAILURE
        }
    }
}
