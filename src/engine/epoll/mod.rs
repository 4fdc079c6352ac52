//! The epoll engine: one worker thread per core, each with its own
//! SO_REUSEPORT listener, edge-triggered readiness from the `polling` crate,
//! and a control inbox that wakes its loop.

mod slab;
mod worker;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use polling::Poller;

use super::{bind_all, Control, Engine, Promoter};
use crate::config::{EngineKind, Resolved};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;
use worker::Worker;

/// A worker as the engine sees it from outside.
struct WorkerHandle {
    /// The worker's thread.
    thread: JoinHandle<()>,
    /// Its control inbox.
    control: flume::Sender<Control>,
    /// Its poller, to wake the loop after a send.
    poller: Arc<Poller>,
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
    pub fn start(cfg: &Resolved, table: Arc<SharedTable>, promoter: Promoter) -> io::Result<Self> {
        let (addr, listeners) = bind_all(cfg.addr, cfg.workers)?;
        let mut workers = Vec::with_capacity(cfg.workers);
        for (id, listener) in listeners.into_iter().enumerate() {
            let poller = Arc::new(Poller::new()?);
            let counters = Arc::new(WorkerCounters::default());
            // Control messages are few (pause, resume, shutdown) and sent by the
            // server actor only; a small bound is never reached in practice and
            // a full inbox reports an error instead of blocking the sender.
            let (tx, rx) = flume::bounded(64);
            let worker = Worker::new(
                id,
                addr,
                listener,
                poller.clone(),
                rx,
                table.clone(),
                cfg.conn,
                counters.clone(),
                promoter.clone(),
            )?;
            let pin = cfg.pin_workers.then_some(id);
            let thread = std::thread::Builder::new()
                .name(format!("switchyard-epoll-{id}"))
                .spawn(move || worker.run(pin))?;
            workers.push(WorkerHandle {
                thread,
                control: tx,
                poller,
                counters,
            });
        }
        Ok(EpollEngine { addr, workers })
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
        for w in &self.workers {
            w.control
                .try_send(msg())
                .map_err(|e| io::Error::other(format!("worker inbox: {e}")))?;
            w.poller.notify()?;
        }
        Ok(())
    }

    fn join(self: Box<Self>) {
        for w in self.workers {
            if w.thread.join().is_err() {
                tracing::error!("an epoll worker thread panicked");
            }
        }
    }

    fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.workers.iter().map(|w| w.counters.clone()).collect()
    }
}
