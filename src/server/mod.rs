//! The server: `ServerActor` and `MetricsActor`, their messages, the handle a
//! caller keeps, and the plain builder for the simple case.

mod actor;
mod builder;
mod error;
pub mod messages;
mod metrics_actor;
#[cfg(test)]
mod supervision_tests;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use switchyard_actors::{spawn_on, Addr, AskError, SpawnOptions};

pub use actor::ServerActor;
use actor::{Core, SharedCore};
pub use builder::{Server, Signals};
pub use error::RegisterError;
pub use messages::{EngineInfo, MetricsMsg, RouteSpec, ServerMsg};
pub use metrics_actor::MetricsActor;

use crate::config::Config;
use crate::dispatch::DispatchPool;
use crate::metrics::{SharedCounters, Snapshot, Sources};
use crate::router::{Router, SharedTable};

/// How long a caller waits for the server or metrics actor to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// A running server, as the code that started it holds it.
///
/// ```no_run
/// use std::time::Duration;
/// use switchyard::{Config, Handler, RouteSpec, Router, ServerActor};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.get("/hello", |ctx| { ctx.text("Hello, World!"); Ok(()) });
/// let handle = ServerActor::spawn(Config::default(), router)?;
/// println!("listening on {}", handle.local_addr());
/// handle.register(RouteSpec {
///     method: "GET".into(),
///     path: "/late".into(),
///     handler: Handler::plain(|ctx| { ctx.text("late"); Ok(()) }),
///     dispatch: None,
/// })?;
/// handle.pause_accept()?;
/// handle.resume_accept()?;
/// println!("{} requests so far", handle.snapshot()?.requests_total);
/// handle.shutdown(Duration::from_secs(5))?;
/// # Ok(())
/// # }
/// ```
pub struct ServerHandle {
    /// The server actor.
    server: Addr<ServerActor>,
    /// The metrics actor.
    metrics: Addr<MetricsActor>,
    /// What the server owns, shared with the server actor: lets
    /// [`shutdown`](Self::shutdown) stop the server itself when the actor
    /// cannot answer.
    core: SharedCore,
    /// The actors' system, stopped by `shutdown` if the actor did not.
    actors: actix_rt::System,
    /// What is running.
    info: EngineInfo,
    /// The thread running the actors' system; ends after shutdown.
    system: Option<JoinHandle<()>>,
}

impl ServerActor {
    /// Starts a server: resolves the configuration, binds the engine, starts
    /// the dispatch arbiters and the server and metrics actors on a system
    /// thread of their own. Returns once the server accepts connections.
    pub fn spawn(config: Config, router: Router) -> io::Result<ServerHandle> {
        let resolved = config
            .resolve()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let system = std::thread::Builder::new()
            .name("switchyard-system".into())
            .spawn(move || {
                let sys = actix_rt::System::new();
                let started = sys.block_on(async move {
                    let mut router = router;
                    router.set_default_dispatch(resolved.default_dispatch);
                    let table = Arc::new(SharedTable::new(router.table()));
                    let counters = Arc::new(SharedCounters::default());
                    let dispatch_threads = resolved.workers.clamp(1, 4);
                    let dispatch = DispatchPool::start(
                        dispatch_threads,
                        table.clone(),
                        resolved.conn,
                        resolved.engine,
                        counters.clone(),
                    );
                    let handoff = crate::engine::Handoff {
                        promoter: dispatch.promoter(),
                        streams: dispatch.stream_runner(resolved.h2),
                    };
                    let engine = match crate::engine::start(&resolved, table.clone(), handoff) {
                        Ok(engine) => engine,
                        Err(e) => {
                            dispatch.stop(std::time::Instant::now() + Duration::from_secs(1));
                            return Err(e);
                        }
                    };
                    let sources = Sources {
                        engine: engine.kind(),
                        workers: engine.counters(),
                        dispatch: counters,
                    };
                    let arbiter = actix_rt::Arbiter::current();
                    let metrics_table = table.clone();
                    let metrics = spawn_on(
                        &arbiter,
                        move || MetricsActor::new(sources.clone(), metrics_table.clone()),
                        SpawnOptions::new("metrics"),
                    );
                    let info = EngineInfo {
                        engine: engine.kind(),
                        addr: engine.local_addr(),
                        workers: engine.workers(),
                    };
                    let core = Core::new(router, table, engine, dispatch);
                    let actor_core = core.clone();
                    // A panic discards the instance; the next one takes over
                    // the same core, so the server keeps serving.
                    let server = spawn_on(
                        &arbiter,
                        move || ServerActor::new(actor_core.clone()),
                        SpawnOptions::new("server"),
                    );
                    Ok((server, metrics, core, actix_rt::System::current(), info))
                });
                let ok = started.is_ok();
                let _ = tx.send(started);
                if ok {
                    if let Err(e) = sys.run() {
                        tracing::error!(error = %e, "actor system failed");
                    }
                }
            })?;
        let (server, metrics, core, actors, info) = rx
            .recv()
            .map_err(|_| io::Error::other("the server thread died while starting"))??;
        tracing::info!(addr = %info.addr, engine = %info.engine, workers = info.workers, "switchyard listening");
        Ok(ServerHandle {
            server,
            metrics,
            core,
            actors,
            info,
            system: Some(system),
        })
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.info.addr
    }

