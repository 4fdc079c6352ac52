//! The hand-off of a connection from a loop worker to whoever serves async
//! routes. Engines call a [`Promoter`]; they never know who is behind it.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use crate::conn::{InBuf, OutBuf};

/// A connection leaving its worker: the socket, the request that resolved
/// async with every byte after it, and responses not yet written (they leave
/// first).
#[derive(Debug)]
pub struct Promotion {
    /// The socket (non-blocking, no longer registered with the worker's poller).
    pub stream: TcpStream,
    /// The peer.
    pub remote: Option<SocketAddr>,
    /// Unprocessed bytes, starting at the async request.
    pub input: InBuf,
    /// Responses produced inline for earlier requests, not yet written.
    pub output: OutBuf,
}

/// Takes promoted connections.
pub type Promoter = Arc<dyn Fn(Promotion) + Send + Sync>;
