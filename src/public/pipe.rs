//! The body of a stream, download or zip: chunks pass from a task reading the music server
//! to the visitor through a small queue (the memory bound per transfer). Either side making
//! no progress for the stall timeout ends the transfer: the reading task stops, which frees
//! its music-server connection, and the visitor's answer ends in an error (the connection
//! is closed, never a short body passed off as whole).

use super::transfers::ClientSlot;
use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};
use std::cell::Cell;
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
    complete: Rc<Cell<bool>>,
}

/// A pipe whose body keeps `slot` (the visitor's transfer allowance) until it is dropped.
pub fn pipe(
    stall: Duration,
    slot: Option<ClientSlot>,
) -> (Outlet, impl Stream<Item = io::Result<Bytes>> + 'static) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    let complete = Rc::new(Cell::new(false));
    let done = complete.clone();
    let mut ended = false;
    let body = futures_util::stream::poll_fn(move |cx| {
        let _slot = &slot;
        if ended {
            return Poll::Ready(None);
        }
        match rx.poll_recv(cx) {
            Poll::Ready(None) => {
                ended = true;
                if done.get() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(io::Error::other("transfer cut off"))))
                }
            }
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Poll::Pending => Poll::Pending,
        }
    });
    (
        Outlet {
            tx,
            stall,
            complete,
        },
        body,
    )
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
        self.complete.set(true);
    }
}
