//! `Server`: the plain builder — routes on a config, then `run()` until
//! SIGINT or SIGTERM.

use std::future::Future;
use std::io;

use super::{ServerActor, ServerHandle};
use crate::config::Config;
use crate::handler::{Ctx, HttpError, Request, Response};
use crate::router::Router;

/// A server under construction: a [`Config`] and a [`Router`], built up
/// with chained calls and then [`start`](Self::start)ed (a handle comes
/// back) or [`run`](Self::run) (blocks until a stop signal).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchyard::{Config, Server};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
///     .get("/hello", |ctx| {
///         ctx.text("Hello, World!");
///         Ok(())
///     })
///     .routes(|r| {
///         let mut api = r.group("/api");
///         api.get("/users/:id", |ctx| {
///             let body = format!("user {}", ctx.param("id").unwrap_or_default());
///             ctx.text(&body);
///             Ok(())
///         });
///     })
///     .start()?;
/// // GET /api/users/7 answers "user 7".
/// # assert!(get(handle.local_addr(), "/api/users/7")?.ends_with("\r\n\r\nuser 7"));
/// handle.shutdown(Duration::from_secs(5))?;
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
pub struct Server {
    /// Settings.
    config: Config,
    /// Routes.
    router: Router,
}

impl Server {
    /// A server with `config` and no routes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::{Config, Server};
    ///
    /// let server = Server::new(Config {
    ///     addr: "0.0.0.0:8080".into(),
    ///     idle_timeout: Duration::from_secs(30),
    ///     ..Config::default()
    /// });
    /// # let _ = server;
    /// ```
    pub fn new(config: Config) -> Self {
        Server {
            config,
            router: Router::new(),
        }
    }

    /// The router, for groups, middleware and dispatch settings, when a
    /// server is built step by step rather than in one chain.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, Server};
    /// use switchyard::handler::After;
    ///
    /// let mut server = Server::new(Config::default());
    /// server.router().use_middleware(After(|ctx: &mut switchyard::Ctx<'_>| {
    ///     ctx.set_header("server", "switchyard");
    /// }));
    /// let server = server.get("/hello", |ctx| {
    ///     ctx.text("Hello, World!");
    ///     Ok(())
    /// });
    /// # let _ = server;
    /// ```
    pub fn router(&mut self) -> &mut Router {
        &mut self.router
    }

