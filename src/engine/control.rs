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

use super::listen::SharedPort;
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

/// What outlives a worker instance.
#[derive(Debug, Default)]
struct Lasting {
    /// What control told it.
    told: Told,
    /// A second descriptor of its listening socket, while it listens: the
    /// socket (and the connections queued in its backlog) outlives a crash,
    /// so clients the kernel queued for this worker wait for the rebuilt
    /// instance instead of being reset with the old listener.
    listener: Option<TcpListener>,
}

/// What control told a worker, and its listening socket, shared by the
/// worker and the instances rebuilt after it crashes.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// What outlives the worker.
    lasting: Arc<Mutex<Lasting>>,
    /// Where its listeners come from when they are shared with another
    /// engine (the adaptive engine's): the port and this worker's index in
    /// it. `None`: each listener is a fresh SO_REUSEPORT bind of its own.
    port: Option<(Arc<SharedPort>, usize)>,
}

impl Record {
    /// The record of worker `index` listening on `port`'s sockets, told to
    /// accept or not yet (paused) from the start.
    pub(crate) fn on_port(port: Arc<SharedPort>, index: usize, accepting: bool) -> Self {
        let record = Record {
            lasting: Arc::default(),
            port: Some((port, index)),
        };
        record.update(|t| t.paused = !accepting);
        record
    }

    /// The shared state.
    fn lock(&self) -> std::sync::MutexGuard<'_, Lasting> {
        self.lasting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the worker's listening socket is shared with another
    /// engine's worker: its open file (and so its non-blocking flag) is
    /// theirs too.
    pub fn is_shared(&self) -> bool {
        self.port.is_some()
    }

    /// A listener to accept on from now: a second descriptor of the
    /// shared port's socket (bound afresh if the port was closed), or a
    /// fresh SO_REUSEPORT socket on `addr`.
    pub fn fresh_listener(&self, addr: SocketAddr) -> io::Result<TcpListener> {
        match &self.port {
            Some((port, index)) => port.listener(*index),
            None => sys::reuseport_listener(addr),
        }
    }

    /// What the worker was told so far.
    pub fn get(&self) -> Told {
        self.lock().told
    }

    /// Changes the record; answers the new state.
    fn update(&self, change: impl FnOnce(&mut Told)) -> Told {
        let mut lasting = self.lock();
        change(&mut lasting.told);
        lasting.told
    }

    /// The worker listens on `listener` now: keeps a second descriptor of
    /// it for an instance rebuilt after a crash.
    pub fn keep_listener(&self, listener: &TcpListener) {
        match listener.try_clone() {
            Ok(l) => self.lock().listener = Some(l),
            Err(e) => tracing::warn!(error = %e, "cannot keep the listener across a crash"),
        }
    }

    /// The worker closed its listener: the kept descriptor closes too (the
    /// socket must stop queueing connections nobody will accept).
    pub fn forget_listener(&self) {
        self.lock().listener = None;
    }

    /// Counts a restart of the worker and gives the listener the instance
    /// rebuilt after its crash starts with: none when the worker was paused
    /// or is draining; else the socket the crashed instance listened on
    /// (its queued connections intact), or a fresh SO_REUSEPORT one on
    /// `addr` if it had none. A failure to bind is reported and counted; the
    /// worker then runs without a listener (the other workers accept on the
    /// same port) until a resume binds again.
    pub fn listener_after_crash(
        &self,
        worker: usize,
        addr: SocketAddr,
        counters: &WorkerCounters,
    ) -> Option<TcpListener> {
        tracing::warn!(worker, "restarting a crashed worker");
        counters.restarts.add(1);
        let (told, kept) = {
            let mut lasting = self.lock();
            (lasting.told, lasting.listener.take())
        };
        if told.paused || told.draining_until.is_some() {
            return None;
        }
        if let Some(l) = kept {
            return Some(l);
        }
        match self.fresh_listener(addr) {
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
    /// Listens again on [`Record::fresh_listener`] (only called while none
    /// is open).
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
