//! h2c connections with the `h2` crate, on two kinds of drivers. On an
//! arbiter (the std engine): the handshake (prior knowledge, or after an
//! `Upgrade: h2c` with the original request as stream 1), one local task
//! per stream (dropped when the client resets it), the idle timeout the
//! crate lacks, and graceful shutdown (GOAWAY, in-flight streams finish
//! until the deadline). On a loop worker ([`H2Session`]): the same
//! connection as a state machine over in-memory buffers, polled in the
//! worker's turns and woken through its queue ([`Wakeups`]); a sync
//! stream is answered in the turn, an async one runs as an [`H2Job`] on
//! the pool with the same per-stream code as the arbiter's.

mod complete;
mod io;
mod job;
#[cfg(test)]
mod loop_tests;
mod memio;
mod ready;
mod session;
mod stream;
mod wake;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};
use tokio::time::{sleep_until, timeout_at};

pub use complete::complete_h2;
pub use io::{Rewind, Tripwire};
pub use job::{H2Job, StreamRunner};
pub use ready::drive_h2;
pub use session::{H2Session, LoopH2};
pub use stream::Incoming;
pub use wake::{Rouse, Wakeups};

use super::READ_CHUNK;
use super::{ConnConfig, InBuf};
use crate::config::EngineKind;
use crate::metrics::Tally;
use crate::proto::h1::DateCache;
use crate::proto::h2::{opening_frames_end, H2Settings, Opening, STREAM1_OPENER};
use crate::router::SharedTable;

/// How long a connection told to go away may take to say goodbye before it
/// is dropped (when no hard deadline comes first).
const GOAWAY_LINGER: Duration = Duration::from_secs(5);

/// What the h2 connections of one worker share (one per arbiter).
pub struct H2Env {
    /// Route table snapshots.
    pub table: Arc<SharedTable>,
    /// Connection settings (body limit, timeouts).
    pub cfg: ConnConfig,
    /// h2 settings and abuse limits.
    pub settings: H2Settings,
    /// The engine serving.
    pub engine: EngineKind,
    /// Where counts go; written only from this worker's arbiter.
    pub tally: Arc<dyn Tally + Send + Sync>,
    /// The cached `date` value.
    pub date: RefCell<DateCache>,
}

/// Serves an HTTP/2 connection whose client preface is at the start of
/// `prefix` (bytes already read) until it closes: h2c on a `TcpStream`, or
/// h2 on a TLS stream whose ALPN chose it.
pub async fn serve_h2<T>(
    stream: T,
    prefix: Bytes,
    remote: Option<SocketAddr>,
    env: Rc<H2Env>,
    stop: watch::Receiver<Option<Instant>>,
) where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let io = Rewind::new(prefix, stream, env.tally.clone());
    let (stalled, trip) = (io.stalled(), io.tripwire());
    drive(io, stalled, trip, None, remote, env, stop).await;
}

/// Serves a connection that just answered `Upgrade: h2c` with 101: collects
/// the client's preface and SETTINGS (some may be in `rest` already), splices
/// in the frame that opens stream 1, and serves `request` as stream 1.
pub async fn serve_upgraded(
    mut stream: TcpStream,
    rest: InBuf,
    request: http::Request<Bytes>,
    remote: Option<SocketAddr>,
    env: Rc<H2Env>,
    stop: watch::Receiver<Option<Instant>>,
) {
    let mut buf = BytesMut::from(rest.filled());
    let until = tokio::time::Instant::from_std(Instant::now() + env.cfg.header_timeout);
    let end = loop {
        match opening_frames_end(&buf) {
            Opening::EndsAt(n) => break n,
            Opening::Invalid => return,
            Opening::NeedMore => {}
        }
        buf.reserve(READ_CHUNK);
        match timeout_at(until, stream.read_buf(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => env.tally.read(n as u64),
            _ => return,
        }
    };
    let mut prefix = BytesMut::with_capacity(buf.len() + STREAM1_OPENER.len());
    prefix.extend_from_slice(&buf[..end]);
    prefix.extend_from_slice(&STREAM1_OPENER);
    prefix.extend_from_slice(&buf[end..]);
    let io = Rewind::new(prefix.freeze(), stream, env.tally.clone());
    let (stalled, trip) = (io.stalled(), io.tripwire());
    drive(io, stalled, trip, Some(request), remote, env, stop).await;
}

/// Counts a stream in flight; its drop marks the connection's last activity.
struct InFlight {
    /// Streams in flight on the connection.
    active: Rc<Cell<usize>>,
    /// When the connection last had a stream finish or start.
    last: Rc<Cell<Instant>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.active.set(self.active.get() - 1);
        self.last.set(Instant::now());
    }
}

