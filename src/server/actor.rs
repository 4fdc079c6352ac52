//! `ServerActor`: owns the route definitions, the engine and the dispatch
//! pool; registers routes at run time, pauses and resumes accepting, and
//! shuts everything down gracefully.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_actors::{Actor, Context, Reply};

use super::messages::{EngineInfo, RouteSpec, ServerMsg};
use crate::dispatch::DispatchPool;
use crate::engine::{Ack, Control, Engine};
use crate::router::{Router, SharedTable};

/// How long pause and resume wait for every worker's acknowledgement (a
/// worker acknowledges at the end of its current turn).
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long past the shutdown deadline threads are waited for before they
/// are left behind.
const STOP_SLACK: Duration = Duration::from_secs(1);

/// The server's owner.
pub struct ServerActor {
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
}

impl ServerActor {
    /// An actor owning a started engine and dispatch pool.
    pub(crate) fn new(
        router: Router,
        table: Arc<SharedTable>,
        engine: Box<dyn Engine>,
        dispatch: DispatchPool,
    ) -> Self {
        let info = EngineInfo {
            engine: engine.kind(),
            addr: engine.local_addr(),
            workers: engine.workers(),
        };
        ServerActor {
            router,
            table,
            engine: Some(engine),
            dispatch: Some(dispatch),
            info,
        }
    }

    /// Adds a route and publishes the next table snapshot.
    fn register(&mut self, spec: RouteSpec) {
        let route = self.router.handle(&spec.method, &spec.path, spec.handler);
        if let Some(d) = spec.dispatch {
            route.dispatch(d);
        }
        self.table.publish(self.router.table());
        tracing::info!(method = %spec.method, path = %spec.path, "route registered");
    }

    /// Tells every worker, and answers once every worker acknowledged
    /// (waiting off the actor's arbiter, at most [`ACK_TIMEOUT`]).
    fn acked(&self, reply: Reply<io::Result<()>>, msg: fn(Ack) -> Control) {
        let Some(engine) = &self.engine else {
            reply.send(Err(io::Error::other("the server is shutting down")));
            return;
        };
        let (done, acks) = flume::unbounded();
        if let Err(e) = engine.control(&|| msg(done.clone())) {
            reply.send(Err(e));
            return;
        }
        drop(done);
        let workers = engine.workers();
        std::thread::spawn(move || {
            let deadline = Instant::now() + ACK_TIMEOUT;
            let mut outcome = Ok(());
            for _ in 0..workers {
                let ack = acks.recv_deadline(deadline).unwrap_or_else(|_| {
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "not every worker acknowledged",
                    ))
                });
                if outcome.is_ok() {
                    outcome = ack;
                }
            }
            reply.send(outcome);
        });
    }
}

impl Actor for ServerActor {
    type Msg = ServerMsg;

    fn handle(&mut self, msg: ServerMsg, ctx: &mut Context<Self>) {
        match msg {
            ServerMsg::RegisterRoute { route, reply } => {
                self.register(route);
                reply.send(());
            }
            ServerMsg::PauseAccept { reply } => {
                self.acked(reply, |done| Control::PauseAccept { done });
            }
            ServerMsg::ResumeAccept { reply } => {
                self.acked(reply, |done| Control::ResumeAccept { done });
            }
            ServerMsg::EngineInfo { reply } => {
                reply.send(self.info);
            }
            ServerMsg::Shutdown { grace, reply } => {
                let (Some(engine), Some(dispatch)) = (self.engine.take(), self.dispatch.take())
                else {
                    if let Some(r) = reply {
                        r.send(());
                    }
                    return;
                };
                let deadline = Instant::now() + grace;
                if let Err(e) = engine.control(&|| Control::Shutdown { deadline }) {
                    tracing::error!(error = %e, "could not tell every worker to shut down");
                }
                ctx.stop();
                let system = actix_rt::System::try_current();
                // Joining blocks: do it off the actor's arbiter.
                // Dispatch actors, present and future (a draining worker may
                // still promote), wind down with the workers.
                dispatch.begin_shutdown(deadline);
                std::thread::spawn(move || {
                    engine.join();
                    dispatch.wait_idle(deadline);
                    dispatch.stop(deadline + STOP_SLACK);
                    tracing::info!("server stopped");
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
