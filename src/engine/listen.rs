//! Binding one SO_REUSEPORT listener per worker on one address, port 0
//! resolved once by the first bind.

use std::io;
use std::net::{SocketAddr, TcpListener};

use super::sys;

/// Binds `count` listeners sharing `addr`. When `addr` asks for port 0, the
/// port the first listener got is used for the rest, so every worker listens
/// on the same real port.
pub fn bind_all(addr: SocketAddr, count: usize) -> io::Result<(SocketAddr, Vec<TcpListener>)> {
    let first = sys::reuseport_listener(addr)?;
    let real = first.local_addr()?;
    let mut all = Vec::with_capacity(count);
    all.push(first);
    for _ in 1..count {
        all.push(sys::reuseport_listener(real)?);
    }
    Ok((real, all))
}
