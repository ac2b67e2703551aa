//! Watching for other replicas' batches: a thread with its own connection LISTENs
//! on `sharelog` (each batch NOTIFYs at commit) and pokes the committer, which then
//! catches up. A connection can drop without a word, and a notification with it,
//! so the committer is poked every `POLL` as well: a missed batch shows within a
//! second. A lost connection is made again with backoff. The thread stops once the
//! store has closed (`Poke::poke` answers false).

use super::connect::Io;
use crate::store::engine::{Poke, Watch};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The committer catches up at least this often, notified or not.
const POLL: Duration = Duration::from_secs(1);
/// Longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

pub struct PgWatch {
    pub io: Arc<Io>,
    /// The committer's server process: its own notifications need no catching up.
    pub own: Arc<AtomicI32>,
}

impl Watch for PgWatch {
    fn start(self: Box<Self>, poke: Poke) {
        let spawned = std::thread::Builder::new()
            .name("postgres-watch".into())
            .spawn(move || self.run(&poke));
        if let Err(e) = spawned {
            // Writes still catch up at each batch; only idle replicas lag.
            log::error!("cannot start the PostgreSQL watcher ({e}); this replica sees other replicas' writes only when it writes itself");
        }
    }
}

impl PgWatch {
    fn run(&self, poke: &Poke) {
        let mut backoff = Duration::from_millis(250);
        let mut failing = false;
        loop {
            let (tx, rx) = channel();
            let client = self.io.connect_listening(tx).and_then(|client| {
                self.io
                    .run("listening", client.batch_execute("LISTEN sharelog"))
                    .map(|_| client)
            });
            match client {
                Ok(client) => {
                    if std::mem::take(&mut failing) {
                        log::info!("listening to PostgreSQL at {} again", self.io.place);
                    }
                    backoff = Duration::from_millis(250);
                    if !self.listen(&rx, poke) {
                        return;
                    }
                    drop(client);
                }
                Err(e) => {
                    if !std::mem::replace(&mut failing, true) {
                        log::warn!("cannot listen for other replicas' writes ({e}); polling every second and trying again");
                    }
                }
            }
            // Still polling while the listener is down.
            let until = Instant::now() + backoff;
            while Instant::now() < until {
                if !poke.poke() {
                    return;
                }
                std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Pokes at once, then on each notification from another process and every `POLL`, until the
    /// connection ends (true) or the store closes (false).
    fn listen(&self, notified: &Receiver<i32>, poke: &Poke) -> bool {
        // What was committed before the LISTEN took effect was never notified to us.
        if !poke.poke() {
            return false;
        }
        let mut polled = Instant::now();
        loop {
            let wait = POLL.saturating_sub(polled.elapsed());
            let others = match notified.recv_timeout(wait) {
                Ok(pid) => {
                    // Several batches may have been notified meanwhile: one poke catches up with all.
                    let own = self.own.load(Ordering::SeqCst);
                    std::iter::once(pid)
                        .chain(notified.try_iter())
                        .any(|p| p != own)
                }
                Err(RecvTimeoutError::Timeout) => true,
                Err(RecvTimeoutError::Disconnected) => return poke.is_open(),
            };
            if others || polled.elapsed() >= POLL {
                if !poke.poke() {
                    return false;
                }
                polled = Instant::now();
            }
        }
    }
}
