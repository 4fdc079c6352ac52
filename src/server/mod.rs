//! The server: `ServerActor` and `MetricsActor`, their messages, the handle a
//! caller keeps, and the plain builder for the simple case.

mod actor;
mod builder;
mod error;
pub mod messages;
mod metrics_actor;
#[cfg(test)]
mod supervision_tests;
mod supervisor;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use switchyard_actors::{spawn_on, Addr, AskError, SpawnOptions};

pub use actor::ServerActor;
use actor::{lock, Core, SharedCore};
pub use builder::{Server, Signals};
pub use error::RegisterError;
pub use messages::{EngineInfo, MetricsMsg, RouteSpec, ServerMsg};
pub use metrics_actor::MetricsActor;
use supervisor::Failure;
pub use supervisor::{SupervisorActor, SupervisorMsg};

use crate::config::Config;
use crate::dispatch::DispatchPool;
use crate::metrics::{SharedCounters, Snapshot, Sources};
use crate::router::{Router, SharedTable};

/// How long a caller waits for the server or metrics actor to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a forced switch may take: a resume and a pause, each waiting
/// for every worker's acknowledgement (at most 5 s each).
const SWITCH_TIMEOUT: Duration = Duration::from_secs(12);

/// A running server, as the code that started it holds it
/// ([`Server::start`] or [`ServerActor::spawn`] returns it). Dropping the
/// handle leaves the server running; [`shutdown`](Self::shutdown) stops it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchyard::{Config, Handler, RouteSpec, Router, ServerActor};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.get("/hello", |ctx| { ctx.text("Hello, World!"); Ok(()) });
/// let config = Config { addr: "127.0.0.1:0".into(), ..Config::default() };
/// let handle = ServerActor::spawn(config, router)?;
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
    /// Why the server stopped by itself, if it did.
    failure: Arc<Failure>,
    /// Hears that failure once.
    failed: flume::Receiver<String>,
}

impl ServerActor {
    /// Starts a server: resolves the configuration, binds the engine, starts
    /// the dispatch arbiters and the server and metrics actors on a system
    /// thread of their own. Returns once the server accepts connections.
    ///
    /// [`Server::start`] is this with the router the server built; call it
    /// directly when the routes come from elsewhere.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, Router, ServerActor};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let mut router = Router::new();
    /// router.get("/hello", |ctx| { ctx.text("Hello, World!"); Ok(()) });
    /// let config = Config { addr: "127.0.0.1:0".into(), ..Config::default() };
    /// let handle = ServerActor::spawn(config, router)?;
    /// assert_ne!(handle.local_addr().port(), 0); // the port picked
    /// handle.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn(config: Config, router: Router) -> io::Result<ServerHandle> {
        let resolved = config
            .resolve()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let (failure, failed) = Failure::new();
        let supervisor_failure = failure.clone();
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
                    let arbiter = actix_rt::Arbiter::current();
                    let supervisor = spawn_on(
                        &arbiter,
                        SupervisorActor::factory(supervisor_failure),
                        SpawnOptions::new("supervisor"),
                    );
                    let watcher = supervisor.recipient_with(SupervisorMsg::Exit, |msg| match msg {
                        SupervisorMsg::Exit(event) => event,
                        // Only messages the wrapper just built come back.
                        _ => unreachable!("not an exit event"),
                    });
                    let handoff = crate::engine::Handoff {
                        promoter: dispatch.promoter(),
                        streams: dispatch.stream_runner(resolved.h2),
                    };
                    let engine =
                        match crate::engine::start(&resolved, table.clone(), handoff, watcher) {
                            Ok(engine) => engine,
                            Err(e) => {
                                dispatch.stop(std::time::Instant::now() + Duration::from_secs(1));
                                return Err(e);
                            }
                        };
                    let adaptive = engine.adaptive();
                    let sources = Sources {
                        engine: engine.kind(),
                        workers: engine.counters(),
                        dispatch: counters,
                        adaptive: adaptive.clone(),
                    };
                    let metrics_table = table.clone();
                    let metrics = spawn_on(
                        &arbiter,
                        move || MetricsActor::new(sources.clone(), metrics_table.clone()),
                        SpawnOptions::new("metrics"),
                    );
                    let core = Core::new(router, table, engine, dispatch);
                    let info = lock(&core).info();
                    let actor_core = core.clone();
                    // A panic discards the instance; the next one takes over
                    // the same core, so the server keeps serving.
                    let server = spawn_on(
                        &arbiter,
                        move || ServerActor::new(actor_core.clone()),
                        SpawnOptions::new("server"),
                    );
                    let _ = supervisor.tell(SupervisorMsg::Attach {
                        server: server.clone(),
                        metrics: metrics.clone(),
                        adaptive,
                        grace: resolved.shutdown_grace,
                    });
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
            failure,
            failed,
        })
    }
}

