//! `sharelog restore --from EXPORT.jsonl`: a new log from a complete export, in the
//! configured engine. The whole chain is checked while reading, and every event is
//! taken through the rules a server keeps (`ImportFold`) on the writing side; the
//! engine builds the new log so that a broken export, or a crash, leaves nothing
//! half-built behind (sled: a directory beside the target, renamed into place).

use super::verify::Chain;
use super::RestoreArgs;
use super::{progress, CommandError};
use crate::config::Settings;
use crate::store::{
    chain, decode_sealed, offline, Batcher, Checkpoint, CopyOut, ImportBatch, ImportFold,
    StoreError, BATCH_EVENTS,
};
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

pub fn run(settings: &Settings, args: RestoreArgs) -> Result<(), CommandError> {
    let target = &settings.store_location();
    let file = std::fs::File::open(&args.from).map_err(|e| in_file(&args.from, e))?;
    let size = file.metadata().map_err(|e| in_file(&args.from, e))?.len();
    if size == 0 {
        return Err(CommandError::Broken(format!(
            "{} is empty: there are no events to restore",
            args.from.display()
        )));
    }
    let mut import = offline::restore(&settings.store_location()).map_err(|e| match e {
        StoreError::Locked(_) => CommandError::Locked(target.describe()),
        StoreError::Refused(m) => CommandError::Refused(m),
        other => CommandError::Store(other),
    })?;
    let started = Instant::now();
    let bar = progress::bytes(size, "restoring");
    let copy_out = import.copy_out();
    // Two stages on two threads: reading and checking the file (and the engine's copy
    // of it, sled's export mirror) here, the rules, the fold and the engine's writes on
    // the writer's thread, batch by batch. Emptied batches go back to be filled again.
    let (tx, rx) = std::sync::mpsc::sync_channel::<ToWriter>(4);
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<ImportBatch>(8);
    let checkpoint = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<Checkpoint, CommandError> {
            let mut fold = ImportFold::default();
            for message in rx {
                match message {
                    ToWriter::Batch(mut batch) => {
                        fold.push(&batch)?;
                        import.push(&mut batch, &fold)?;
                        let _ = back_tx.try_send(batch);
                    }
                    ToWriter::End => return Ok(import.finish(fold)?),
                }
            }
            Err(CommandError::Refused(
                "the export was not read to its end".into(),
            ))
        });
        let read = read_checked(file, &args.from, &bar, copy_out, tx, back_rx);
        let written = writer
            .join()
            .map_err(|_| CommandError::Refused("the restore's writer thread failed".into()))?;
        // A reader's error is the cause; otherwise the writer's (the reader stops quietly
        // when the writer does).
        read?;
        written
    })?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "restored {} events (last seq {}, head {}) into {} in {secs:.2} s ({:.0} events/s)",
        checkpoint.last_seq,
        checkpoint.last_seq,
        chain::to_hex(&checkpoint.last_hash),
        target.describe(),
        checkpoint.last_seq as f64 / secs.max(1e-9),
    );
    Ok(())
}

/// What the reader sends the writer.
enum ToWriter {
    /// Checked events, already copied out.
    Batch(ImportBatch),
    /// The file was read and checked to its end, and all of it is copied out.
    End,
}

/// Reads the export line by line, checks each against the chain, writes batches to
/// the export mirror and sends them to the writer. A line as the committer writes it (canonical, sealed: nearly every
/// line of an export) is decoded straight into its event and kept as it is; any other
/// is checked in full, which names what is wrong, and stored in canonical form.
fn read_checked(
    file: std::fs::File,
    path: &Path,
    bar: &indicatif::ProgressBar,
    mut copy_out: Option<Box<dyn CopyOut>>,
    tx: std::sync::mpsc::SyncSender<ToWriter>,
    spares: std::sync::mpsc::Receiver<ImportBatch>,
) -> Result<(), CommandError> {
    let mut chain = Chain::new(false);
    let mut reader = std::io::BufReader::with_capacity(1024 * 1024, file);
    let mut batcher = Batcher::default();
    let (mut read, mut line_no) = (0u64, 0u64);
    loop {
        let text = batcher.text();
        let start = text.len();
        let n = reader
            .read_until(b'\n', text)
            .map_err(|e| in_file(path, e))?;
        if n == 0 {
            break;
        }
        read += n as u64;
        line_no += 1;
        if text.last() == Some(&b'\n') {
            text.pop();
        }
        let line = &text[start..];
        match decode_sealed(line) {
            Some(env) => {
                chain.follow(env.seq, &env.prev_hash, env.hash)?;
                batcher.push(env);
            }
            None => {
                let (canonical, env) = chain.check(line_no, line, None)?.into_event()?;
                batcher.push_rewritten(env, start, &canonical);
            }
        }
        if batcher.len() == BATCH_EVENTS {
            bar.set_position(read);
            let batch = batcher.take(spares.try_recv().ok());
            if let Some(copy) = copy_out.as_mut() {
                copy.write(&batch)?;
            }
            if tx.send(ToWriter::Batch(batch)).is_err() {
                // The writer stopped; its error is the one to report.
                return Ok(());
            }
        }
    }
    if !batcher.is_empty() {
        let batch = batcher.take(None);
        if let Some(copy) = copy_out.as_mut() {
            copy.write(&batch)?;
        }
        if tx.send(ToWriter::Batch(batch)).is_err() {
            return Ok(());
        }
    }
    if let Some(copy) = copy_out {
        copy.close()?;
    }
    let _ = tx.send(ToWriter::End);
    Ok(())
}

fn in_file(path: &Path, e: std::io::Error) -> CommandError {
    CommandError::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}
