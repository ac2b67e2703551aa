//! Keeps the export mirror's unwritten pages few, off the hot path.
//!
//! The mirror is appended at a steady rate (a megabyte at a time) and, by design, never
//! fsynced while the service runs. Left to the kernel, its dirty pages pile up to the
//! writeback threshold (about 300 MB on a busy test machine, every 15–20 s) and are then
//! written in one burst; every fsync of the event log queued behind that burst waited for
//! it, and visits took 100–250 ms instead of ~1 ms (docs/performance.md, "Pauses").
//! So after each megabyte a thread of its own fdatasyncs the mirror: the disk gets small
//! writes between the log's fsyncs, and neither the committer nor the syncer waits. It adds
//! nothing to what is promised about the mirror (only a clean close makes it exact).

use std::fs::File;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::thread::JoinHandle;

pub struct Writeback {
    /// Asks for a write-out. Dropping it (with a mirror dropped without a clean close)
    /// ends the thread without waiting for it.
    wake: SyncSender<()>,
    /// The thread; it returns how many write-outs it made.
    thread: JoinHandle<u64>,
}

impl Writeback {
    /// Starts the thread on its own handle to `file`. `None` when there is no handle or
    /// no thread: the mirror then works as before, only with the kernel's bursts.
    pub fn start(file: &File) -> Option<Writeback> {
        let started = file.try_clone().and_then(|own| {
            // One pending request is enough: a write-out covers every page dirtied before it.
            let (wake, asked) = sync_channel::<()>(1);
            let thread = std::thread::Builder::new()
                .name("mirror-writeback".into())
                .spawn(move || {
                    let mut made = 0;
                    while asked.recv().is_ok() {
                        match own.sync_data() {
                            Ok(()) => made += 1,
                            Err(e) => log::debug!("writing out the export mirror: {e}"),
                        }
                    }
                    made
                })?;
            Ok(Writeback { wake, thread })
        });
        started
            .map_err(|e| log::debug!("the export mirror is written out by the kernel alone: {e}"))
            .ok()
    }

    /// Asks for the pages written so far to go to disk; never waits.
    pub fn poke(&self) {
        // Full: a write-out is already asked for, and it covers these pages too.
        // Disconnected: the thread is gone; the kernel writes the mirror out alone.
        let _: Result<(), TrySendError<()>> = self.wake.try_send(());
    }

    /// Ends the thread after the write-out still asked for, if any; returns how many it made.
    pub fn stop(self) -> u64 {
        let Writeback { wake, thread } = self;
        drop(wake);
        thread.join().unwrap_or_else(|_| {
            log::error!("the export mirror's writeback thread panicked");
            0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn pokes_write_the_file_out_and_stop_ends_the_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("events.jsonl")).unwrap();
        let wb = Writeback::start(&file).expect("the thread started");
        // Nothing asked, nothing written out.
        assert_eq!(Writeback::start(&file).map(Writeback::stop), Some(0));
        for _ in 0..50 {
            file.write_all(&[b'x'; 4096]).unwrap();
            wb.poke(); // never blocks, however many are asked for
        }
        // The last poke is still pending when `stop` is called: it is served before the end.
        let made = wb.stop();
        assert!((1..=50).contains(&made), "{made} write-outs");
        assert_eq!(
            std::fs::metadata(dir.path().join("events.jsonl"))
                .unwrap()
                .len(),
            50 * 4096
        );
    }
}
