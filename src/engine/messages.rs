//! The messages every engine's workers obey (their control inbox): pause,
//! resume and shutdown, with the acknowledgement port they carry.

use std::io;
use std::time::{Duration, Instant};

use super::Engine;

/// Where a worker acknowledges a control message, with its outcome.
pub type Ack = flume::Sender<io::Result<()>>;

/// How long a control message waits for every worker's acknowledgement (a
/// worker acknowledges at the end of its current turn).
pub const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The acknowledgements of a control message told to every worker.
pub struct Acks {
    /// Where they arrive.
    rx: flume::Receiver<io::Result<()>>,
    /// How many are due.
    workers: usize,
}

/// Tells every worker of `engine` the message `msg` builds around an
/// acknowledgement port; [`Acks::wait`] waits for the answers.
pub fn ask_all(engine: &dyn Engine, msg: fn(Ack) -> Control) -> io::Result<Acks> {
    let (done, rx) = flume::unbounded();
    engine.control(&|| msg(done.clone()))?;
    Ok(Acks {
        rx,
        workers: engine.workers(),
    })
}

impl Acks {
    /// Waits (at most [`ACK_TIMEOUT`]) until every worker acknowledged;
    /// answers the first failure.
    pub fn wait(self) -> io::Result<()> {
        let deadline = Instant::now() + ACK_TIMEOUT;
        let mut outcome = Ok(());
        for _ in 0..self.workers {
            let ack = self.rx.recv_deadline(deadline).unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "not every worker acknowledged",
                ))
            });
            if outcome.is_ok() {
                outcome = ack;
            }
        }
        outcome
    }
}

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
