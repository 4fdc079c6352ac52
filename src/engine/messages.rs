//! The messages every engine's workers obey (their control inbox): pause,
//! resume and shutdown, with the acknowledgement port they carry.

use std::io;
use std::time::Instant;

/// Where a worker acknowledges a control message, with its outcome.
pub type Ack = flume::Sender<io::Result<()>>;

/// The control messages every worker obeys; they are never queued behind work.
#[derive(Debug)]
pub enum Control {
    /// Stop accepting new connections (existing ones are served); the worker
    /// sends on `done` once its listener is closed.
    PauseAccept {
        /// Acknowledgement.
        done: Ack,
    },
    /// Accept again; the worker sends on `done` once it listens again (or
    /// why it cannot).
    ResumeAccept {
        /// Acknowledgement.
        done: Ack,
    },
    /// Stop accepting, close idle connections, let in-flight requests finish
    /// until `deadline`, then stop.
    Shutdown {
        /// When the remaining connections are closed regardless.
        deadline: Instant,
    },
    /// Panics the worker: a fault for the tests of its supervision.
    #[cfg(test)]
    Crash,
}
