//! The kernel's opaque error types: a failed send hands the message back, a failed ask says why.

use std::fmt;

/// Why a message could not be queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SendKind {
    Full,
    Closed,
}

/// A message that could not be queued, handed back to its sender.
///
/// A send never blocks and never silently drops: when the lane is full or the
/// actor is gone, the caller gets its message back and decides what to do.
pub struct SendError<M> {
    /// What went wrong; private so new causes do not break callers.
    kind: SendKind,
    /// The message that was not queued.
    msg: M,
}

impl<M> SendError<M> {
    pub(crate) fn full(msg: M) -> Self {
        SendError {
            kind: SendKind::Full,
            msg,
        }
    }

    pub(crate) fn closed(msg: M) -> Self {
        SendError {
            kind: SendKind::Closed,
            msg,
        }
    }

    /// True when the lane was at capacity; retrying later may succeed.
    pub fn is_full(&self) -> bool {
        self.kind == SendKind::Full
    }

    /// True when the actor has stopped; no later send can succeed.
    pub fn is_closed(&self) -> bool {
        self.kind == SendKind::Closed
    }

    /// Takes back the message that was not queued.
    pub fn into_inner(self) -> M {
        self.msg
    }

    /// Borrows the message that was not queued.
    pub fn message(&self) -> &M {
        &self.msg
    }

    pub(crate) fn map<N>(self, f: impl FnOnce(M) -> N) -> SendError<N> {
        SendError {
            kind: self.kind,
            msg: f(self.msg),
        }
    }

    pub(crate) fn from_flume(err: flume::TrySendError<M>) -> Self {
        match err {
            flume::TrySendError::Full(msg) => SendError::full(msg),
            flume::TrySendError::Disconnected(msg) => SendError::closed(msg),
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    // The message need not be Debug; the kind is what a log line needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SendKind::Full => f.write_str("the actor's mailbox is full"),
            SendKind::Closed => f.write_str("the actor has stopped"),
        }
    }
}

impl<M> std::error::Error for SendError<M> {}

/// Why an ask got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AskKind {
    Full,
    Closed,
    Dropped,
    Timeout,
}

/// An ask that produced no reply.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AskError {
    /// What went wrong; private so new causes do not break callers.
    kind: AskKind,
}

impl AskError {
    pub(crate) fn from_send<M>(err: &SendError<M>) -> Self {
        let kind = if err.is_full() {
            AskKind::Full
        } else {
            AskKind::Closed
        };
        AskError { kind }
    }

    pub(crate) fn dropped() -> Self {
        AskError {
            kind: AskKind::Dropped,
        }
    }

    pub(crate) fn timeout() -> Self {
        AskError {
            kind: AskKind::Timeout,
        }
    }

    /// True when no reply came within the ask's timeout.
    pub fn is_timeout(&self) -> bool {
        self.kind == AskKind::Timeout
    }

    /// True when the actor is gone or dropped the reply port without answering.
    pub fn is_closed(&self) -> bool {
        matches!(self.kind, AskKind::Closed | AskKind::Dropped)
    }

    /// True when the question could not be queued because the mailbox was full.
    pub fn is_full(&self) -> bool {
        self.kind == AskKind::Full
    }
}

impl fmt::Debug for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AskError")
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            AskKind::Full => "ask not sent: the actor's mailbox is full",
            AskKind::Closed => "ask not answered: the actor has stopped",
            AskKind::Dropped => "ask not answered: the actor dropped the reply port",
            AskKind::Timeout => "ask not answered in time",
        })
    }
}

impl std::error::Error for AskError {}
