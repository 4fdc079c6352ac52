//! `TlsSocket`: a rustls server connection over a non-blocking [`Socket`],
//! itself a [`Socket`] of plaintext — what lets the task driver serve
//! HTTP/1.1 over TLS unchanged. It holds at most one write's worth of
//! records: a write first pushes what is held, and takes no plaintext
//! while the kernel refuses it, so backpressure reaches the session.

use std::io::{self, Read as _, Write as _};

use rustls::ServerConnection;

use crate::conn::{Socket, TaskSocket};

/// A TLS connection past its handshake, over the socket `S`.
pub(crate) struct TlsSocket<S> {
    /// rustls's state: records in and out, plaintext received.
    tls: ServerConnection,
    /// The socket the records travel on.
    io: S,
    /// Plaintext rustls holds for the next read (a read smaller than a
    /// record leaves some: the driver may read again without readiness).
    plain_left: usize,
    /// The peer closed (EOF or close_notify): a read returns at once.
    peer_closed: bool,
    /// The write side is to be shut once the held records are out.
    shut_pending: bool,
}

/// `S` as the `io::Read`/`io::Write` rustls moves records with, reading
/// through `read` (so shutdown's check can read past the readiness cache).
struct Raw<'a, S, R> {
    /// The socket.
    io: &'a mut S,
    /// How a read reaches it.
    read: R,
}

impl<S: Socket, R: FnMut(&mut S, &mut [u8]) -> io::Result<usize>> io::Read for Raw<'_, S, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (self.read)(self.io, buf)
    }
}

impl<S: Socket, R> io::Write for Raw<'_, S, R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: Socket> TlsSocket<S> {
    /// `tls` (handshake done) over `io`; plaintext that arrived with the
    /// handshake is read first.
    pub(crate) fn new(mut tls: ServerConnection, io: S) -> Self {
        let state = tls.process_new_packets().ok();
        TlsSocket {
            plain_left: state.as_ref().map_or(0, |s| s.plaintext_bytes_to_read()),
            peer_closed: state.is_some_and(|s| s.peer_has_closed()),
            tls,
            io,
            shut_pending: false,
        }
    }

    /// Pushes held records to the socket: true once none is held
    /// (`WouldBlock` becomes false).
    fn push(&mut self) -> io::Result<bool> {
        while self.tls.wants_write() {
            let mut raw = Raw {
                io: &mut self.io,
                read: S::read,
            };
            match self.tls.write_tls(&mut raw) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.shut_pending {
            self.shut_pending = false;
            self.io.shutdown_write()?;
        }
        Ok(true)
    }

    /// Reads plaintext, pulling records from the socket with `read` when
    /// none is buffered. A peer that closes without close_notify reads as
    /// EOF: HTTP's own framing tells a truncated message.
    fn read_with(
        &mut self,
        buf: &mut [u8],
        read: impl FnMut(&mut S, &mut [u8]) -> io::Result<usize> + Copy,
    ) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => {
                    self.plain_left = self.plain_left.saturating_sub(n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            let mut raw = Raw {
                io: &mut self.io,
                read,
            };
            if self.tls.read_tls(&mut raw)? == 0 {
                self.peer_closed = true;
            }
            match self.tls.process_new_packets() {
                Ok(state) => {
                    self.plain_left = state.plaintext_bytes_to_read();
                    self.peer_closed |= state.peer_has_closed();
                }
                Err(e) => {
                    // The alert rustls queued tells the peer why.
                    let _ = self.push();
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
            }
            // Records rustls answers by itself (key updates, alerts).
            if self.tls.wants_write() {
                self.push()?;
            }
        }
    }
}

impl<S: Socket> Socket for TlsSocket<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(buf, S::read)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.push()? {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.tls.writer().write(buf)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // Records the socket refuses now stay held; the next write or
        // `flush_held` pushes them.
        self.push()?;
        Ok(n)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.tls.send_close_notify();
        self.shut_pending = true;
        self.push().map(drop)
    }

    fn flush_held(&mut self) -> io::Result<bool> {
        self.push()
    }

    fn holds_output(&self) -> bool {
        self.shut_pending || self.tls.wants_write()
    }
}

impl<S: TaskSocket> TaskSocket for TlsSocket<S> {
    async fn readable(&self) -> io::Result<()> {
        if self.plain_left > 0 || self.peer_closed {
            return Ok(());
        }
        self.io.readable().await
    }

    async fn writable(&self) -> io::Result<()> {
        self.io.writable().await
    }

    fn read_arrived(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(buf, S::read_arrived)
    }
}
