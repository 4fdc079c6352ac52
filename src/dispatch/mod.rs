//! Async dispatch: a pool of actix-rt arbiters, one `DispatchActor` per
//! promoted HTTP/1.1 connection (it owns the connection from its promotion
//! to its close), and the async stream pool h2c streams of loop workers
//! run on.

mod actor;
mod live;
mod messages;
mod serve;
mod streams;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use switchyard_actors::{spawn_on, Addr, RestartPolicy, SpawnOptions};

pub use actor::DispatchActor;
use live::Live;
pub use messages::DispatchMsg;

use crate::config::EngineKind;
use crate::conn::h2::StreamRunner;
use crate::conn::ConnConfig;
use crate::engine::{join_within, Promoter, Promotion};
use crate::metrics::SharedCounters;
use crate::router::SharedTable;

/// What every dispatch actor shares.
pub(crate) struct Shared {
    /// Route table snapshots.
    pub(crate) table: Arc<SharedTable>,
    /// Connection settings.
    pub(crate) cfg: ConnConfig,
    /// The engine the connections came from.
    pub(crate) engine: EngineKind,
    /// Counters of every dispatch actor.
    pub(crate) counters: Arc<SharedCounters>,
    /// Live dispatch actors, by actor id (for shutdown): added by the
    /// promoter, removed by the actor when its connection ends.
    pub(crate) live: Live<Addr<DispatchActor>>,
    /// Set once shutdown begins: actors started after that (a worker still
    /// promotes while it drains) wind down at once.
    pub(crate) shutdown: OnceLock<Instant>,
}

/// The arbiters dispatch actors run on, and the promoter engines call.
pub struct DispatchPool {
    /// The arbiters; actors are placed round-robin.
    arbiters: Vec<actix_rt::Arbiter>,
    /// Next arbiter to use.
    next: Arc<AtomicUsize>,
    /// Shared by every actor.
    shared: Arc<Shared>,
}

impl DispatchPool {
    /// Starts `threads` arbiters. Must be called inside an actix-rt System.
    pub fn start(
        threads: usize,
        table: Arc<SharedTable>,
        cfg: ConnConfig,
        engine: EngineKind,
        counters: Arc<SharedCounters>,
    ) -> Self {
        let arbiters = (0..threads.max(1))
            .map(|_| actix_rt::Arbiter::new())
            .collect();
        DispatchPool {
            arbiters,
            next: Arc::new(AtomicUsize::new(0)),
            shared: Arc::new(Shared {
                table,
                cfg,
                engine,
                counters,
                live: Live::new(),
                shutdown: OnceLock::new(),
            }),
        }
    }

    /// The function engines call to hand a connection over: it starts a
    /// dispatch actor for it on the next arbiter.
    pub fn promoter(&self) -> Promoter {
        let handles: Vec<_> = self.arbiters.iter().map(|a| a.handle()).collect();
        let next = self.next.clone();
        let shared = self.shared.clone();
        Arc::new(move |promotion: Promotion| {
            let i = next.fetch_add(1, Ordering::Relaxed) % handles.len();
            let mut slot = Some(promotion);
            let actor_shared = shared.clone();
            // A dispatch actor serves one connection: a panic that escapes
            // the handler guards ends it rather than restarting it.
            let options = SpawnOptions::new("dispatch").restart(RestartPolicy::never());
            let addr = spawn_on(
                &handles[i],
                move || DispatchActor::new(slot.take(), actor_shared.clone()),
                options,
            );
            // This address keeps the actor alive until its connection ends
            // (the actor removes it then, or leaves a tombstone that this
            // registration consumes when it ended first).
            shared.live.register(addr.id().id(), addr);
        })
    }

    /// The function loop engines call to run an h2c stream's async work:
    /// it runs on the next arbiter.
    pub fn stream_runner(&self, settings: crate::proto::h2::H2Settings) -> StreamRunner {
        let handles = self.arbiters.iter().map(|a| a.handle()).collect();
        streams::runner(handles, self.shared.clone(), settings)
    }

    /// Number of connections being served by dispatch actors.
    pub fn live(&self) -> usize {
        self.shared.live.len()
    }

    /// Tells every dispatch actor, and every one started from now on, to
    /// finish its in-flight request and close by `deadline`.
    pub fn begin_shutdown(&self, deadline: Instant) {
        // Set before telling: an actor that registers after the loop below
        // finds the deadline when it starts (see `DispatchActor::started`).
        let _ = self.shared.shutdown.set(deadline);
        self.shared.live.for_each(|addr| {
            let _ = addr.tell_control(DispatchMsg::Shutdown { deadline });
        });
    }

    /// Waits (blocking) until every dispatch actor is gone or `deadline`
    /// passed.
    pub fn wait_idle(&self, deadline: Instant) {
        while self.live() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the arbiters and joins their threads, waiting at most until
    /// `until`: a plain handler still blocking on the blocking pool keeps its
    /// arbiter's runtime from ending, and must not hold the server's stop.
    pub fn stop(self, until: Instant) {
        for a in &self.arbiters {
            a.stop();
        }
        let arbiters = self.arbiters;
        join_within(until, move || {
            for a in arbiters {
                let _ = a.join();
            }
        });
    }
}
