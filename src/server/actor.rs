//! `ServerActor`: owns the route definitions, the engine and the dispatch
//! pool; registers routes at run time, pauses and resumes accepting, and
//! shuts everything down gracefully.
//!
//! What the server owns lives in a [`Core`] beside the actor, not inside
//! it: a panic discards the actor's instance (its state is suspect), and the
//! restarted instance takes over the same core, so the listeners, workers
//! and route table survive. The [`ServerHandle`](super::ServerHandle) keeps
//! the core too, so it can stop the server itself if the actor is gone for
//! good.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use switchyard_actors::{Actor, Context, Reply};

use super::messages::{EngineInfo, RouteSpec, ServerMsg};
use crate::dispatch::DispatchPool;
use crate::engine::adaptive::{Handle, SwitchError};
use crate::engine::{ask_all, Ack, Control, Engine};
use crate::router::{RouteError, Router, SharedTable};

/// How long past the shutdown deadline threads are waited for before they
/// are left behind.
const STOP_SLACK: Duration = Duration::from_secs(1);

/// Everything the server owns, shared by every instance of the actor and
/// by the handle.
pub(crate) struct Core {
    /// Route definitions; each registration rebuilds the table from them.
    router: Router,
    /// The published table.
    table: Arc<SharedTable>,
    /// The running engine (taken at shutdown).
    engine: Option<Box<dyn Engine>>,
    /// The dispatch arbiters (taken at shutdown).
    dispatch: Option<DispatchPool>,
    /// What is running, cached for `EngineInfo` asks.
    info: EngineInfo,
    /// The adaptive engine's handle, when it runs.
    adaptive: Option<Handle>,
}

/// The core as the actor and the handle share it.
pub(crate) type SharedCore = Arc<Mutex<Core>>;

impl Core {
    /// The core of a started engine and dispatch pool.
    pub(crate) fn new(
        router: Router,
        table: Arc<SharedTable>,
        engine: Box<dyn Engine>,
        dispatch: DispatchPool,
    ) -> SharedCore {
        let adaptive = engine.adaptive();
        let info = EngineInfo {
            engine: engine.kind(),
            addr: engine.local_addr(),
            workers: engine.workers(),
            adaptive: None,
        };
        Arc::new(Mutex::new(Core {
            router,
            table,
            engine: Some(engine),
            dispatch: Some(dispatch),
            info,
            adaptive,
        }))
    }

    /// What is running now (the adaptive engine's active engine and state
    /// read at this moment).
    pub(crate) fn info(&self) -> EngineInfo {
        let mut info = self.info;
        if let Some(a) = &self.adaptive {
            let status = a.status();
            info.engine = status.active;
            info.adaptive = Some(status);
        }
        info
    }

    /// Validates and adds a route, then publishes the next table snapshot.
    /// The definition is applied to a copy of the router, so a refused (or
    /// panicking) registration leaves the served routes as they were.
    fn register(&mut self, spec: RouteSpec) -> Result<(), RouteError> {
        let mut next = self.router.clone();
        let route = next.try_handle(&spec.method, &spec.path, spec.handler)?;
        if let Some(d) = spec.dispatch {
            route.dispatch(d);
        }
        self.table.publish(next.table());
        self.router = next;
        tracing::info!(method = %spec.method, path = %spec.path, "route registered");
        Ok(())
    }
}

impl Core {
    /// Removes a route and publishes the table without it.
    fn unregister(&mut self, method: &str, path: &str) -> bool {
        if !self.router.remove(method, path) {
            return false;
        }
        self.table.publish(self.router.table());
        tracing::info!(method, path, "route removed");
        true
    }
}

