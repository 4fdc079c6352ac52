//! The server: `ServerActor` and `MetricsActor`, their messages, the handle a
//! caller keeps, and the plain builder for the simple case.

mod actor;
mod builder;
pub mod messages;
mod metrics_actor;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use switchyard_actors::{spawn_on, Addr, AskError, SpawnOptions};

pub use actor::ServerActor;
pub use builder::{Server, Signals};
pub use messages::{EngineInfo, MetricsMsg, RouteSpec, ServerMsg};
pub use metrics_actor::MetricsActor;

use crate::config::Config;
use crate::dispatch::DispatchPool;
use crate::metrics::{SharedCounters, Snapshot, Sources};
use crate::router::{Router, SharedTable};

/// How long a caller waits for the server or metrics actor to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// A running server, as the code that started it holds it.
pub struct ServerHandle {
    /// The server actor.
    server: Addr<ServerActor>,
    /// The metrics actor.
    metrics: Addr<MetricsActor>,
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
                    let engine =
                        match crate::engine::start(&resolved, table.clone(), dispatch.promoter()) {
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
                    let mut parts = Some((router, table, engine, dispatch));
                    let server = spawn_on(
                        &arbiter,
                        move || {
                            let (router, table, engine, dispatch) =
                                parts.take().expect("the server actor is not restarted");
                            ServerActor::new(router, table, engine, dispatch)
                        },
                        SpawnOptions::new("server"),
                    );
                    Ok((server, metrics, info))
                });
                let ok = started.is_ok();
                let _ = tx.send(started);
                if ok {
                    if let Err(e) = sys.run() {
                        tracing::error!(error = %e, "actor system failed");
                    }
                }
            })?;
        let (server, metrics, info) = rx
            .recv()
            .map_err(|_| io::Error::other("the server thread died while starting"))??;
        tracing::info!(addr = %info.addr, engine = %info.engine, workers = info.workers, "switchyard listening");
        Ok(ServerHandle {
            server,
            metrics,
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
    /// the route.
    pub fn register(&self, route: RouteSpec) -> Result<(), AskError> {
        self.server.ask_blocking(
            |reply| ServerMsg::RegisterRoute { route, reply },
            ASK_TIMEOUT,
        )
    }

    /// Shuts down gracefully (in-flight requests get `grace`) and waits until
    /// everything stopped.
    pub fn shutdown(mut self, grace: Duration) -> Result<(), AskError> {
        let r = self.server.ask_blocking(
            |reply| ServerMsg::Shutdown {
                grace,
                reply: Some(reply),
            },
            grace + ASK_TIMEOUT,
        );
        if let Some(t) = self.system.take() {
            let _ = t.join();
        }
        r
    }
}
