//! Engines: what every engine provides, the control messages every worker
//! obeys, and the one place a backend is picked.
//!
//! The epoll and io_uring engines are Linux-only and compiled only there
//! (`#[cfg(target_os = "linux")]` below and in `sys`); the std engine
//! builds wherever tokio does. io_uring is probed at start: where the
//! kernel or a sandbox refuses it, starting that engine fails with the
//! reason.
//!
//! Every engine must:
//! - bind its listeners on the resolved address (port 0 resolved once, before
//!   the workers bind) and report the real address;
//! - serve HTTP/1.1 through `conn` (no HTTP logic of its own), with the
//!   connection deadlines and output cap of `ConnConfig`;
//! - hand a connection whose request resolves async to the [`Promoter`], and
//!   an h2c stream's async work to the [`StreamRunner`] (loop engines), or
//!   run async routes off its workers itself (std);
//! - obey [`Control`]: pause/resume accepting, shutdown with a grace period;
//! - keep per-worker counters the metrics actor can read.

pub mod adaptive;
pub mod control;
#[cfg(target_os = "linux")]
pub mod epoll;
pub mod faults;
#[cfg(target_os = "linux")]
mod hosted;
#[cfg(target_os = "linux")]
pub mod iouring;
mod listen;
pub mod messages;
mod promote;
// `std` would shadow the standard library's name inside this module.
#[path = "std/mod.rs"]
pub mod std_engine;
pub mod sys;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

pub use listen::{bind_all, Listen, SharedPort};
pub use messages::{ask_all, Ack, Acks, Control, ACK_TIMEOUT};
pub use promote::{Promoter, Promotion};

use switchyard_actors::{ExitEvent, Recipient};

use crate::config::{EngineKind, Resolved};
use crate::conn::h2::StreamRunner;
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;

/// A running engine.
pub trait Engine: Send {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;
    /// The address the listeners are bound to.
    fn local_addr(&self) -> SocketAddr;
    /// Number of workers.
    fn workers(&self) -> usize;
    /// Sends a control message to every worker.
    fn control(&self, msg: &dyn Fn() -> Control) -> io::Result<()>;
    /// Waits for every worker to stop (after a `Shutdown`).
    fn join(self: Box<Self>);
    /// Every worker's counters.
    fn counters(&self) -> Vec<Arc<WorkerCounters>>;
    /// The adaptive engine's handle (`None` for every other engine).
    fn adaptive(&self) -> Option<adaptive::Handle> {
        None
    }
}

/// Runs `join` on a thread of its own and waits for it at most until
/// `until`; past that the joining thread is left behind (it ends with the
/// process).
pub(crate) fn join_within(until: Instant, join: impl FnOnce() + Send + 'static) {
    let (done, joined) = flume::bounded(1);
    let spawned = std::thread::Builder::new()
        .name("switchyard-join".into())
        .spawn(move || {
            join();
            let _ = done.send(());
        });
    if spawned.is_ok() && joined.recv_deadline(until).is_err() {
        tracing::warn!("threads still busy at the shutdown deadline were left running");
    }
}

/// Sends `msg()` to every worker through `send`, telling every one even when
/// one cannot be told (a shutdown must reach all the others); answers with
/// the first failure.
pub(crate) fn tell_all<W, E: std::fmt::Display>(
    workers: &[W],
    msg: &dyn Fn() -> Control,
    send: impl Fn(&W, Control) -> Result<(), E>,
) -> io::Result<()> {
    let mut first_error = None;
    for w in workers {
        if let Err(e) = send(w, msg()) {
            first_error.get_or_insert(io::Error::other(format!("worker inbox: {e}")));
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Where a worker's exits are reported (a panic, and giving up after
/// repeated ones): the server's supervisor. Workers are named
/// `<engine>-worker-<index>`.
pub type Watcher = Recipient<ExitEvent>;

/// Where a loop engine sends what its workers do not run themselves.
#[derive(Clone)]
pub struct Handoff {
    /// HTTP/1.1 connections whose request resolved async.
    pub promoter: Promoter,
    /// h2c streams' async work.
    pub streams: StreamRunner,
}

/// Starts the engine the configuration chose.
pub fn start(
    cfg: &Resolved,
    table: Arc<SharedTable>,
    handoff: Handoff,
    watcher: Watcher,
) -> io::Result<Box<dyn Engine>> {
    #[cfg(target_os = "linux")]
    if let Some(settings) = cfg.adaptive {
        return adaptive::start(cfg, settings, table, handoff, watcher);
    }
    start_on(cfg.engine, cfg, table, handoff, watcher, &Listen::Own)
}

/// Starts engine `kind` with its listeners as `plan` says.
pub(crate) fn start_on(
    kind: EngineKind,
    cfg: &Resolved,
    table: Arc<SharedTable>,
    handoff: Handoff,
    watcher: Watcher,
    plan: &Listen,
) -> io::Result<Box<dyn Engine>> {
    match kind {
        #[cfg(target_os = "linux")]
        EngineKind::Epoll => epoll::start(cfg, table, handoff, watcher, plan),
        #[cfg(target_os = "linux")]
        EngineKind::IoUring => iouring::start(cfg, table, handoff, watcher, plan),
        // The std engine serves async routes on its own arbiters: nothing is
        // ever promoted nor handed off.
        EngineKind::Std => {
            drop(handoff);
            let _ = plan;
            Ok(Box::new(std_engine::StdEngine::start(cfg, table, watcher)?))
        }
        // Reached where an engine is not compiled (not Linux).
        #[allow(unreachable_patterns)]
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("engine {other} is not available on this platform"),
        )),
    }
}
