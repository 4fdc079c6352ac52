//! The reply port a request message carries back to its asker.

use std::fmt;

/// The port through which an actor answers one ask.
///
/// It travels inside the request message. Sending consumes it, so an ask gets
/// at most one answer; dropping it unsent makes the ask fail at once with an
/// error whose `is_closed()` is true, rather than waiting out its timeout.
pub struct Reply<T> {
    /// Capacity-one channel: the single answer never blocks the actor.
    tx: flume::Sender<T>,
}

impl<T> Reply<T> {
    pub(crate) fn pair() -> (Reply<T>, flume::Receiver<T>) {
        let (tx, rx) = flume::bounded(1);
        (Reply { tx }, rx)
    }

    /// Answers the ask. Returns false when the asker has already given up
    /// (timed out or was dropped); the value is then discarded.
    pub fn send(self, value: T) -> bool {
        self.tx.try_send(value).is_ok()
    }

    /// True when the asker no longer waits, so the work to answer may be skipped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_disconnected()
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("closed", &self.is_closed())
            .finish()
    }
}
