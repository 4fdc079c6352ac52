//! What control messages do to a worker, written once for every engine:
//! pause closes the listener (serving what the kernel already queued),
//! resume binds a fresh one, shutdown stops accepting and drains; the record
//! of what a worker was told outlives the worker, so an instance rebuilt
//! after a crash stays paused or draining.
//!
//! An engine's worker supplies the moves ([`Accepting`]); [`obey`] decides.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{sys, Control};
use crate::metrics::WorkerCounters;

/// The lasting effect of control messages on a worker.
#[derive(Clone, Copy, Debug, Default)]
pub struct Told {
    /// Accepting is paused.
    pub paused: bool,
    /// Shutdown began: the drain deadline.
    pub draining_until: Option<Instant>,
}

/// What control told a worker, shared by the worker and the instances
/// rebuilt after it crashes.
#[derive(Clone, Debug, Default)]
pub struct Record(Arc<Mutex<Told>>);

impl Record {
    /// What the worker was told so far.
    pub fn get(&self) -> Told {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the record; answers the new state.
    fn update(&self, change: impl FnOnce(&mut Told)) -> Told {
        let mut told = self.0.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut told);
        *told
    }

    /// The listener an instance rebuilt after a crash starts with: none when
    /// the worker was paused or is draining, else a fresh SO_REUSEPORT one on
    /// `addr`. A failure to bind is reported and counted; the worker then
    /// runs without a listener (the other workers accept on the same port)
    /// until a resume binds again.
    pub fn listener_after_crash(
        &self,
        worker: usize,
        addr: SocketAddr,
        counters: &WorkerCounters,
    ) -> Option<TcpListener> {
        tracing::warn!(worker, "restarting a crashed worker");
        let told = self.get();
        if told.paused || told.draining_until.is_some() {
            return None;
        }
        match sys::reuseport_listener(addr) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(worker, error = %e, "a restarted worker cannot bind; not accepting");
                counters.errors.add(1);
                None
            }
        }
    }
}

/// The moves of an engine's worker that control messages are made of.
pub trait Accepting {
    /// Index among the workers (for the log).
    fn id(&self) -> usize;
    /// A listener is open.
    fn is_listening(&self) -> bool;
    /// Stops accepting: connections the kernel already completed are
    /// adopted and served like any other (not reset with their requests
    /// unread), then the listener closes. Nothing when none is open.
    fn close_listener(&mut self);
    /// Listens again on a fresh SO_REUSEPORT listener on the worker's
    /// address (only called while none is open).
    fn open_listener(&mut self) -> io::Result<()>;
    /// Shutdown began: connections finish by `deadline` (idle ones close
    /// now); the worker stops once none is left or the deadline passed.
    fn drain(&mut self, deadline: Instant);
}

/// Obeys a control message, recording its lasting effect in `record`.
pub fn obey(worker: &mut impl Accepting, record: &Record, msg: Control) {
    match msg {
        Control::PauseAccept { done } => {
            record.update(|t| t.paused = true);
            worker.close_listener();
            let _ = done.send(Ok(()));
        }
        Control::ResumeAccept { done } => {
            let told = record.update(|t| t.paused = false);
            let outcome = if worker.is_listening() || told.draining_until.is_some() {
                Ok(())
            } else {
                worker.open_listener().inspect_err(|e| {
                    tracing::error!(worker = worker.id(), error = %e, "resume accept failed");
                })
            };
            let _ = done.send(outcome);
        }
        Control::Shutdown { deadline } => {
            record.update(|t| t.draining_until = Some(deadline));
            worker.close_listener();
            worker.drain(deadline);
        }
        #[cfg(test)]
        Control::Crash => panic!("worker {}: crash injected by a test", worker.id()),
    }
}
