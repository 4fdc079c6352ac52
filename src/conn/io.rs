//! Moving bytes between a non-blocking socket and a session — the only I/O
//! a driver does. Every decision (read or not, what to write, when to shut
//! the write side) is the session's.

use std::io;
use std::net::Shutdown;

use super::{H1Session, Link};

/// A non-blocking byte stream a driver moves bytes through.
pub trait Socket {
    /// Reads what is there (`WouldBlock` when nothing is).
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes what the socket takes (`WouldBlock` when it takes nothing).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Sends the peer a FIN; reading stays possible.
    fn shutdown_write(&mut self) -> io::Result<()>;
    /// Pushes bytes a write took but the socket still holds (a TLS layer's
    /// records) toward the kernel: true once none is held. A plain socket
    /// holds none.
    fn flush_held(&mut self) -> io::Result<bool> {
        Ok(true)
    }
    /// Whether written bytes (or a write shutdown) are still held, to be
    /// pushed by [`flush_held`](Self::flush_held) once the socket is
    /// writable.
    fn holds_output(&self) -> bool {
        false
    }
}

impl Socket for std::net::TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(self, buf)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::Write::write(self, buf)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl Socket for tokio::net::TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_read(buf)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.try_write(buf)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        socket2::SockRef::from(&*self).shutdown(Shutdown::Write)
    }
}

/// Byte and request counts of one event, for the owner's counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Traffic {
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Requests answered.
    pub requests: u64,
    /// 5xx and protocol-error responses.
    pub errors: u64,
}

/// What one read did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Bytes arrived; `short` when fewer than asked (the socket is drained,
    /// unless the peer also closed).
    Bytes {
        /// Whether the read returned less than there was room for.
        short: bool,
    },
    /// The peer closed its sending side.
    Eof,
    /// Nothing to read now.
    Blocked,
    /// The socket failed; the session is closed.
    Failed,
}

/// Reads once into the session.
pub fn read_once<S: Socket>(
    session: &mut H1Session,
    sock: &mut S,
    link: &mut Link<'_>,
    traffic: &mut Traffic,
) -> Read {
    let buf = session.read_buf(link.pool);
    let asked = buf.len();
    let got = loop {
        match sock.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => break other,
        }
    };
    match got {
        Ok(0) => {
            session.on_eof(link);
            Read::Eof
        }
        Ok(n) => {
            traffic.bytes_in += n as u64;
            session.on_read(n, link);
            Read::Bytes { short: n < asked }
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            session.on_read_blocked(link.pool);
            Read::Blocked
        }
        Err(_) => {
            session.on_error(link.pool);
            Read::Failed
        }
    }
}

/// Writes what the session queued until the socket refuses more, then shuts
/// the write side when the session asks; false when the socket failed (the
/// session is closed then).
pub fn flush<S: Socket>(
    session: &mut H1Session,
    sock: &mut S,
    link: &mut Link<'_>,
    traffic: &mut Traffic,
) -> bool {
    while !session.transmit().is_empty() {
        match sock.write(session.transmit()) {
            Ok(0) => {
                session.on_error(link.pool);
                return false;
            }
            Ok(n) => {
                traffic.bytes_out += n as u64;
                session.on_sent(n, link);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                session.on_error(link.pool);
                return false;
            }
        }
    }
    match sock.flush_held() {
        Ok(true) => {}
        Ok(false) => return true,
        Err(_) => {
            session.on_error(link.pool);
            return false;
        }
    }
    if session.wants_shutdown_write() {
        // A failed shutdown means the peer is gone: lingering then ends at
        // the first read.
        let _ = sock.shutdown_write();
        session.on_write_shut(link);
    }
    true
}