    /// Adds a `GET` route with a plain handler.
    pub fn get<F>(mut self, path: &str, f: F) -> Self
    where
        F: Fn(&mut Ctx<'_>) -> Result<(), HttpError> + Send + Sync + 'static,
    {
        self.router.get(path, f);
        self
    }

    /// Adds a `POST` route with a plain handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, Server};
    ///
    /// let server = Server::new(Config::default()).post("/echo", |ctx| {
    ///     let body = ctx.body(); // the whole request body
    ///     ctx.bytes("application/octet-stream", body);
    ///     Ok(())
    /// });
    /// # let _ = server;
    /// ```
    pub fn post<F>(mut self, path: &str, f: F) -> Self
    where
        F: Fn(&mut Ctx<'_>) -> Result<(), HttpError> + Send + Sync + 'static,
    {
        self.router.post(path, f);
        self
    }

    /// Adds a `GET` route with a future handler (always async): it takes
    /// an owned [`Request`] and may await.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::{Config, Request, Response, Server};
    ///
    /// let server = Server::new(Config::default()).get_future("/slow", |req: Request| async move {
    ///     tokio::time::sleep(Duration::from_millis(10)).await;
    ///     Ok(Response::with_text(req.path()))
    /// });
    /// # let _ = server;
    /// ```
    pub fn get_future<F, Fut>(mut self, path: &str, f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, HttpError>> + Send + 'static,
    {
        self.router.get_future(path, f);
        self
    }

    /// Edits the routes in place: groups, middleware, other methods and
    /// per-route settings, without leaving the chain.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, Server};
    ///
    /// let server = Server::new(Config::default()).routes(|r| {
    ///     r.delete("/items/:id", |ctx| {
    ///         ctx.no_content(204);
    ///         Ok(())
    ///     });
    ///     r.get("/report", |ctx| {
    ///         std::thread::sleep(std::time::Duration::from_millis(5)); // blocks
    ///         ctx.text("done");
    ///         Ok(())
    ///     })
    ///     .asynchronous(); // so it runs off the event loop
    /// });
    /// # let _ = server;
    /// ```
    pub fn routes(mut self, f: impl FnOnce(&mut Router)) -> Self {
        f(&mut self.router);
        self
    }

    /// Starts serving and returns the handle; the server accepts
    /// connections when this returns. A configuration that cannot run (an
    /// address that does not resolve, an engine this platform lacks) is an
    /// [`io::ErrorKind::InvalidInput`] error; a failed bind is the bind's
    /// error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::{Config, EngineChoice, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = Config {
    ///     addr: "127.0.0.1:0".into(),
    ///     engine: EngineChoice::Std, // the portable engine
    ///     ..Config::default()
    /// };
    /// let handle = Server::new(config)
    ///     .get("/hello", |ctx| {
    ///         ctx.text("Hello, World!");
    ///         Ok(())
    ///     })
    ///     .start()?;
    /// println!("listening on {}", handle.local_addr());
    /// # assert!(get(handle.local_addr(), "/hello")?.ends_with("Hello, World!"));
    /// handle.shutdown(Duration::from_secs(5))?;
    ///
    /// let bad = Config { addr: "not an address".into(), ..Config::default() };
    /// let Err(err) = Server::new(bad).start() else { panic!("started") };
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
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
    pub fn start(self) -> io::Result<ServerHandle> {
        ServerActor::spawn(self.config, self.router)
    }

    /// Serves until SIGINT or SIGTERM (Ctrl-C or Ctrl-Break on Windows),
    /// then shuts down gracefully, giving in-flight requests
    /// [`Config::shutdown_grace`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use switchyard::{Config, Server};
    ///
    /// fn main() -> std::io::Result<()> {
    ///     Server::new(Config::default())
    ///         .get("/hello", |ctx| {
    ///             ctx.text("Hello, World!");
    ///             Ok(())
    ///         })
    ///         .run()
    /// }
    /// ```
    pub fn run(self) -> io::Result<()> {
        let grace = self.config.shutdown_grace;
        // Signal handling is set up before the server starts, so a process
        // that is serving can always be stopped gracefully.
        let signals = Signals::new()?;
        let handle = self.start()?;
        match signals.wait_or(handle.failures())? {
            None => {
                tracing::info!("signal received; shutting down");
                handle.shutdown(grace)
            }
            Some(reason) => {
                handle.shutdown(grace)?;
                Err(io::Error::other(reason))
            }
        }
    }
}

/// The stop signals, listened for from the moment this is built: SIGINT
/// and SIGTERM on Unix, Ctrl-C and Ctrl-Break on Windows.
///
/// # Examples
///
/// [`Server::run`] is built on it; use it directly to do something between
/// the signal and the shutdown:
///
/// ```no_run
/// use switchyard::{Config, Server};
/// use switchyard::server::Signals;
///
/// fn main() -> std::io::Result<()> {
///     let signals = Signals::new()?; // before serving: a signal is never missed
///     let handle = Server::new(Config::default())
///         .get("/hello", |ctx| {
///             ctx.text("Hello, World!");
///             Ok(())
///         })
///         .start()?;
///     signals.wait()?;
///     if let Ok(metrics) = handle.snapshot() {
///         eprintln!("stopping after {} requests", metrics.requests_total);
///     }
///     handle.shutdown(std::time::Duration::from_secs(10))
/// }
/// ```
pub struct Signals {
    /// The runtime that receives the signals.
    rt: tokio::runtime::Runtime,
    /// SIGINT / Ctrl-C.
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    /// SIGTERM.
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    /// Ctrl-C.
    #[cfg(windows)]
    interrupt: tokio::signal::windows::CtrlC,
    /// Ctrl-Break.
    #[cfg(windows)]
    terminate: tokio::signal::windows::CtrlBreak,
}

impl Signals {
    /// Starts listening (needs a few descriptors: set it up before the
    /// process may run out of them).
    pub fn new() -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate) = {
            let _guard = rt.enter();
            listen()?
        };
        Ok(Signals {
            rt,
            interrupt,
            terminate,
        })
    }

    /// Blocks until a stop signal arrives.
    pub fn wait(mut self) -> io::Result<()> {
        self.rt.block_on(async {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        });
        Ok(())
    }

    /// Blocks until a stop signal arrives (`None`) or the server stops by
    /// itself (`Some` of the reason, heard on
    /// [`ServerHandle::failures`](crate::ServerHandle::failures)).
    pub fn wait_or(mut self, failures: &flume::Receiver<String>) -> io::Result<Option<String>> {
        Ok(self.rt.block_on(async {
            tokio::select! {
                _ = self.interrupt.recv() => None,
                _ = self.terminate.recv() => None,
                reason = failures.recv_async() => reason.ok(),
            }
        }))
    }
}

/// SIGINT and SIGTERM.
#[cfg(unix)]
fn listen() -> io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{signal, SignalKind};
    Ok((
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    ))
}

/// Ctrl-C and Ctrl-Break.
#[cfg(windows)]
fn listen() -> io::Result<(
    tokio::signal::windows::CtrlC,
    tokio::signal::windows::CtrlBreak,
)> {
    use tokio::signal::windows::{ctrl_break, ctrl_c};
    Ok((ctrl_c()?, ctrl_break()?))
}
