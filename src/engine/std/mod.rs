//! The std engine: portable, on actix-rt arbiters and tokio sockets. One
//! arbiter per worker, each accepting on its own SO_REUSEPORT listener; each
//! connection is a local task on its worker's arbiter that detects the
//! protocol and serves HTTP/1.1 through `conn` (sync routes on the arbiter,
//! async routes off it) or h2c through `conn::h2`; with TLS configured, it
//! completes the handshake first and ALPN picks h2 or HTTP/1.1 (`tls`).

mod conn;
#[cfg(feature = "tls")]
mod tls;
mod worker;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{bind_all, Control, Engine, Watcher};
use crate::config::{EngineKind, Resolved};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;
use worker::Worker;

/// A worker as the engine sees it from outside.
struct WorkerHandle {
    /// The arbiter the worker runs on.
    arbiter: actix_rt::Arbiter,
    /// Its control inbox.
    control: flume::Sender<Control>,
    /// Signalled once the worker has stopped (after a shutdown).
    done: flume::Receiver<()>,
    /// Its counters.
    counters: Arc<WorkerCounters>,
}

/// A running std engine.
pub struct StdEngine {
    /// The bound address.
    addr: SocketAddr,
    /// One per worker.
    workers: Vec<WorkerHandle>,
}

impl StdEngine {
    /// Binds every worker's listener, then starts one arbiter per worker.
    /// Must be called inside an actix-rt System.
    pub fn start(cfg: &Resolved, table: Arc<SharedTable>, watcher: Watcher) -> io::Result<Self> {
        let (addr, listeners) = bind_all(cfg.addr, cfg.listen_fd, cfg.workers)?;
        let mut workers = Vec::with_capacity(cfg.workers);
        for (id, listener) in listeners.into_iter().enumerate() {
            let counters = Arc::new(WorkerCounters::default());
            // Control messages are few (pause, resume, shutdown); a full inbox
            // reports an error instead of blocking the sender.
            let (tx, rx) = flume::bounded(64);
            let (done_tx, done_rx) = flume::bounded(1);
            let worker = Worker {
                id,
                addr,
                listener,
                control: rx,
                done: done_tx,
                table: table.clone(),
                cfg: cfg.clone(),
                counters: counters.clone(),
                watcher: watcher.clone(),
            };
            let arbiter = actix_rt::Arbiter::new();
            // The worker's future is not Send (its connections share Rc
            // state), so it is built on the arbiter itself.
            if !arbiter.spawn_fn(move || {
                actix_rt::spawn(worker.run());
            }) {
                return Err(io::Error::other("a std worker's arbiter stopped at start"));
            }
            workers.push(WorkerHandle {
                arbiter,
                control: tx,
                done: done_rx,
                counters,
            });
        }
        Ok(StdEngine { addr, workers })
    }
}

impl Engine for StdEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Std
    }

    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn workers(&self) -> usize {
        self.workers.len()
    }

    fn control(&self, msg: &dyn Fn() -> Control) -> io::Result<()> {
        super::tell_all(&self.workers, msg, |w, m| w.control.try_send(m))
    }

    fn join(self: Box<Self>) {
        let mut arbiters = Vec::with_capacity(self.workers.len());
        for w in self.workers {
            // The worker signals (or drops its sender) when it stops.
            let _ = w.done.recv();
            w.arbiter.stop();
            arbiters.push(w.arbiter);
        }
        // A plain handler still blocking on an arbiter's blocking pool keeps
        // that runtime from ending; it must not hold the server's stop.
        super::join_within(Instant::now() + Duration::from_secs(1), move || {
            for a in arbiters {
                if a.join().is_err() {
                    tracing::error!("a std worker's arbiter thread panicked");
                }
            }
        });
    }

    fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.workers.iter().map(|w| w.counters.clone()).collect()
    }
}
