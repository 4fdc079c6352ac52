//! `MemIo`: the I/O object a loop-hosted `h2` connection reads and writes —
//! the connection's own byte buffers, which the loop fills from the socket
//! and empties into it (behind a mutex only so the worker stays `Send`; only
//! the worker's thread ever takes it, uncontended). Reads never register a waker (the loop polls the
//! connection again after every read); writes are buffered and refused
//! above a cap, which is the connection's write backpressure.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Unread input above which the loop stops reading the socket until h2 has
/// taken it (h2 has no fairness budget of its own).
pub(super) const READ_CAP: usize = 256 * 1024;

/// Unsent output above which h2's writes are refused (Pending) until the
/// socket takes some.
pub(super) const WRITE_CAP: usize = 256 * 1024;

/// Size asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

use crate::conn::InBuf;
use crate::proto::h2::FrameGuard;

/// The bytes between a socket and its h2 connection.
#[derive(Debug, Default)]
pub(super) struct Bufs {
    /// Bytes read from the socket and not yet taken by h2.
    input: InBuf,
    /// The peer closed its sending side: h2 reads an end after the input.
    pub(super) eof: bool,
    /// Bytes h2 wrote; `output[sent..]` is not yet on the socket.
    output: Vec<u8>,
    /// How much of `output` the socket took.
    sent: usize,
    /// A write was refused at the cap: h2 must be polled again once output
    /// drained.
    pub(super) blocked: bool,
    /// The frame rules checked before h2 reads: once it trips, h2 reads
    /// nothing more and the session ends the connection with its code.
    pub(super) guard: FrameGuard,
}

impl Bufs {
    /// Bytes read and not yet taken by h2.
    pub(super) fn unread(&self) -> &[u8] {
        self.input.filled()
    }

    /// Bytes to put before everything read so far (replayed bytes: the
    /// detection prefix, an upgrade's tail).
    pub(super) fn feed(&mut self, bytes: &[u8]) {
        self.input.extend(bytes);
    }

    /// Puts `bytes` at offset `at` of the unread input.
    pub(super) fn splice(&mut self, at: usize, bytes: &[u8]) {
        let old = std::mem::take(&mut self.input);
        let (before, after) = old.filled().split_at(at);
        self.input.extend(before);
        self.input.extend(bytes);
        self.input.extend(after);
    }

    /// Drops every unread byte (a lingering connection discards input).
    pub(super) fn discard_input(&mut self) {
        self.input.clear();
    }

    /// Room for the next read (report it with [`Bufs::commit`]).
    pub(super) fn spare(&mut self) -> &mut [u8] {
        self.input.spare(READ_CHUNK)
    }

    /// `n` bytes of the last [`Bufs::spare`] were read.
    pub(super) fn commit(&mut self, n: usize) {
        self.input.commit(n);
    }

    /// Bytes to write to the socket.
    pub(super) fn transmit(&self) -> &[u8] {
        &self.output[self.sent..]
    }

    /// Bytes waiting for the socket.
    pub(super) fn pending(&self) -> usize {
        self.output.len() - self.sent
    }

    /// `n` bytes of [`Bufs::transmit`] were written.
    pub(super) fn on_sent(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.output.len() {
            self.output.clear();
            self.sent = 0;
        }
    }

    /// Appends bytes h2 did not produce (the 101 of an upgrade).
    pub(super) fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Whether h2 waits for output room that is there again.
    pub(super) fn unblocked(&self) -> bool {
        self.blocked && self.pending() < WRITE_CAP
    }

    /// Frees the buffers (the connection is done).
    pub(super) fn release(&mut self) {
        *self = Bufs {
            eof: self.eof,
            guard: self.guard.clone(),
            ..Bufs::default()
        };
    }
}

/// A connection's [`Bufs`], shared by its session and h2's [`MemIo`].
#[derive(Debug, Default, Clone)]
pub(super) struct Shared(Arc<Mutex<Bufs>>);

impl Shared {
    /// The buffers (never poisoned in practice: nothing panics holding them).
    pub(super) fn lock(&self) -> MutexGuard<'_, Bufs> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// h2's view of a connection's [`Bufs`].
pub(super) struct MemIo(pub(super) Shared);

impl AsyncRead for MemIo {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut b = self.0.lock();
        let b = &mut *b;
        let unread = b.input.filled();
        if unread.is_empty() || b.guard.tripped().is_some() {
            // No waker: the loop polls the connection after every read (and
            // ends it once the guard tripped).
            return if b.eof && b.guard.tripped().is_none() {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            };
        }
        let n = unread.len().min(buf.remaining());
        let n = b.guard.pass(&unread[..n]);
        if n == 0 {
            return Poll::Pending;
        }
        buf.put_slice(&unread[..n]);
        b.input.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut b = self.0.lock();
        if b.pending() >= WRITE_CAP {
            // No waker: the loop polls again once the socket took output.
            b.blocked = true;
            return Poll::Pending;
        }
        b.output.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut b = self.0.lock();
        if b.pending() >= WRITE_CAP {
            b.blocked = true;
            return Poll::Pending;
        }
        let mut n = 0;
        for s in bufs {
            b.output.extend_from_slice(s);
            n += s.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The loop writes to the socket once per turn: that is the batching.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
