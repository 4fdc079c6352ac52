//! `ServerActor`: owns the route definitions, the engine and the dispatch
//! pool; registers routes at run time, pauses and resumes accepting, and
//! shuts everything down gracefully.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_actors::{Actor, Context, Reply};

use super::messages::{EngineInfo, RouteSpec, ServerMsg};
use crate::dispatch::DispatchPool;
use crate::engine::{Control, Engine};
use crate::router::{Router, SharedTable};

/// How long pause and resume wait for every worker's acknowledgement (a
/// worker acknowledges at the end of its current turn).
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

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
    fn acked(&self, reply: Reply<io::Result<()>>, msg: fn(flume::Sender<()>) -> Control) {
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
            let all = (0..workers).all(|_| acks.recv_deadline(deadline).is_ok());
            reply.send(if all {
                Ok(())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "not every worker acknowledged",
                ))
            });
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
                std::thread::spawn(move || {
                    dispatch.shutdown(deadline);
                    engine.join();
                    dispatch.stop();
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
