//! `sharelog backup --url URL --token-file F --to FILE.jsonl [--follow]`: appends a
//! running server's new events (`GET /api/audit?after=<FILE's last seq>`) to FILE,
//! checking that each continues FILE's chain, and stops when caught up; with
//! `--follow` it keeps streaming and reconnects with back-off. The token is read
//! from a file and sent only in a header: it never appears in a URL, log or error.

use super::backup_file::BackupFile;
use super::BackupArgs;
use super::CommandError;
use futures_util::StreamExt;
use std::time::Duration;

/// The server sends an empty line after 15 s of silence; four missed ones mean a dead connection.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Until the response head arrives.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Why one connection ended early.
enum Stop {
    /// Worth another try later (network, 5xx, a timeout).
    Retry(String),
    /// Retrying cannot help (refused token, broken chain, local I/O).
    Fatal(CommandError),
}

impl From<CommandError> for Stop {
    fn from(e: CommandError) -> Self {
        Stop::Fatal(e)
    }
}

pub fn run(args: BackupArgs) -> Result<(), CommandError> {
    let token = read_token(&args)?;
    let base = args.url.trim_end_matches('/').to_string();
    if crate::config::without_userinfo(&base) != base {
        return Err(CommandError::Refused(format!(
            "--url {}: must not hold a user name or password; the token file is the credential",
            crate::config::without_userinfo(&base)
        )));
    }
    if !base.starts_with("http://") {
        return Err(CommandError::Refused(format!(
            "--url {base}: only http:// URLs are supported; run the backup on the server's \
             host against its own listener (e.g. http://127.0.0.1:4534), or through a tunnel"
        )));
    }
    let mut file = BackupFile::open(&args.to)?;
    let first = file.last_seq();
    actix_rt::System::new().block_on(async {
        let client = awc::Client::builder()
            .connector(awc::Connector::new().timeout(CONNECT_TIMEOUT))
            .timeout(RESPONSE_TIMEOUT)
            .disable_redirects()
            .finish();
        let mut delay = FIRST_RETRY;
        loop {
            let before = file.last_seq();
            match fetch(&client, &base, &token, &mut file, args.follow).await {
                Ok(()) if !args.follow => break,
                Ok(()) => log::info!("the audit feed ended at seq {}", file.last_seq()),
                Err(Stop::Fatal(e)) => return Err(e),
                Err(Stop::Retry(why)) if !args.follow => {
                    return Err(CommandError::Refused(why));
                }
                Err(Stop::Retry(why)) => log::warn!("{why}"),
            }
            if file.last_seq() > before {
                delay = FIRST_RETRY;
            }
            log::info!(
                "reconnecting in {} s (backed up to seq {})",
                delay.as_secs(),
                file.last_seq()
            );
            actix_rt::time::sleep(delay).await;
            delay = (delay * 2).min(LAST_RETRY);
        }
        Ok(())
    })?;
    file.finish()?;
    match file.last_seq() - first {
        0 => println!(
            "backed up 0 new events: {} is up to date at seq {first}",
            args.to.display()
        ),
        n => println!(
            "backed up {n} new events to {} (seq {} to {})",
            args.to.display(),
            first + 1,
            file.last_seq()
        ),
    }
    Ok(())
}

/// The token file's first line. Errors name the file, never its content.
fn read_token(args: &BackupArgs) -> Result<String, CommandError> {
    let text = std::fs::read_to_string(&args.token_file).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => {
                "no such file; write an admin's bearer token into it (one line), readable \
                 only by the user that runs the backup"
                    .to_string()
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied: the user that runs the backup cannot read it".to_string()
            }
            _ => e.to_string(),
        };
        CommandError::Refused(format!("--token-file {}: {why}", args.token_file.display()))
    })?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    let printable = token.bytes().all(|b| b.is_ascii_graphic());
    if token.is_empty() || !printable {
        return Err(CommandError::Refused(format!(
            "--token-file {}: the first line must be a bearer token (printable ASCII)",
            args.token_file.display()
        )));
    }
    Ok(token)
}

