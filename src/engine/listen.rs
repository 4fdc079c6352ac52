//! Binding one SO_REUSEPORT listener per worker on one address, port 0
//! resolved once by the first bind — or serving an inherited listening
//! socket, every worker on its own descriptor of it — and the port two
//! engines share, socket by socket.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};

use super::control::Record;
use super::sys;
use crate::config::Resolved;

/// Where an engine's workers get their listening sockets.
#[derive(Clone, Debug)]
pub enum Listen {
    /// Sockets of their own: one SO_REUSEPORT socket per worker bound now
    /// (or the inherited one), a fresh one on every resume.
    Own,
    /// The sockets of a port shared with another engine.
    Shared {
        /// The port.
        port: Arc<SharedPort>,
        /// Whether the workers accept from the start (else they start
        /// paused, with no descriptor of the port's sockets).
        accepting: bool,
    },
}

/// One worker's start: its first listener (none when it starts paused) and
/// its control record.
pub(crate) type WorkerStart = (Option<TcpListener>, Record);

/// The real address and every worker's start, as `plan` says.
pub(crate) fn worker_starts(
    cfg: &Resolved,
    plan: &Listen,
) -> io::Result<(SocketAddr, Vec<WorkerStart>)> {
    match plan {
        Listen::Own => {
            let (addr, all) = bind_all(cfg.addr, cfg.listen_fd, cfg.workers)?;
            let starts = all
                .into_iter()
                .map(|l| (Some(l), Record::default()))
                .collect();
            Ok((addr, starts))
        }
        Listen::Shared { port, accepting } => {
            let mut starts = Vec::with_capacity(cfg.workers);
            for i in 0..cfg.workers {
                let first = match accepting {
                    true => Some(port.listener(i)?),
                    false => None,
                };
                starts.push((first, Record::on_port(port.clone(), i, *accepting)));
            }
            Ok((port.addr(), starts))
        }
    }
}

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

/// Listening sockets two engines share (the adaptive engine's): worker `i`
/// of either engine accepts on socket `i`, through a descriptor of its own.
/// The port keeps one more descriptor of every socket, so a socket stays
/// open — its accept queue intact — while no worker has it (between one
/// engine's worker closing its descriptor and the other's opening one), and
/// only [`close`](Self::close) lets the last descriptor go.
///
/// The sockets stay non-blocking: the open file, and so the flag, is the
/// same for both engines.
#[derive(Debug)]
pub struct SharedPort {
    /// The bound address (the real port).
    addr: SocketAddr,
    /// One socket per worker index; `None` once closed, until a worker
    /// asks for it again.
    sockets: Mutex<Vec<Option<TcpListener>>>,
}

impl SharedPort {
    /// Binds `count` sockets as [`bind_all`] does.
    pub fn bind(addr: SocketAddr, inherited: Option<i32>, count: usize) -> io::Result<Self> {
        let (addr, all) = bind_all(addr, inherited, count)?;
        Ok(SharedPort {
            addr,
            sockets: Mutex::new(all.into_iter().map(Some).collect()),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A descriptor of socket `index`, bound afresh (SO_REUSEPORT on the
    /// port's address) if the port was closed.
    pub fn listener(&self, index: usize) -> io::Result<TcpListener> {
        let mut sockets = self.sockets.lock().unwrap_or_else(PoisonError::into_inner);
        if sockets.len() <= index {
            sockets.resize_with(index + 1, || None);
        }
        if let Some(s) = &sockets[index] {
            return s.try_clone();
        }
        let fresh = sys::reuseport_listener(self.addr)?;
        let dup = fresh.try_clone()?;
        sockets[index] = Some(fresh);
        Ok(dup)
    }

    /// Lets go of the port's own descriptors: a socket closes once the
    /// workers' are closed too (a pause, a shutdown).
    pub fn close(&self) {
        let mut sockets = self.sockets.lock().unwrap_or_else(PoisonError::into_inner);
        for s in sockets.iter_mut() {
            *s = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    use super::*;

    #[test]
    fn a_shared_socket_outlives_its_workers_descriptors_until_closed() {
        let port = SharedPort::bind("127.0.0.1:0".parse().unwrap(), None, 2).expect("bind");
        let (a, b) = (
            port.listener(0).expect("dup"),
            port.listener(1).expect("dup"),
        );
        drop((a, b));
        // No worker holds a descriptor: the port's keep the sockets
        // listening, and a client is queued rather than refused.
        let queued = TcpStream::connect(port.addr()).expect("queued, not refused");
        let l = port.listener(0).expect("dup");
        let l2 = port.listener(1).expect("dup");
        l.set_nonblocking(true).unwrap();
        l2.set_nonblocking(true).unwrap();
        assert!(
            l.accept().is_ok() || l2.accept().is_ok(),
            "the queued client is accepted through a later descriptor"
        );
        drop(queued);
        port.close();
        drop((l, l2));
        assert!(TcpStream::connect(port.addr()).is_err(), "closed: refused");
        // Asked again, the port binds afresh on the same address.
        let fresh = port.listener(0).expect("rebind");
        assert_eq!(fresh.local_addr().unwrap(), port.addr());
        assert!(TcpStream::connect(port.addr()).is_ok());
    }
}
