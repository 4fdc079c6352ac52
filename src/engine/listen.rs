//! Binding one SO_REUSEPORT listener per worker on one address, port 0
//! resolved once by the first bind — or serving an inherited listening
//! socket, every worker on its own descriptor of it.

use std::io;
use std::net::{SocketAddr, TcpListener};

use super::sys;

/// Binds `count` listeners sharing `addr`. When `addr` asks for port 0, the
/// port the first listener got is used for the rest, so every worker listens
/// on the same real port.
pub fn bind_all(
    addr: SocketAddr,
    inherited: Option<i32>,
    count: usize,
) -> io::Result<(SocketAddr, Vec<TcpListener>)> {
    if let Some(fd) = inherited {
        let socket = sys::inherited_listener(fd)?;
        let real = socket.local_addr()?;
        let mut all = Vec::with_capacity(count);
        for _ in 1..count {
            all.push(socket.try_clone()?);
        }
        all.push(socket);
        return Ok((real, all));
    }
    let first = sys::reuseport_listener(addr)?;
    let real = first.local_addr()?;
    let mut all = Vec::with_capacity(count);
    all.push(first);
    for _ in 1..count {
        all.push(sys::reuseport_listener(real)?);
    }
    Ok((real, all))
}
