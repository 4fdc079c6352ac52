//! Messages the server and metrics actors accept.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use switchyard_actors::Reply;

use crate::config::EngineKind;
use crate::handler::Handler;
use crate::metrics::Snapshot;
use crate::router::{Dispatch, RouteError};

/// A route to add while the server runs.
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

/// What the engine is and where it listens.
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
