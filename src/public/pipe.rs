//! The body of a stream, download, zip or cover: chunks pass from a task reading the music
//! server to the visitor through a small queue (the memory bound per transfer). The body ends
//! early, the visitor's answer ending in an error (the connection is closed, never a short body
//! passed off as whole), when:
//! - either side makes no progress for the stall timeout (the copy gives up; the visitor keeps
//!   their own transfer slot until their connection closes, so a reader that stops uses up only
//!   their own allowance);
//! - the answer must end, however it progresses (`transfer_end`: its deadline passed, or the
//!   visitor's access ended). Then the reading task is dropped at once, which frees its
//!   music-server connection, both transfer slots are given back, and the visitor's next read
//!   gets the error, even with chunks still queued.

use super::transfer_end::Ended;
use super::transfers::{ClientSlot, Transfer};
use actix_web::web::Bytes;
use futures_util::future::{self, Either};
use futures_util::{Stream, StreamExt};
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::mpsc;

/// Chunks queued between the music server and a slow visitor.
const QUEUE: usize = 8;

/// The sending half, owned by the task that reads the music server.
pub struct Outlet {
    tx: mpsc::Sender<Bytes>,
    stall: Duration,
    shared: Rc<Shared>,
}

/// What the task and the visitor's body both see (one worker thread: `Rc` and `Cell`).
#[derive(Default)]
struct Shared {
    /// The task wrote the whole body: ending it is a clean end.
    complete: Cell<bool>,
    /// The answer had to end: the body's next read is the error.
    cut: Cell<bool>,
    /// The visitor's transfer slot: dropped with the body, or when the answer had to end.
    client: Cell<Option<ClientSlot>>,
}

/// Runs `work` (which reads the music server and writes to the outlet it is given, calling
/// `Outlet::finish` when the body is whole) on this worker's thread, and returns the body it
/// writes. `transfer` holds the slots and the ends; `what` names it in the log.
pub fn spawn<W, F>(
    what: &'static str,
    stall: Duration,
    transfer: Transfer,
    work: W,
) -> impl Stream<Item = io::Result<Bytes>> + 'static
where
    W: FnOnce(Outlet) -> F,
    F: Future<Output = io::Result<()>> + 'static,
{
    let Transfer {
        client,
        upstream,
        ends,
    } = transfer;
    let shared = Rc::new(Shared {
        client: Cell::new(client),
        ..Shared::default()
    });
    let (tx, rx) = mpsc::channel::<Bytes>(QUEUE);
    let outlet = Outlet {
        tx,
        stall,
        shared: shared.clone(),
    };
    let work = Box::pin(work(outlet));
    let task_shared = shared.clone();
    // The awc client is per worker (not Send), so the copy runs on this worker's thread.
    actix_web::rt::spawn(async move {
        let _upstream = upstream;
        let ending = Box::pin(async move { ends.reached().await });
        match future::select(work, ending).await {
            Either::Left((Ok(()), _)) => {}
            Either::Left((Err(e), _)) => log::info!("{what} cut off: {e}"),
            Either::Right((why, work)) => {
                // Dropping the copy drops its music-server answer (the connection is freed)
                // and its outlet (the visitor's body wakes up to the cut).
                drop(work);
                cut(&task_shared, what, &why);
            }
        }
    });
    body(rx, shared)
}

/// The answer had to end: the visitor's body errs at its next read, and the visitor's slot is
/// given back now (a reader that takes nothing would otherwise hold it until it hangs up).
fn cut(shared: &Shared, what: &str, why: &Ended) {
    shared.cut.set(true);
    drop(shared.client.take());
    match why {
        Ended::Timeout(_) => log::warn!("{what} cut off: {why}"),
        Ended::AccessEnded(_) => log::info!("{what} ended: {why}"),
    }
}

fn body(
    mut rx: mpsc::Receiver<Bytes>,
    shared: Rc<Shared>,
) -> impl Stream<Item = io::Result<Bytes>> + 'static {
    let mut ended = false;
    futures_util::stream::poll_fn(move |cx| {
        if ended {
            return Poll::Ready(None);
        }
        if shared.cut.get() {
            ended = true;
            return Poll::Ready(Some(Err(io::Error::other("transfer ended early"))));
        }
        match rx.poll_recv(cx) {
            Poll::Ready(None) => {
                ended = true;
                if shared.complete.get() && !shared.cut.get() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(io::Error::other("transfer cut off"))))
                }
            }
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Poll::Pending => Poll::Pending,
        }
    })
}

impl Outlet {
    /// Queues a chunk for the visitor, who must make room within the stall timeout.
    pub async fn send(&self, chunk: Bytes) -> io::Result<()> {
        match actix_web::rt::time::timeout(self.stall, self.tx.send(chunk)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "visitor went away",
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "visitor stopped reading",
            )),
        }
    }

    /// Copies a music-server body to the visitor, each chunk due within the stall timeout;
    /// `seen` looks at every chunk on its way. Returns the number of bytes copied.
    pub async fn copy(
        &self,
        from: &mut awc::ClientResponse,
        mut seen: impl FnMut(&[u8]),
    ) -> io::Result<u64> {
        let mut copied = 0u64;
        loop {
            let next = actix_web::rt::time::timeout(self.stall, from.next())
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "music server stalled"))?;
            let Some(chunk) = next else {
                return Ok(copied);
            };
            let chunk = chunk.map_err(io::Error::other)?;
            seen(&chunk);
            copied += chunk.len() as u64;
            self.send(chunk).await?;
        }
    }

    /// Marks the body whole: the visitor's answer ends normally once the queue drains.
    pub fn finish(self) {
        self.shared.complete.set(true);
    }
}

#[cfg(test)]
mod tests {
    use super::super::transfer_end::{Bound, Ends};
    use super::*;

    fn within(ms: u64) -> Transfer {
        Transfer::unslotted(Ends::from_now(
            Bound::Cover(Duration::from_millis(ms)),
            None,
        ))
    }

    async fn read_all(body: impl Stream<Item = io::Result<Bytes>>) -> (Vec<u8>, bool) {
        let mut body = std::pin::pin!(body);
        let mut got = Vec::new();
        while let Some(item) = body.next().await {
            match item {
                Ok(b) => got.extend_from_slice(&b),
                Err(_) => return (got, false),
            }
        }
        (got, true)
    }

    #[actix_web::test]
    async fn a_finished_copy_ends_cleanly() {
        let body = spawn(
            "test",
            Duration::from_secs(5),
            within(5_000),
            |out| async move {
                out.send(Bytes::from_static(b"whole")).await?;
                out.finish();
                Ok(())
            },
        );
        assert_eq!(read_all(body).await, (b"whole".to_vec(), true));
    }

    #[actix_web::test]
    async fn a_body_that_never_ends_is_cut_at_its_deadline_even_with_chunks_queued() {
        let started = std::time::Instant::now();
        let body = spawn(
            "test",
            Duration::from_secs(60),
            within(300),
            |out| async move {
                loop {
                    // Always something queued: the cut must not wait for the queue to drain.
                    out.send(Bytes::from_static(b"x")).await?;
                    actix_web::rt::time::sleep(Duration::from_millis(10)).await;
                }
            },
        );
        let mut body = std::pin::pin!(body);
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        // Once more, so that the task woken by the deadline has run even on a starved thread.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;

        let first = body.next().await;

        assert!(matches!(first, Some(Err(_))), "{first:?}");
        assert!(body.next().await.is_none());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
