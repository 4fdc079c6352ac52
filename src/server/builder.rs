//! `Server`: the plain builder — routes on a config, then `run()` until
//! SIGINT or SIGTERM.

use std::future::Future;
use std::io;

use super::{ServerActor, ServerHandle};
use crate::config::Config;
use crate::handler::{Ctx, HttpError, Request, Response};
use crate::router::Router;

/// A server under construction.
pub struct Server {
    /// Settings.
    config: Config,
    /// Routes.
    router: Router,
}

impl Server {
    /// A server with `config` and no routes.
    pub fn new(config: Config) -> Self {
        Server {
            config,
            router: Router::new(),
        }
    }

    /// The router, for groups, middleware and dispatch settings.
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
    pub fn post<F>(mut self, path: &str, f: F) -> Self
    where
        F: Fn(&mut Ctx<'_>) -> Result<(), HttpError> + Send + Sync + 'static,
    {
        self.router.post(path, f);
        self
    }

    /// Adds a `GET` route with a future handler (always async).
    pub fn get_future<F, Fut>(mut self, path: &str, f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, HttpError>> + Send + 'static,
    {
        self.router.get_future(path, f);
        self
    }

    /// Edits the routes in place.
    pub fn routes(mut self, f: impl FnOnce(&mut Router)) -> Self {
        f(&mut self.router);
        self
    }

    /// Starts serving and returns the handle.
    pub fn start(self) -> io::Result<ServerHandle> {
        ServerActor::spawn(self.config, self.router)
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub fn run(self) -> io::Result<()> {
        let grace = self.config.shutdown_grace;
        // Signal handling is set up before the server starts, so a process
        // that is serving can always be stopped gracefully.
        let signals = Signals::new()?;
        let handle = self.start()?;
        signals.wait()?;
        tracing::info!("signal received; shutting down");
        handle.shutdown(grace)
    }
}

/// The stop signals, listened for from the moment this is built: SIGINT
/// and SIGTERM on Unix, Ctrl-C and Ctrl-Break on Windows.
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
