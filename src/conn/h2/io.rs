//! `Rewind`: the socket handed to the `h2` server, which first replays the
//! bytes already read from it (protocol detection, the upgrade request's
//! tail, the spliced stream-1 opener), counts the traffic, notes since when
//! its writes have been stalled (the write timeout's clock), and lets the
//! client's bytes through a [`FrameGuard`].

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::metrics::Tally;
use crate::proto::h2::FrameGuard;

/// What a [`Rewind`] tells its connection's driver when its guard trips:
/// the code to go away with, and a wake.
#[derive(Default)]
pub struct Tripwire {
    /// The code, once the guard tripped.
    pub reason: Cell<Option<h2::Reason>>,
    /// Wakes the driver.
    pub notify: tokio::sync::Notify,
}

/// A socket with bytes to replay before reading it again.
pub struct Rewind<T> {
    /// Bytes read earlier, replayed first.
    prefix: Bytes,
    /// The socket.
    inner: T,
    /// Where the byte counts go (polled only on the connection's own thread).
    tally: Arc<dyn Tally + Send + Sync>,
    /// Since when a write has found the socket full with no write making
    /// progress after it; `None` while output flows.
    stalled: Rc<Cell<Option<Instant>>>,
    /// The frame rules checked before h2 reads.
    guard: FrameGuard,
    /// Where a trip of the guard is told.
    trip: Rc<Tripwire>,
}

impl<T> Rewind<T> {
    /// `inner`, replaying `prefix` first. `prefix` was already counted as read.
    pub fn new(prefix: Bytes, inner: T, tally: Arc<dyn Tally + Send + Sync>) -> Self {
        Rewind {
            prefix,
            inner,
            tally,
            stalled: Rc::default(),
            guard: FrameGuard::new(),
            trip: Rc::default(),
        }
    }

    /// Where a trip of the frame guard is told (shared with the driver).
    pub fn tripwire(&self) -> Rc<Tripwire> {
        self.trip.clone()
    }

    /// Lets through what the guard passes of the `from..` bytes of `buf`
    /// (just filled); false when none did because it tripped.
    fn guard(&mut self, buf: &mut ReadBuf<'_>, from: usize) -> bool {
        let end = buf.filled().len();
        let passed = self.guard.pass(&buf.filled()[from..]);
        if from + passed == end {
            return true;
        }
        buf.set_filled(from + passed);
        if let Some(reason) = self.guard.tripped() {
            self.trip.reason.set(Some(reason));
            self.trip.notify.notify_one();
        }
        passed > 0
    }

    /// Since when the socket's writes have been stalled (shared: the
    /// connection's driver reads it while h2 owns the socket).
    pub fn stalled(&self) -> Rc<Cell<Option<Instant>>> {
        self.stalled.clone()
    }

    /// Notes what a write came to.
    fn note(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Ready(Ok(n)) => {
                self.tally.wrote(*n as u64);
                if *n > 0 {
                    self.stalled.set(None);
                }
            }
            Poll::Pending if self.stalled.get().is_none() => {
                self.stalled.set(Some(Instant::now()));
            }
            _ => {}
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.guard.tripped().is_some() {
            // The driver ends the connection; h2 reads nothing more.
            return Poll::Pending;
        }
        let before = buf.filled().len();
        if !self.prefix.is_empty() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return if self.guard(buf, before) {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            };
        }
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.tally.read(n as u64);
            if !self.guard(buf, before) {
                return Poll::Pending;
            }
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
