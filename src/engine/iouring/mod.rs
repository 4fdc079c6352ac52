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
use std::sync::Arc;

use super::hosted::{Identity, LoopEngine};
use super::listen::{worker_starts, Listen};
use super::{Engine, Handoff, Watcher};
use crate::config::{EngineKind, Resolved};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;
pub use probe::FORCE_VAR;
use wake::{EventFd, EventFdWake};
use worker::{Worker, WorkerParts};

/// Why io_uring cannot run here, if it cannot (the probe `start` makes).
pub fn refusal() -> Option<String> {
    probe::probe().err()
}

/// Probes io_uring, binds every worker's listener (or takes the shared
/// port's, as `plan` says), then starts the workers. A refused io_uring is
/// an `Unsupported` error whose text names the cause.
pub fn start(
    cfg: &Resolved,
    table: Arc<SharedTable>,
    handoff: Handoff,
    watcher: Watcher,
    plan: &Listen,
) -> io::Result<Box<dyn Engine>> {
    let caps = probe::probe().map_err(|why| {
        io::Error::new(
            io::ErrorKind::Unsupported,
            format!("engine io-uring is not available: {why}"),
        )
    })?;
    tracing::info!(tiers = %caps.describe(), "io_uring engine");
    let (addr, starts) = worker_starts(cfg, plan)?;
    let mut engine = LoopEngine::new(EngineKind::IoUring, addr);
    for (id, (listener, told)) in starts.into_iter().enumerate() {
        let parts = WorkerParts {
            id,
            addr,
            wake: Arc::new(EventFd::new()?),
            caps,
            table: table.clone(),
            cfg: cfg.conn,
            counters: Arc::new(WorkerCounters::default()),
            promoter: handoff.promoter.clone(),
            protocol: cfg.protocol,
            h2: cfg.h2,
            streams: handoff.streams.clone(),
            told,
        };
        let who = Identity {
            id,
            addr,
            told: parts.told.clone(),
            counters: parts.counters.clone(),
        };
        let wake = Arc::new(EventFdWake(parts.wake.clone()));
        let pin = cfg.pin_workers.then_some(id);
        engine.spawn(who, listener, pin, wake, watcher.clone(), move |l| {
            Worker::new(&parts, l)
        })?;
    }
    Ok(Box::new(engine))
}
