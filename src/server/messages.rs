//! Messages the server and metrics actors accept.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use switchyard_actors::Reply;

use crate::config::EngineKind;
use crate::handler::Handler;
use crate::metrics::Snapshot;
use crate::router::{Dispatch, RouteError};

/// A route to add while the server runs, with
/// [`ServerHandle::register`](super::ServerHandle::register) (or
/// [`ServerMsg::RegisterRoute`]).
///
/// # Examples
///
/// ```
/// use switchyard::{Config, Handler, Request, Response, RouteSpec, Server};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
/// #     .start()?;
/// handle.register(RouteSpec {
///     method: "GET".into(),
///     path: "/version".into(),
///     handler: Handler::future(|_req: Request| async move {
///         Ok(Response::with_text(env!("CARGO_PKG_VERSION")))
///     }),
///     dispatch: None, // a future handler always runs async
/// })?;
/// # assert!(get(handle.local_addr(), "/version")?.ends_with(env!("CARGO_PKG_VERSION")));
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
pub struct RouteSpec {
    /// Method token.
    pub method: String,
    /// Pattern.
    pub path: String,
    /// Handler.
    pub handler: Handler,
    /// Explicit dispatch; `None` takes the server default.
    pub dispatch: Option<Dispatch>,
}

/// What the engine is and where it listens
/// ([`ServerHandle::info`](super::ServerHandle::info) has an example).
#[derive(Clone, Copy, Debug)]
pub struct EngineInfo {
    /// The engine serving connections.
    pub engine: EngineKind,
    /// The bound address.
    pub addr: SocketAddr,
    /// Number of workers.
    pub workers: usize,
}

/// The server actor's messages.
pub enum ServerMsg {
    /// Adds a route; the reply comes once the new table is published, so every
    /// request read after it sees the route. An invalid route is answered
    /// with the router's reason and changes nothing.
    RegisterRoute {
        /// The route.
        route: RouteSpec,
        /// Answered when published, or with why the route was refused.
        reply: Reply<Result<(), RouteError>>,
    },
    /// Stops accepting, lets in-flight requests finish within `grace`, closes
    /// everything, then stops the server.
    Shutdown {
        /// How long in-flight requests may take.
        grace: Duration,
        /// Answered once everything stopped.
        reply: Option<Reply<()>>,
    },
    /// Stops accepting new connections.
    PauseAccept {
        /// Answered once every worker closed its listener.
        reply: Reply<io::Result<()>>,
    },
    /// Accepts again.
    ResumeAccept {
        /// Answered once every worker listens again.
        reply: Reply<io::Result<()>>,
    },
    /// Asks what is running.
    EngineInfo {
        /// The answer.
        reply: Reply<EngineInfo>,
    },
}

/// The metrics actor's messages.
pub enum MetricsMsg {
    /// Asks for the current totals.
    Snapshot {
        /// The answer.
        reply: Reply<Snapshot>,
    },
}
