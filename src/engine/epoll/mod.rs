//! The epoll engine: one `WorkerActor` per core on a thread of its own, each
//! with its own SO_REUSEPORT listener, edge-triggered epoll readiness
//! (half-closes included), and a loop-hosted mailbox whose sends wake the
//! poller.

mod worker;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use switchyard_actors::{Addr, Drained, LoopMailbox, RestartPolicy, SpawnOptions};

use super::control::Record;
use super::sys::epoll::Poller;
use super::{bind_all, sys, Control, Engine, Promoter, Watcher};
use crate::config::{EngineKind, Resolved};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;
use worker::{PollerWake, Turn, Worker, WorkerParts};

/// Control messages handled between two loop turns at most.
const CONTROL_BUDGET: usize = 16;

/// A worker as the engine sees it from outside.
struct WorkerHandle {
    /// The worker's thread.
    thread: JoinHandle<()>,
    /// Its mailbox.
    addr: Addr<Worker>,
    /// Its counters.
    counters: Arc<WorkerCounters>,
}

/// A running epoll engine.
pub struct EpollEngine {
    /// The bound address.
    addr: SocketAddr,
    /// One per worker.
    workers: Vec<WorkerHandle>,
}

impl EpollEngine {
    /// Binds every worker's listener, then starts the workers.
    pub fn start(
        cfg: &Resolved,
        table: Arc<SharedTable>,
        promoter: Promoter,
        watcher: Watcher,
    ) -> io::Result<Self> {
        let (addr, listeners) = bind_all(cfg.addr, cfg.listen_fd, cfg.workers)?;
        let mut workers = Vec::with_capacity(cfg.workers);
        for (id, listener) in listeners.into_iter().enumerate() {
            let parts = WorkerParts {
                id,
                addr,
                poller: Arc::new(Poller::new()?),
                table: table.clone(),
                cfg: cfg.conn,
                counters: Arc::new(WorkerCounters::default()),
                promoter: promoter.clone(),
                told: Record::default(),
            };
            let counters = parts.counters.clone();
            let (mailbox, worker_addr) = mailbox(parts, listener, watcher.clone());
            let pin = cfg.pin_workers.then_some(id);
            let thread = std::thread::Builder::new()
                .name(format!("switchyard-epoll-{id}"))
                .spawn(move || run(mailbox, pin))?;
            workers.push(WorkerHandle {
                thread,
                addr: worker_addr,
                counters,
            });
        }
        Ok(EpollEngine { addr, workers })
    }
}

/// The worker's mailbox. Its factory builds the first worker on the bound
/// `listener`; a worker rebuilt after a crash starts with no connections and
/// binds a listener of its own on the same address (SO_REUSEPORT), unless
/// it had been paused or told to shut down.
fn mailbox(
    parts: WorkerParts,
    listener: std::net::TcpListener,
    watcher: Watcher,
) -> (LoopMailbox<Worker>, Addr<Worker>) {
    let name = format!("epoll-worker-{}", parts.id);
    let wake = Arc::new(PollerWake(parts.poller.clone()));
    let mut first = Some(listener);
    let factory = move || {
        let listener = match first.take() {
            Some(l) => Some(l),
            None => parts
                .told
                .listener_after_crash(parts.id, parts.addr, &parts.counters),
        };
        Worker::new(&parts, listener)
    };
    let options = SpawnOptions::new(&name)
        .restart(RestartPolicy::default())
        .supervisor(watcher);
    LoopMailbox::new(factory, wake, options)
}

/// The worker thread: loop turns, with control messages between them, until
/// shutdown completes or the worker gives up after repeated crashes.
fn run(mut mailbox: LoopMailbox<Worker>, pin: Option<usize>) {
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

impl Engine for EpollEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Epoll
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
                tracing::error!("an epoll worker thread panicked");
            }
        }
    }

    fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.workers.iter().map(|w| w.counters.clone()).collect()
    }
}