/// Locks the core; a panic while it was held leaves nothing half-done that
/// matters (registrations work on a copy), so a poisoned lock is used as is.
pub(crate) fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts a graceful shutdown: tells every worker and the dispatch pool,
/// and returns the blocking rest (join, drain, stop) to run off any arbiter.
/// `None` when the server was already shut down.
pub(crate) fn begin_shutdown(core: &Mutex<Core>, grace: Duration) -> Option<impl FnOnce() + Send> {
    let mut core = lock(core);
    let (Some(engine), Some(dispatch)) = (core.engine.take(), core.dispatch.take()) else {
        return None;
    };
    drop(core);
    let deadline = Instant::now() + grace;
    if let Err(e) = engine.control(&|| Control::Shutdown { deadline }) {
        tracing::error!(error = %e, "could not tell every worker to shut down");
    }
    // Dispatch actors, present and future (a draining worker may still
    // promote), wind down with the workers.
    dispatch.begin_shutdown(deadline);
    Some(move || {
        engine.join();
        dispatch.wait_idle(deadline);
        dispatch.stop(deadline + STOP_SLACK);
        tracing::info!("server stopped");
    })
}

/// The server's owner.
pub struct ServerActor {
    /// What the server owns; outlives this instance.
    core: SharedCore,
}

impl ServerActor {
    /// An instance over `core` (the first, or one rebuilt after a panic).
    pub(crate) fn new(core: SharedCore) -> Self {
        ServerActor { core }
    }

    /// Tells every worker, and answers once every worker acknowledged
    /// (waiting off the actor's arbiter, at most [`ACK_TIMEOUT`](crate::engine::ACK_TIMEOUT)).
    fn acked(&self, reply: Reply<io::Result<()>>, msg: fn(Ack) -> Control) {
        let core = lock(&self.core);
        let Some(engine) = &core.engine else {
            reply.send(Err(io::Error::other("the server is shutting down")));
            return;
        };
        match ask_all(engine.as_ref(), msg) {
            Ok(acks) => {
                std::thread::spawn(move || reply.send(acks.wait()));
            }
            Err(e) => {
                reply.send(Err(e));
            }
        }
    }
}

impl Actor for ServerActor {
    type Msg = ServerMsg;

    fn handle(&mut self, msg: ServerMsg, ctx: &mut Context<Self>) {
        match msg {
            ServerMsg::RegisterRoute { route, reply } => {
                // Nothing a caller sends may take the server down: a panic
                // while building the table is this registration's error.
                let outcome = catch_unwind(AssertUnwindSafe(|| lock(&self.core).register(route)))
                    .unwrap_or_else(|_| {
                        tracing::error!("route registration panicked; routes unchanged");
                        Err(RouteError::internal())
                    });
                reply.send(outcome);
            }
            ServerMsg::UnregisterRoute {
                method,
                path,
                reply,
            } => {
                let removed = lock(&self.core).unregister(&method, &path);
                reply.send(removed);
            }
            ServerMsg::PauseAccept { reply } => {
                self.acked(reply, |done| Control::PauseAccept { done });
            }
            ServerMsg::ResumeAccept { reply } => {
                self.acked(reply, |done| Control::ResumeAccept { done });
            }
            ServerMsg::EngineInfo { reply } => {
                reply.send(lock(&self.core).info());
            }
            ServerMsg::ForceSwitch { reply } => {
                let adaptive = lock(&self.core).adaptive.clone();
                match adaptive {
                    // Answered by the engine's switching thread once done:
                    // the actor is not held meanwhile.
                    Some(a) => a.force_switch(Box::new(move |outcome| {
                        reply.send(outcome);
                    })),
                    None => {
                        reply.send(Err(SwitchError::not_adaptive()));
                    }
                }
            }
            ServerMsg::Shutdown { grace, reply } => {
                let finish = begin_shutdown(&self.core, grace);
                ctx.stop();
                let system = actix_rt::System::try_current();
                // Joining blocks: do it off the actor's arbiter.
                std::thread::spawn(move || {
                    if let Some(finish) = finish {
                        finish();
                    }
                    if let Some(r) = reply {
                        r.send(());
                    }
                    if let Some(system) = system {
                        system.stop();
                    }
                });
            }
        }
    }
}

/// Tells every worker `msg` directly (tests inject faults this way).
#[cfg(test)]
pub(crate) fn tell_workers(core: &Mutex<Core>, msg: &dyn Fn() -> Control) -> io::Result<()> {
    match &lock(core).engine {
        Some(engine) => engine.control(msg),
        None => Err(io::Error::other("the server is shut down")),
    }
}
