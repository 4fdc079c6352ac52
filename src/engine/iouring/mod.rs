//! The io_uring engine: one `WorkerActor` per core on a thread of its own,
//! each with its own ring and SO_REUSEPORT listener, completion-driven
//! (multishot accept and receive on a provided-buffer ring where the kernel
//! has them, single-shot otherwise), and a loop-hosted mailbox whose sends
//! write an eventfd the ring polls. Capabilities are probed once at start;
//! a kernel (or sandbox) that refuses io_uring makes `start` fail with the
//! reason, never a silent fallback.
//!
//! `unsafe` is allowed in this module (and `engine/sys`) only: every SQE
//! push, the provided-buffer ring's memory, and the eventfd.
#![allow(unsafe_code)]

mod bufs;
mod probe;
mod ring;
mod wake;
mod worker;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use switchyard_actors::{Addr, Drained, LoopMailbox, RestartPolicy, SpawnOptions};

use super::control::Record;
use super::{bind_all, sys, Control, Engine, Promoter, Watcher};
use crate::config::{EngineKind, Resolved};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;
pub use probe::FORCE_VAR;
use wake::{EventFd, EventFdWake};
use worker::{Turn, Worker, WorkerParts};

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

/// Why io_uring cannot run here, if it cannot (the probe `start` makes).
pub fn refusal() -> Option<String> {
    probe::probe().err()
}

/// A running io_uring engine.
pub struct IoUringEngine {
    /// The bound address.
    addr: SocketAddr,
    /// One per worker.
    workers: Vec<WorkerHandle>,
}

impl IoUringEngine {
    /// Probes io_uring, binds every worker's listener, then starts the
    /// workers. A refused io_uring is an `Unsupported` error whose text
    /// names the cause.
    pub fn start(
        cfg: &Resolved,
        table: Arc<SharedTable>,
        promoter: Promoter,
        watcher: Watcher,
    ) -> io::Result<Self> {
        let caps = probe::probe().map_err(|why| {
            io::Error::new(
                io::ErrorKind::Unsupported,
                format!("engine io-uring is not available: {why}"),
            )
        })?;
        tracing::info!(tiers = %caps.describe(), "io_uring engine");
        let (addr, listeners) = bind_all(cfg.addr, cfg.listen_fd, cfg.workers)?;
        let mut workers = Vec::with_capacity(cfg.workers);
        for (id, listener) in listeners.into_iter().enumerate() {
            let parts = WorkerParts {
                id,
                addr,
                wake: Arc::new(EventFd::new()?),
                caps,
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
                .name(format!("switchyard-uring-{id}"))
                .spawn(move || run(mailbox, pin))?;
            workers.push(WorkerHandle {
                thread,
                addr: worker_addr,
                counters,
            });
        }
        Ok(IoUringEngine { addr, workers })
    }
}

/// The worker's mailbox. Its factory builds the first worker (and its ring,
/// on the worker's thread) on the bound `listener`; a worker rebuilt after a
/// crash starts with no connections on the listening socket the crashed one
/// had (kept by the record, its queue intact), unless it had been paused or
/// told to shut down.
fn mailbox(
    parts: WorkerParts,
    listener: std::net::TcpListener,
    watcher: Watcher,
) -> (LoopMailbox<Worker>, Addr<Worker>) {
    let name = format!("io-uring-worker-{}", parts.id);
    let wake = Arc::new(EventFdWake(parts.wake.clone()));
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

impl Engine for IoUringEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::IoUring
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
                tracing::error!("an io_uring worker thread panicked");
            }
        }
    }

    fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.workers.iter().map(|w| w.counters.clone()).collect()
    }
}
