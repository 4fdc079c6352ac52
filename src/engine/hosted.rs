//! What the loop engines (epoll, io_uring) share around their workers: each
//! worker is an actor hosted by a `LoopMailbox` on a thread of its own,
//! rebuilt after a crash on the listening socket its control record kept;
//! the thread's loop of turns and control messages; and the engine's
//! answers to the server.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use switchyard_actors::{Actor, Addr, Drained, LoopMailbox, RestartPolicy, SpawnOptions, Wake};

use super::control::Record;
use super::{sys, Control, Engine, Watcher};
use crate::config::EngineKind;
use crate::metrics::WorkerCounters;

/// Control messages handled between two loop turns at most.
const CONTROL_BUDGET: usize = 16;

/// What the loop does after a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// Keep going.
    Continue,
    /// Shutdown is complete: stop the loop.
    Stop,
}

/// A worker a loop engine hosts: an actor obeying [`Control`] whose thread
/// calls [`turn`](Self::turn) between its messages.
pub(crate) trait LoopWorker: Actor<Msg = Control> {
    /// One loop turn: wait for I/O (or the next tick) and serve it.
    fn turn(&mut self) -> Turn;
}

/// Who a worker is, for rebuilding it after a crash.
pub(crate) struct Identity {
    /// Index among the workers.
    pub(crate) id: usize,
    /// The listen address (a fresh bind when the kept socket is gone).
    pub(crate) addr: SocketAddr,
    /// What control told it, and its listening socket.
    pub(crate) told: Record,
    /// Its counters (restarts are counted there).
    pub(crate) counters: Arc<WorkerCounters>,
}

/// A worker as its engine sees it from outside.
struct Hosted<W: Actor> {
    /// The worker's thread.
    thread: JoinHandle<()>,
    /// Its mailbox.
    addr: Addr<W>,
    /// Its counters.
    counters: Arc<WorkerCounters>,
}

/// A running loop engine.
pub(crate) struct LoopEngine<W: Actor> {
    /// Which engine.
    kind: EngineKind,
    /// The bound address.
    addr: SocketAddr,
    /// One per worker.
    workers: Vec<Hosted<W>>,
}

impl<W: LoopWorker> LoopEngine<W> {
    /// An engine of `kind` on `addr`, no worker yet.
    pub(crate) fn new(kind: EngineKind, addr: SocketAddr) -> Self {
        LoopEngine {
            kind,
            addr,
            workers: Vec::new(),
        }
    }

    /// Starts a worker on a thread of its own (pinned to CPU `pin` if
    /// asked), hosted by [`mailbox`]; `listener` is none for a worker that
    /// starts paused.
    pub(crate) fn spawn(
        &mut self,
        who: Identity,
        listener: Option<TcpListener>,
        pin: Option<usize>,
        wake: Arc<dyn Wake>,
        watcher: Watcher,
        build: impl FnMut(Option<TcpListener>) -> W + Send + 'static,
    ) -> io::Result<()> {
        let name = format!("switchyard-{}-{}", self.kind, who.id);
        let counters = who.counters.clone();
        let (mailbox, addr) = mailbox(self.kind, who, listener, wake, watcher, build);
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || run(mailbox, pin))?;
        self.workers.push(Hosted {
            thread,
            addr,
            counters,
        });
        Ok(())
    }
}

/// A worker's mailbox, named `<engine>-worker-<id>` for the supervisor.
/// `build` makes each instance: the first on `listener` (none: it starts
/// paused), one rebuilt after a
/// crash on the socket the record kept (none if it was paused or is
/// draining; a fresh bind if it had none).
pub(crate) fn mailbox<W: LoopWorker>(
    kind: EngineKind,
    who: Identity,
    listener: Option<TcpListener>,
    wake: Arc<dyn Wake>,
    watcher: Watcher,
    mut build: impl FnMut(Option<TcpListener>) -> W + Send + 'static,
) -> (LoopMailbox<W>, Addr<W>) {
    let name = format!("{kind}-worker-{}", who.id);
    let mut first = Some(listener);
    let factory = move || {
        let listener = match first.take() {
            Some(l) => l,
            None => who
                .told
                .listener_after_crash(who.id, who.addr, &who.counters),
        };
        build(listener)
    };
    let options = SpawnOptions::new(&name)
        .restart(RestartPolicy::default())
        .supervisor(watcher);
    LoopMailbox::new(factory, wake, options)
}

/// The worker thread: loop turns, with control messages between them, until
/// shutdown completes or the worker gives up after repeated crashes.
fn run<W: LoopWorker>(mut mailbox: LoopMailbox<W>, pin: Option<usize>) {
    if let Some(cpu) = pin {
        if let Err(e) = sys::pin_current_thread(cpu) {
            tracing::warn!(cpu, error = %e, "could not pin a worker to its CPU");
        }
    }
    loop {
        let turn = mailbox.with_actor(|worker, _| worker.turn());
        match mailbox.drain(CONTROL_BUDGET) {
            Drained::Stopped => break,
            Drained::Backoff(until) => {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
                continue;
            }
            Drained::Idle | Drained::More => {}
        }
        match turn {
            Some(Turn::Continue) => {}
            Some(Turn::Stop) => break,
            None if mailbox.is_stopped() => break,
            None => {}
        }
    }
}

impl<W: LoopWorker> Engine for LoopEngine<W> {
    fn kind(&self) -> EngineKind {
        self.kind
    }

    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn workers(&self) -> usize {
        self.workers.len()
    }

    fn control(&self, msg: &dyn Fn() -> Control) -> io::Result<()> {
        super::tell_all(&self.workers, msg, |w, m| w.addr.tell_control(m))
    }

    fn join(self: Box<Self>) {
        for w in self.workers {
            // The address stays alive until the thread ends: dropping the
            // last one would stop the worker before its drain completes.
            if w.thread.join().is_err() {
                tracing::error!(engine = %self.kind, "a worker thread panicked");
            }
        }
    }

    fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.workers.iter().map(|w| w.counters.clone()).collect()
    }
}
