//! What a caller sends the committer and what it gets back.
//!
//! A caller asks either for the share's state after its command (`Reply::Outcome`)
//! or only for the news that it is on disk (`Reply::Ack`, for visits). `Answered`
//! pairs each reply channel with a result of its own kind, so an answer that does
//! not fit its request cannot be built.

use super::refusal::Refusal;
use crate::domain::{Command, Share, ShareId};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use tokio::sync::oneshot;

/// An `Idempotency-Key` on a create, scoped to the user who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Idempotency {
    pub user_id: String,
    pub key: String,
    /// A digest of the request body, to refuse the same key with another body.
    pub fingerprint: String,
}

/// The stored form of a used idempotency key (`I` row).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(in crate::store) struct IdempotencyRow {
    pub share_id: ShareId,
    pub fingerprint: String,
}

impl IdempotencyRow {
    /// The one rule of a repeated key, given the state of the share the key made
    /// (`first`): the same body gets that share back; another body is refused.
    pub fn repeat(
        &self,
        fingerprint: &str,
        first: Option<Share>,
    ) -> Result<Result<Share, Refusal>, StoreError> {
        match first {
            Some(share) if self.fingerprint == fingerprint => Ok(Ok(share)),
            Some(_) => Ok(Err(Refusal::KeyReused)),
            None => Err(StoreError::Corrupt(
                "idempotency key names an unknown share".into(),
            )),
        }
    }
}

/// The result of a command: the share's state after it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub share: Share,
    /// Seqs of the events appended (empty for a no-op update or an idempotent repeat).
    pub seqs: Vec<u64>,
    /// True when an `Idempotency-Key` repeat returned the first result.
    pub replayed: bool,
}

impl Outcome {
    /// The answer to an `Idempotency-Key` repeat: the first share, nothing appended.
    pub fn replayed(share: Share) -> Outcome {
        Outcome {
            share,
            seqs: Vec::new(),
            replayed: true,
        }
    }
}

/// What a caller asks the committer.
// Not boxed: `Execute` is nearly every request, and a box would cost each visit an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Request {
    /// Decide and append a command.
    Execute {
        cmd: Command,
        idem: Option<Idempotency>,
        reply: Reply,
    },
    /// Only the first result of an `Idempotency-Key`, if one is stored or in flight:
    /// answered in batch order, so a repeat of a create that is still on its way to
    /// the disk waits for it instead of reading a key whose share is not durable yet.
    Repeat {
        idem: Idempotency,
        reply: oneshot::Sender<Result<Result<Option<Share>, Refusal>, StoreError>>,
    },
    /// Nothing to decide: another process appended to a shared log, and the
    /// committer catches up with it now rather than at its next write.
    CatchUp,
}

impl Request {
    /// Whether planning it may append (a repeat only reads).
    pub fn writes(&self) -> bool {
        matches!(self, Request::Execute { .. })
    }

    /// The answer for a request that is refused whole.
    pub fn failed(self, error: StoreError) -> Answered {
        match self {
            Request::Execute { reply, .. } => reply.failed(error),
            Request::Repeat { reply, .. } => Answered::Repeat(reply, Err(error)),
            Request::CatchUp => Answered::Nobody,
        }
    }
}

/// Where a command's result goes.
pub enum Reply {
    /// The share's state after the command (owner API, Subsonic, tools).
    Outcome(oneshot::Sender<Result<Result<Outcome, Refusal>, StoreError>>),
    /// Only that it is on disk: a visit's caller needs no copy of the share, and not
    /// cloning one per visit is most of what a visit costs the committer.
    Ack(oneshot::Sender<Result<Result<(), Refusal>, StoreError>>),
}

impl Reply {
    /// The answer for a command that succeeded with `share` as its new state and
    /// appended the events `seqs` (a command's events are consecutive in the log).
    /// The share is cloned, and the seqs listed, only for callers that asked for them.
    pub fn succeeded(self, share: &Share, seqs: Range<u64>, replayed: bool) -> Answered {
        match self {
            Reply::Outcome(tx) => Answered::Outcome(
                tx,
                Ok(Ok(Box::new(Outcome {
                    share: share.clone(),
                    seqs: seqs.collect(),
                    replayed,
                }))),
            ),
            Reply::Ack(tx) => Answered::Ack(tx, Ok(Ok(()))),
        }
    }

    /// The answer for a command on a stream that is not a share's (an owner's): its
    /// caller asked only to know it is on disk.
    pub fn succeeded_without_state(self) -> Answered {
        match self {
            Reply::Outcome(tx) => Answered::Outcome(
                tx,
                Err(StoreError::Failed(
                    "an owner's command is acknowledged, not answered with a share".into(),
                )),
            ),
            Reply::Ack(tx) => Answered::Ack(tx, Ok(Ok(()))),
        }
    }

    pub fn failed(self, error: StoreError) -> Answered {
        match self {
            Reply::Outcome(tx) => Answered::Outcome(tx, Err(error)),
            Reply::Ack(tx) => Answered::Ack(tx, Err(error)),
        }
    }

    /// The answer for a command the rules refused: nothing was appended.
    pub fn refused(self, refusal: impl Into<Refusal>) -> Answered {
        let refusal = refusal.into();
        match self {
            Reply::Outcome(tx) => Answered::Outcome(tx, Ok(Err(refusal))),
            Reply::Ack(tx) => Answered::Ack(tx, Ok(Err(refusal))),
        }
    }
}

/// A reply channel with its result, waiting until the batch is durable.
pub enum Answered {
    /// Boxed: an outcome is large and most answers are acks.
    Outcome(
        oneshot::Sender<Result<Result<Outcome, Refusal>, StoreError>>,
        Result<Result<Box<Outcome>, Refusal>, StoreError>,
    ),
    Ack(
        oneshot::Sender<Result<Result<(), Refusal>, StoreError>>,
        Result<Result<(), Refusal>, StoreError>,
    ),
    /// A catch-up has nobody to answer.
    Nobody,
    /// Boxed like an outcome.
    Repeat(
        oneshot::Sender<Result<Result<Option<Share>, Refusal>, StoreError>>,
        Result<Result<Option<Box<Share>>, Refusal>, StoreError>,
    ),
}

impl Answered {
    /// Replaces the result with a failure: the batch did not reach the disk.
    pub fn into_failed(self, error: StoreError) -> Answered {
        match self {
            Answered::Outcome(tx, _) => Answered::Outcome(tx, Err(error)),
            Answered::Ack(tx, _) => Answered::Ack(tx, Err(error)),
            Answered::Repeat(tx, _) => Answered::Repeat(tx, Err(error)),
            Answered::Nobody => Answered::Nobody,
        }
    }

    pub fn send(self) {
        // A caller that went away (client disconnected) does not undo a durable write.
        match self {
            Answered::Outcome(tx, result) => {
                let _ = tx.send(result.map(|r| r.map(|o| *o)));
            }
            Answered::Ack(tx, result) => {
                let _ = tx.send(result);
            }
            Answered::Repeat(tx, result) => {
                let _ = tx.send(result.map(|r| r.map(|s| s.map(|s| *s))));
            }
            Answered::Nobody => {}
        }
    }
}
