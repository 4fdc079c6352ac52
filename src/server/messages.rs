//! Messages the server and metrics actors accept.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use switchyard_actors::{Addr, Reply};

use super::MetricsActor;
use crate::config::EngineKind;
use crate::engine::adaptive::{Status as AdaptiveStatus, SwitchError};
use crate::handler::{Handler, HttpError};
use crate::metrics::prometheus::Format;
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

impl RouteSpec {
    /// `GET path` serving every counter in the Prometheus text format (or
    /// OpenMetrics when the scraper's `Accept` asks for it), read from
    /// `metrics` on each scrape. Mounted in one line once the server runs:
    ///
    /// ```
    /// use switchyard::{Config, RouteSpec, Server};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
    ///     .get("/hello", |ctx| { ctx.text("hi"); Ok(()) })
    ///     .start()?;
    /// handle.register(RouteSpec::prometheus("/metrics/prometheus", handle.metrics()))?;
    /// # let text = get(handle.local_addr(), "/metrics/prometheus")?;
    /// # assert!(text.contains("content-type: text/plain; version=0.0.4"), "{text}");
    /// # assert!(text.contains("# TYPE switchyard_requests_total counter"), "{text}");
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
    pub fn prometheus(path: &str, metrics: &Addr<MetricsActor>) -> Self {
        let metrics = metrics.clone();
        RouteSpec {
            method: "GET".into(),
            path: path.into(),
            handler: Handler::plain(move |ctx| {
                let format = Format::negotiate(ctx.header("accept"));
                let text = metrics
                    .ask_blocking(
                        |reply| MetricsMsg::Prometheus { format, reply },
                        METRICS_ASK,
                    )
                    .map_err(|_| HttpError::new(503, "metrics unavailable"))?;
                ctx.response().bytes(format.content_type(), text.as_bytes());
                Ok(())
            }),
            // Answered on the worker: the metrics actor replies in microseconds.
            dispatch: Some(Dispatch::Inline),
        }
    }
}

/// How long a scrape waits for the metrics actor.
const METRICS_ASK: Duration = Duration::from_secs(5);

/// What the engine is and where it listens
/// ([`ServerHandle::info`](super::ServerHandle::info) has an example).
#[derive(Clone, Copy, Debug)]
pub struct EngineInfo {
    /// The engine new connections go to (under the adaptive engine, the
    /// active one at the time of the answer).
    pub engine: EngineKind,
    /// The bound address.
    pub addr: SocketAddr,
    /// Number of workers (of each engine, under the adaptive engine).
    pub workers: usize,
    /// The adaptive engine's state: switches so far, the controller's last
    /// decision and why (`None` for every other engine).
    pub adaptive: Option<AdaptiveStatus>,
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
    /// Removes a route while the server runs.
    UnregisterRoute {
        /// Method token.
        method: String,
        /// Pattern (any pattern of the same shape names the same route).
        path: String,
        /// Answered once the table without it is published: whether there
        /// was such a route.
        reply: Reply<bool>,
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
    /// Adaptive engine only: moves new connections to the other engine
    /// now, whatever the controller would decide (operators, tests). The
    /// other engine accepts before the old one stops; established
    /// connections finish where they are.
    ForceSwitch {
        /// The engine new connections go to from now, answered once the
        /// old one stopped accepting; or why there was no switch (another
        /// engine than the adaptive one, io_uring refused here, accepting
        /// paused).
        reply: Reply<Result<EngineKind, SwitchError>>,
    },
}

/// The metrics actor's messages.
pub enum MetricsMsg {
    /// Asks for the current totals.
    Snapshot {
        /// The answer.
        reply: Reply<Snapshot>,
    },
    /// Samples the counters (the supervisor's 1 s tick): the rates in
    /// later snapshots are computed between two samples.
    Tick,
    /// Asks for every counter in a Prometheus exposition format.
    Prometheus {
        /// Which format.
        format: crate::metrics::prometheus::Format,
        /// The text.
        reply: Reply<String>,
    },
}
