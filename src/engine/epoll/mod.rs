//! The epoll engine: one `WorkerActor` per core on a thread of its own, each
//! with its own SO_REUSEPORT listener, edge-triggered epoll readiness
//! (half-closes included), and a loop-hosted mailbox whose sends wake the
//! poller.

mod worker;

use std::io;
use std::sync::Arc;

use super::hosted::{Identity, LoopEngine};
use super::listen::{worker_starts, Listen};
use super::sys::epoll::Poller;
use super::{Engine, Handoff, Watcher};
use crate::config::{EngineKind, Resolved};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;
use worker::{PollerWake, Worker, WorkerParts};

/// Binds every worker's listener (or takes the shared port's, as `plan`
/// says), then starts the workers.
pub fn start(
    cfg: &Resolved,
    table: Arc<SharedTable>,
    handoff: Handoff,
    watcher: Watcher,
    plan: &Listen,
) -> io::Result<Box<dyn Engine>> {
    let (addr, starts) = worker_starts(cfg, plan)?;
    let mut engine = LoopEngine::new(EngineKind::Epoll, addr);
    for (id, (listener, told)) in starts.into_iter().enumerate() {
        let parts = WorkerParts {
            id,
            addr,
            poller: Arc::new(Poller::new()?),
            table: table.clone(),
            cfg: cfg.conn,
            protocol: cfg.protocol,
            h2: cfg.h2,
            counters: Arc::new(WorkerCounters::default()),
            promoter: handoff.promoter.clone(),
            streams: handoff.streams.clone(),
            told,
        };
        let who = Identity {
            id,
            addr,
            told: parts.told.clone(),
            counters: parts.counters.clone(),
        };
        let wake = Arc::new(PollerWake(parts.poller.clone()));
        let pin = cfg.pin_workers.then_some(id);
        engine.spawn(who, listener, pin, wake, watcher.clone(), move |l| {
            Worker::new(&parts, l)
        })?;
    }
    Ok(Box::new(engine))
}