impl ServerHandle {
    /// The address the server listens on, with the port it picked when the
    /// configuration asked for port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.info.addr
    }

    /// What is running: the engine the configuration resolved to, the
    /// address and the number of workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, EngineChoice, EngineKind, Server};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let config = Config {
    ///     addr: "127.0.0.1:0".into(),
    ///     engine: EngineChoice::Std,
    ///     workers: 2,
    ///     ..Config::default()
    /// };
    /// let handle = Server::new(config).start()?;
    /// let info = handle.info();
    /// assert_eq!(info.engine, EngineKind::Std);
    /// assert_eq!(info.workers, 2);
    /// assert_eq!(info.addr, handle.local_addr());
    /// # handle.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> EngineInfo {
        lock(&self.core).info()
    }

    /// Adaptive engine only: moves new connections to the other engine now
    /// (blocking until the old one stopped accepting); answers the engine
    /// they go to, or why there was no switch.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, EngineChoice, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = Config { addr: "127.0.0.1:0".into(), engine: EngineChoice::Std, ..Config::default() };
    /// let handle = Server::new(config).start()?;
    /// let refused = handle.force_switch()?.unwrap_err();
    /// assert!(refused.is_not_adaptive(), "{refused}");
    /// # handle.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn force_switch(
        &self,
    ) -> Result<Result<crate::EngineKind, crate::engine::adaptive::SwitchError>, AskError> {
        self.server
            .ask_blocking(|reply| ServerMsg::ForceSwitch { reply }, SWITCH_TIMEOUT)
    }

    /// The server actor's address, to send it [`ServerMsg`]s directly (the
    /// methods of this handle cover every message; use the address to ask
    /// from a task with `ask`, or with a timeout of your own).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::server::ServerMsg;
    /// use switchyard::{Config, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
    /// #     .start()?;
    /// let info = handle
    ///     .server()
    ///     .ask_blocking(|reply| ServerMsg::EngineInfo { reply }, Duration::from_secs(1))?;
    /// assert_eq!(info.addr, handle.local_addr());
    /// # handle.shutdown(Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn server(&self) -> &Addr<ServerActor> {
        &self.server
    }

    /// The metrics actor's address.
    pub fn metrics(&self) -> &Addr<MetricsActor> {
        &self.metrics
    }

    /// Why the server stopped by itself, if it did: a worker crashed more
    /// often than its restart policy allows, and the supervisor shut the
    /// server down rather than serve with a worker missing.
    pub fn failure(&self) -> Option<String> {
        self.failure.get()
    }

    /// Hears the failure of [`failure`](Self::failure) when it happens (for
    /// waiting on it beside other events, as [`Server::run`] does).
    pub fn failures(&self) -> &flume::Receiver<String> {
        &self.failed
    }

    /// Current metrics (blocking ask): the totals of every worker and
    /// dispatch actor at this moment.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
    ///     .get("/hello", |ctx| {
    ///         ctx.text("Hello, World!");
    ///         Ok(())
    ///     })
    ///     .start()?;
    /// # get(handle.local_addr(), "/hello")?;
    /// let metrics = handle.snapshot()?;
    /// println!("{} requests, {} open connections", metrics.requests_total, metrics.active_conns);
    /// assert_eq!(metrics.active_engine, handle.info().engine.as_str());
    /// assert_eq!(metrics.latency_buckets.iter().sum::<u64>(), metrics.requests_total);
    /// # handle.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// # fn get(addr: std::net::SocketAddr, target: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn snapshot(&self) -> Result<Snapshot, AskError> {
        self.metrics
            .ask_blocking(|reply| MetricsMsg::Snapshot { reply }, ASK_TIMEOUT)
    }

    /// Registers a route at run time (blocking ask); returns once the new
    /// table is published, so every request a worker reads after that sees
    /// the route. An invalid pattern or method is refused
    /// ([`RegisterError::is_invalid_route`]) and changes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, Dispatch, Handler, RouteSpec, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
    ///     .get("/hello", |ctx| {
    ///         ctx.text("Hello, World!");
    ///         Ok(())
    ///     })
    ///     .start()?;
    /// handle.register(RouteSpec {
    ///     method: "GET".into(),
    ///     path: "/greet/:name".into(),
    ///     handler: Handler::plain(|ctx| {
    ///         let body = format!("hello {}", ctx.param("name").unwrap_or_default());
    ///         ctx.text(&body);
    ///         Ok(())
    ///     }),
    ///     dispatch: Some(Dispatch::Async), // None takes the server default
    /// })?;
    /// // Served by every worker from now on: GET /greet/ann answers "hello ann".
    /// # assert!(get(handle.local_addr(), "/greet/ann")?.ends_with("hello ann"));
    ///
    /// let err = handle
    ///     .register(RouteSpec {
    ///         method: "GET".into(),
    ///         path: "/greet/:".into(), // a parameter without a name
    ///         handler: Handler::plain(|ctx| { ctx.text("never"); Ok(()) }),
    ///         dispatch: None,
    ///     })
    ///     .unwrap_err();
    /// assert!(err.is_invalid_route());
    /// assert!(err.route_error().is_some_and(|e| e.is_invalid_pattern()));
    /// # handle.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// # fn get(addr: std::net::SocketAddr, target: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn register(&self, route: RouteSpec) -> Result<(), RegisterError> {
        self.server
            .ask_blocking(
                |reply| ServerMsg::RegisterRoute { route, reply },
                ASK_TIMEOUT,
            )
            .map_err(RegisterError::ask)?
            .map_err(RegisterError::from)
    }

    /// Removes a route at run time (blocking ask); returns once the table
    /// without it is published (every request read after that is answered
    /// without it), with whether there was such a route.
    pub fn unregister(&self, method: &str, path: &str) -> Result<bool, AskError> {
        let (method, path) = (method.to_owned(), path.to_owned());
        self.server.ask_blocking(
            |reply| ServerMsg::UnregisterRoute {
                method,
                path,
                reply,
            },
            ASK_TIMEOUT,
        )
    }

    /// Stops accepting new connections on every worker; connections
    /// already accepted are still served. Returns once every worker closed
    /// its listener, so a new connection is refused until
    /// [`resume_accept`](Self::resume_accept).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpStream;
    /// use switchyard::{Config, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
    ///     .get("/hello", |ctx| {
    ///         ctx.text("Hello, World!");
    ///         Ok(())
    ///     })
    ///     .start()?;
    /// handle.pause_accept()?;
    /// assert!(TcpStream::connect(handle.local_addr()).is_err());
    /// handle.resume_accept()?;
    /// # assert!(get(handle.local_addr(), "/hello")?.ends_with("Hello, World!"));
    /// # handle.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok(())
    /// # }
    /// # fn get(addr: std::net::SocketAddr, target: &str) -> std::io::Result<String> {
    /// #     use std::io::{Read, Write};
    /// #     let mut conn = std::net::TcpStream::connect(addr)?;
    /// #     write!(conn, "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     Ok(reply)
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::{Config, Server};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
    ///     .start()?;
    /// let addr = handle.local_addr();
    /// handle.shutdown(Duration::from_secs(5))?; // consumes the handle
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok(())
    /// # }
    /// ```
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
