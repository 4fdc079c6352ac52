//! The hand-off of a connection from a loop worker to whoever serves async
//! routes. Engines call a [`Promoter`]; they never know who is behind it.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use crate::config::EngineKind;
use crate::conn::H1Session;

/// A connection leaving its worker: the socket and its session, which holds
/// the request that resolved async with every byte after it, responses not
/// yet written (they leave first), and a live body being sent.
#[derive(Debug)]
pub struct Promotion {
    /// The socket (non-blocking, no longer registered with the worker's poller).
    pub stream: TcpStream,
    /// The peer.
    pub remote: Option<SocketAddr>,
    /// The connection's state, carried whole.
    pub session: H1Session,
    /// The engine that accepted it (its answers name it in `x-engine`: under
    /// the adaptive engine both loop engines promote to the same pool).
    pub engine: EngineKind,
}

/// Takes promoted connections.
pub type Promoter = Arc<dyn Fn(Promotion) + Send + Sync>;