/// The accept loop: one local task per stream; the connection is polled here
/// so frames queued by stream tasks reach the socket. `stalled` says since
/// when the socket has refused writes: a client that reads nothing for the
/// write timeout is cut (its output stays bounded by h2's send buffers).
/// `trip` says when the client broke a frame rule the guard checks: the
/// connection goes away with the RFC's code.
async fn drive<T>(
    io: T,
    stalled: Rc<Cell<Option<Instant>>>,
    trip: Rc<Tripwire>,
    mut stream1: Option<http::Request<Bytes>>,
    remote: Option<SocketAddr>,
    env: Rc<H2Env>,
    mut stop: watch::Receiver<Option<Instant>>,
) where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let handshake_until = tokio::time::Instant::from_std(Instant::now() + env.cfg.header_timeout);
    let handshake = env.settings.builder().handshake::<_, Bytes>(io);
    let mut conn = match timeout_at(handshake_until, handshake).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "h2 handshake failed");
            return;
        }
        Err(_) => return,
    };
    // Blocking jobs in flight on this connection: no more than its streams.
    let jobs = Arc::new(Semaphore::new(env.settings.max_concurrent_streams as usize));
    let active = Rc::new(Cell::new(0usize));
    let last = Rc::new(Cell::new(Instant::now()));
    // Set once GOAWAY was sent: when the connection is dropped regardless.
    let mut leaving: Option<Instant> = None;
    loop {
        if let (Some(hard), None) = (*stop.borrow(), leaving) {
            conn.graceful_shutdown();
            leaving = Some(hard);
        }
        let until = match leaving {
            Some(at) => at,
            None if active.get() == 0 => last.get() + env.cfg.idle_timeout,
            None => Instant::now() + env.cfg.idle_timeout,
        };
        // A stall that begins while the select below waits is looked at
        // within one write timeout: the cut comes at most twice as late.
        let write_by = match stalled.get() {
            Some(since) => since + env.cfg.write_timeout,
            None => Instant::now() + env.cfg.write_timeout,
        };
        let until = until.min(write_by);
        tokio::select! {
            next = conn.accept() => match next {
                Some(Ok((req, respond))) => {
                    let req = match stream1.take_if(|_| req_is_stream1(&respond)) {
                        Some(whole) => stream::Incoming::Whole(whole),
                        None => stream::Incoming::Open(req),
                    };
                    active.set(active.get() + 1);
                    last.set(Instant::now());
                    let guard = InFlight { active: active.clone(), last: last.clone() };
                    let (env, jobs) = (env.clone(), jobs.clone());
                    actix_rt::spawn(async move {
                        stream::serve_stream(req, respond, env, remote, jobs).await;
                        drop(guard);
                    });
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "h2 connection error");
                    break;
                }
                None => break,
            },
            _ = sleep_until(tokio::time::Instant::from_std(until)) => {
                let now = Instant::now();
                if stalled.get().is_some_and(|since| now >= since + env.cfg.write_timeout) {
                    tracing::debug!("h2 client does not read; closing");
                    break;
                }
                if leaving.is_some_and(|at| now >= at) {
                    break;
                }
                let idle = active.get() == 0 && now >= last.get() + env.cfg.idle_timeout;
                if idle && leaving.is_none() {
                    conn.graceful_shutdown();
                    leaving = Some(Instant::now() + GOAWAY_LINGER);
                }
            }
            _ = trip.notify.notified() => {
                if let Some(reason) = trip.reason.take() {
                    tracing::debug!(%reason, "h2 client frame breaks a frame rule");
                    conn.abrupt_shutdown(reason);
                }
            }
            changed = stop.changed(), if leaving.is_none() => {
                if changed.is_err() {
                    conn.graceful_shutdown();
                    leaving = Some(Instant::now() + GOAWAY_LINGER);
                }
            }
        }
    }
}

/// Whether the stream is stream 1 (the one an upgrade carries over).
fn req_is_stream1(respond: &h2::server::SendResponse<Bytes>) -> bool {
    u32::from(respond.stream_id()) == 1
}