/// One connection: streams events after FILE's last seq, appending each received
/// chunk's events (checked) to FILE with one fsync, until the server ends the answer.
async fn fetch(
    client: &awc::Client,
    base: &str,
    token: &str,
    file: &mut BackupFile,
    follow: bool,
) -> Result<(), Stop> {
    let url = format!(
        "{base}/api/audit?after={}{}",
        file.last_seq(),
        if follow { "&follow=true" } else { "" }
    );
    let mut resp = client
        .get(&url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .map_err(|e| Stop::Retry(format!("{base}: no answer ({e})")))?;
    check_status(base, resp.status())?;
    let mut received: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut checked: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        let chunk = match actix_rt::time::timeout(IDLE_TIMEOUT, resp.next()).await {
            Err(_) => {
                return Err(Stop::Retry(format!(
                    "{base}: nothing received for {} s",
                    IDLE_TIMEOUT.as_secs()
                )))
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(Stop::Retry(format!("{base}: the feed broke ({e})"))),
            Ok(Some(Ok(bytes))) => bytes,
        };
        received.extend_from_slice(&chunk);
        take_complete_lines(file, &mut received, &mut checked)?;
    }
    // A complete answer ends with a newline: anything after the last one was cut off.
    if !received.is_empty() {
        return Err(Stop::Retry(format!("{base}: the feed ended inside a line")));
    }
    Ok(())
}

/// A server error or 429 is retried; any other refusal stops the backup, with a hint.
fn check_status(base: &str, status: awc::http::StatusCode) -> Result<(), Stop> {
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(Stop::Retry(format!("{base}: the server answered {status}")));
    }
    if !status.is_success() {
        let hint = match status.as_u16() {
            401 => " (the token is missing, invalid or expired)",
            403 => " (the token is not an admin's)",
            404 => " (is this a sharelog server with sharing enabled?)",
            _ => "",
        };
        return Err(Stop::Fatal(CommandError::Refused(format!(
            "{base}/api/audit answered {status}{hint}"
        ))));
    }
    Ok(())
}

/// Checks and appends every complete line `received` holds, keeping the unfinished tail.
fn take_complete_lines(
    file: &mut BackupFile,
    received: &mut Vec<u8>,
    checked: &mut Vec<u8>,
) -> Result<(), CommandError> {
    let Some(end) = received.iter().rposition(|&b| b == b'\n') else {
        return Ok(());
    };
    for line in received[..end].split(|&b| b == b'\n') {
        accept(file, line, checked)?;
    }
    received.drain(..=end);
    if !checked.is_empty() {
        file.append(checked)?;
        checked.clear();
    }
    Ok(())
}

/// Checks one received line against the chain and adds its canonical form to `out`.
/// Heartbeats (empty lines) and events FILE already holds are skipped.
fn accept(file: &mut BackupFile, line: &[u8], out: &mut Vec<u8>) -> Result<(), CommandError> {
    #[derive(serde::Deserialize)]
    struct SeqOnly {
        seq: u64,
    }
    if line.is_empty() {
        return Ok(());
    }
    // A server that does not know `after` sends the whole log again.
    if let Ok(SeqOnly { seq }) = serde_json::from_slice(line) {
        if seq <= file.last_seq() {
            return Ok(());
        }
    }
    let next = file.last_seq() + 1;
    let (canonical, _) = file
        .chain()
        .check(next, line, None)
        .map_err(|e| match e {
            CommandError::Broken(why) => CommandError::Broken(format!(
                "the server's events do not continue the backup file: {why}{}",
                if next > 1 {
                    " (is the file a backup of another server?)"
                } else {
                    ""
                }
            )),
            other => other,
        })?
        .into_event()?;
    out.extend_from_slice(&canonical);
    out.push(b'\n');
    Ok(())
}