    /// What is running.
    pub fn info(&self) -> EngineInfo {
        self.info
    }

    /// The server actor's address.
    pub fn server(&self) -> &Addr<ServerActor> {
        &self.server
    }

    /// The metrics actor's address.
    pub fn metrics(&self) -> &Addr<MetricsActor> {
        &self.metrics
    }

    /// Current metrics (blocking ask).
    pub fn snapshot(&self) -> Result<Snapshot, AskError> {
        self.metrics
            .ask_blocking(|reply| MetricsMsg::Snapshot { reply }, ASK_TIMEOUT)
    }

    /// Registers a route at run time (blocking ask); returns once the new
    /// table is published, so every request a worker reads after that sees
    /// the route. An invalid pattern or method is refused
    /// ([`RegisterError::is_invalid_route`]) and changes nothing.
    pub fn register(&self, route: RouteSpec) -> Result<(), RegisterError> {
        self.server
            .ask_blocking(
                |reply| ServerMsg::RegisterRoute { route, reply },
                ASK_TIMEOUT,
            )
            .map_err(RegisterError::ask)?
            .map_err(RegisterError::from)
    }

    /// Stops accepting new connections on every worker; connections
    /// already accepted are still served. Returns once every worker closed
    /// its listener.
    pub fn pause_accept(&self) -> io::Result<()> {
        self.server
            .ask_blocking(|reply| ServerMsg::PauseAccept { reply }, ASK_TIMEOUT)
            .map_err(io::Error::other)?
    }

    /// Accepts new connections again; returns once every worker listens.
    pub fn resume_accept(&self) -> io::Result<()> {
        self.server
            .ask_blocking(|reply| ServerMsg::ResumeAccept { reply }, ASK_TIMEOUT)
            .map_err(io::Error::other)?
    }

    /// Shuts down gracefully (in-flight requests get `grace`) and waits until
    /// everything stopped.
    ///
    /// Asks the server actor; if the actor cannot answer (it is gone, or
    /// stuck past `grace` and a margin), the handle stops the engine, the
    /// dispatch pool and the actors' system itself, so a shutdown always
    /// returns.
    pub fn shutdown(mut self, grace: Duration) -> io::Result<()> {
        let asked = self.server.ask_blocking(
            |reply| ServerMsg::Shutdown {
                grace,
                reply: Some(reply),
            },
            grace + ASK_TIMEOUT,
        );
        if let Err(e) = asked {
            tracing::warn!(error = %e, "the server actor did not shut down; stopping the server from the handle");
            if let Some(finish) = actor::begin_shutdown(&self.core, grace) {
                finish();
            }
            self.actors.stop();
        }
        if let Some(t) = self.system.take() {
            let _ = t.join();
        }
        Ok(())
    }
}
