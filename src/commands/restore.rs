//! `sharelog restore --from EXPORT.jsonl`: a new data directory from a complete
//! export. The whole chain is checked while reading; the directory is built beside
//! the target (`.<name>.restoring`) and renamed into place only when complete, so a
//! broken export, or a crash, leaves no half-built data directory behind.

use super::verify::Chain;
use super::{progress, CommandError};
use crate::cli::RestoreArgs;
use crate::config::Settings;
use crate::store::{
    chain, decode_sealed, mirror, Batcher, Checkpoint, ImportBatch, Importer, MirrorCopy,
    StoreError, BATCH_EVENTS,
};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn run(settings: &Settings, args: RestoreArgs) -> Result<(), CommandError> {
    let target = &settings.data_dir;
    refuse_used(target)?;
    let file = std::fs::File::open(&args.from).map_err(|e| in_file(&args.from, e))?;
    let size = file.metadata().map_err(|e| in_file(&args.from, e))?.len();
    if size == 0 {
        return Err(CommandError::Broken(format!(
            "{} is empty: there are no events to restore",
            args.from.display()
        )));
    }
    let building = Building::start(target)?;
    let started = Instant::now();
    let bar = progress::bytes(size, "restoring");
    let (mut importer, mirror) = Importer::create(&building.dir)?;
    // Two stages on two threads: reading and checking the file and writing the export
    // mirror (here), writing the log and folding the projections (the importer's
    // thread), batch by batch. Emptied batches go back to the reader to be filled again.
    let (tx, rx) = std::sync::mpsc::sync_channel::<ToWriter>(4);
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<ImportBatch>(8);
    let checkpoint = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<Checkpoint, CommandError> {
            for message in rx {
                match message {
                    ToWriter::Batch(mut batch) => {
                        importer.push_batch(&mut batch)?;
                        let _ = back_tx.try_send(batch);
                    }
                    ToWriter::End(mirror) => return Ok(importer.finish(mirror)?),
                }
            }
            Err(CommandError::Refused(
                "the export was not read to its end".into(),
            ))
        });
        let read = read_checked(file, &args.from, &bar, mirror, tx, back_rx);
        let written = writer
            .join()
            .map_err(|_| CommandError::Refused("the restore's writer thread failed".into()))?;
        // A reader's error is the cause; otherwise the writer's (the reader stops quietly
        // when the writer does).
        read?;
        written
    })?;
    bar.finish_and_clear();
    building.complete(target)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "restored {} events (last seq {}, head {}) into {} in {secs:.2} s ({:.0} events/s)",
        checkpoint.last_seq,
        checkpoint.last_seq,
        chain::to_hex(&checkpoint.last_hash),
        target.display(),
        checkpoint.last_seq as f64 / secs.max(1e-9),
    );
    Ok(())
}

/// What the reader sends the writer.
enum ToWriter {
    /// Checked events, already in the mirror.
    Batch(ImportBatch),
    /// The file was read and checked to its end, and all of it is in the mirror.
    End(MirrorCopy),
}

/// Reads the export line by line, checks each against the chain, writes batches to
/// the export mirror and sends them to the writer. A line as the committer writes it (canonical, sealed: nearly every
/// line of an export) is decoded straight into its event and kept as it is; any other
/// is checked in full, which names what is wrong, and stored in canonical form.
fn read_checked(
    file: std::fs::File,
    path: &Path,
    bar: &indicatif::ProgressBar,
    mut mirror: MirrorCopy,
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
            mirror.write(&batch)?;
            if tx.send(ToWriter::Batch(batch)).is_err() {
                // The writer stopped; its error is the one to report.
                return Ok(());
            }
        }
    }
    if !batcher.is_empty() {
        let batch = batcher.take(None);
        mirror.write(&batch)?;
        if tx.send(ToWriter::Batch(batch)).is_err() {
            return Ok(());
        }
    }
    let _ = tx.send(ToWriter::End(mirror));
    Ok(())
}

fn in_file(path: &Path, e: std::io::Error) -> CommandError {
    CommandError::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

/// A restore never writes over anything: the target must be absent or an empty directory.
fn refuse_used(target: &Path) -> Result<(), CommandError> {
    let mut entries = match std::fs::read_dir(target) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(in_file(target, e)),
    };
    let Some(first) = entries.next() else {
        return Ok(());
    };
    if target.join("db").exists() {
        // A running server holds it: say so (exit 2), as every other subcommand does.
        mirror::lock_shared(target).map_err(|e| match e {
            StoreError::Locked(_) => CommandError::Locked(target.display().to_string()),
            other => CommandError::Store(other),
        })?;
        return Err(CommandError::Refused(format!(
            "the data directory {} already holds an event log; restore builds a new one \
             (point dataDir at an empty or absent directory)",
            target.display()
        )));
    }
    let name = first.map(|e| e.file_name().to_string_lossy().into_owned());
    Err(CommandError::Refused(format!(
        "the data directory {} is not empty (it holds {}); restore builds a new one \
         (point dataDir at an empty or absent directory)",
        target.display(),
        name.unwrap_or_else(|_| "unreadable entries".into())
    )))
}

/// The sibling directory a restore fills; removed unless `complete` moved it into place.
struct Building {
    dir: PathBuf,
    done: bool,
}

impl Building {
    fn start(target: &Path) -> Result<Building, CommandError> {
        let parent = parent_of(target);
        std::fs::create_dir_all(&parent).map_err(|e| in_file(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                CommandError::Refused(format!("{} names no directory", target.display()))
            })?;
        let dir = parent.join(format!(".{name}.restoring"));
        if dir.exists() {
            eprintln!(
                "sharelog: removing {}, left behind by an interrupted restore",
                dir.display()
            );
            std::fs::remove_dir_all(&dir).map_err(|e| in_file(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| in_file(&dir, e))?;
        Ok(Building { dir, done: false })
    }

    /// Makes every file durable, then renames the directory into place (an empty
    /// target directory is replaced) and makes the rename durable.
    fn complete(mut self, target: &Path) -> Result<(), CommandError> {
        sync_tree(&self.dir)?;
        std::fs::rename(&self.dir, target).map_err(|e| in_file(target, e))?;
        self.done = true;
        let parent = parent_of(target);
        std::fs::File::open(&parent)
            .and_then(|d| d.sync_all())
            .map_err(|e| in_file(&parent, e))?;
        Ok(())
    }
}

impl Drop for Building {
    fn drop(&mut self) {
        // sled's threads may still be closing files in it: try for a while.
        for _ in 0..100 {
            if self.done || std::fs::remove_dir_all(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// fsyncs every file under `dir`, and the directories themselves.
fn sync_tree(dir: &Path) -> Result<(), CommandError> {
    for entry in std::fs::read_dir(dir).map_err(|e| in_file(dir, e))? {
        let path = entry.map_err(|e| in_file(dir, e))?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| in_file(&path, e))?;
        }
    }
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| in_file(dir, e))
}
