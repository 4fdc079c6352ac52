//! The task driver: serves an [`H1Session`] as an async task on an arbiter
//! — a promoted connection on its dispatch actor, or any HTTP/1.1
//! connection of the std engine. Sync routes run on the arbiter, plain
//! handlers of async routes on the blocking pool, future handlers are
//! awaited; between turns it waits for whatever the session asks for
//! (readability, writability, a live body's next piece, its deadline).
//! Like every driver it only moves bytes: the policies are the session's.
//! It serves any [`TaskSocket`]: a tokio `TcpStream`, or TLS above one.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::sleep_until;

use super::io::{flush, read_once, Read, Socket, Traffic};
use super::{BufPool, ConnConfig, Env, H1Session, InBuf, Link, Mode, Needs, Outcome, Processed};
use crate::config::EngineKind;
use crate::handler::{Response, ServeInfo};
use crate::metrics::Tally;
use crate::proto::h1::DateCache;
use crate::router::{Dispatch, RouteTable, SharedTable};

/// Size of the task's own buffers.
const BUF_SIZE: usize = super::READ_CHUNK;

/// Everything a connection owns between turns; moves whole to the blocking
/// pool and back.
struct State {
    /// The connection.
    session: H1Session,
    /// Its spare buffers.
    pool: BufPool,
    /// The response handlers write.
    resp: Response,
    /// Cached `date` value.
    date: DateCache,
    /// Engine, dispatch on the arbiter, and peer.
    info: ServeInfo,
    /// Connection settings.
    cfg: ConnConfig,
}

impl State {
    /// The session's link for an event now.
    fn link(&mut self) -> (&mut H1Session, Link<'_>) {
        let link = Link {
            pool: &mut self.pool,
            cfg: &self.cfg,
            now: Instant::now(),
        };
        (&mut self.session, link)
    }

    /// Answers what is buffered, in `mode`.
    fn process(&mut self, table: &RouteTable, mode: Mode) -> Processed {
        let (session, mut env, mut link) = self.turn(table);
        session.process(&mut env, mode, &mut link)
    }

    /// Answers the buffered request whose route has a future handler.
    async fn process_future(&mut self, table: &RouteTable) -> Processed {
        let (session, mut env, mut link) = self.turn(table);
        session.process_future(&mut env, &mut link).await
    }

    /// The pieces one answering turn borrows, with the date refreshed.
    fn turn<'s>(&'s mut self, table: &'s RouteTable) -> (&'s mut H1Session, Env<'s>, Link<'s>) {
        self.date.update(SystemTime::now());
        let env = Env {
            table,
            date: &self.date,
            resp: &mut self.resp,
            info: self.info,
        };
        let link = Link {
            pool: &mut self.pool,
            cfg: &self.cfg,
            now: Instant::now(),
        };
        (&mut self.session, env, link)
    }
}

/// A socket the task driver serves: non-blocking reads and writes, and
/// waits for readiness. The choice of socket (plain or TLS) is made once
/// per connection, when the driver is instantiated for it.
pub trait TaskSocket: Socket {
    /// Resolves once a read may make progress (bytes, EOF or an error).
    fn readable(&self) -> impl Future<Output = io::Result<()>>;
    /// Resolves once a write may make progress.
    fn writable(&self) -> impl Future<Output = io::Result<()>>;
    /// Reads what has arrived now, past the runtime's readiness cache (see
    /// [`read_arrived`]): shutdown asks this before it calls a connection
    /// idle.
    fn read_arrived(&mut self, buf: &mut [u8]) -> io::Result<usize>;
}

impl TaskSocket for TcpStream {
    fn readable(&self) -> impl Future<Output = io::Result<()>> {
        TcpStream::readable(self)
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> {
        TcpStream::writable(self)
    }

    fn read_arrived(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_arrived(self, buf)
    }
}

/// What a connection task is lent by whoever runs it.
pub(crate) struct Serving<'a> {
    /// Route table snapshots.
    pub(crate) table: &'a SharedTable,
    /// Connection settings.
    pub(crate) cfg: ConnConfig,
    /// The engine the connection belongs to.
    pub(crate) engine: EngineKind,
    /// What a handler run on the arbiter itself reports: `Async` on a
    /// dispatch actor (the connection left its loop worker), `Inline` on the
    /// std engine (the arbiter is the connection's worker). Handlers run on
    /// the blocking pool or awaited always report `Async`.
    pub(crate) arbiter_dispatch: Dispatch,
    /// Where the counts go.
    pub(crate) tally: &'a dyn Tally,
}

/// How an HTTP/1.1 connection task ended.
pub(crate) enum Served<T> {
    /// The connection is closed.
    Closed,
    /// The connection switched to h2c: the 101 is written; serve `request` as
    /// stream 1 and continue with `rest` (bytes already read) on `stream`.
    Upgraded {
        /// The socket.
        stream: T,
        /// Bytes read after the upgrade request.
        rest: InBuf,
        /// The upgrade request, as h2 stream 1 (boxed: it is large and rare).
        request: Box<http::Request<bytes::Bytes>>,
    },
}

/// Serves `session` on `stream` until it closes or switches to h2c; `stop`
/// carries the shutdown deadline once shutdown begins (the connection then
/// closes at its next request boundary, and at the deadline regardless).
pub(crate) async fn serve_h1<T: TaskSocket>(
    mut stream: T,
    session: H1Session,
    remote: Option<SocketAddr>,
    with: &Serving<'_>,
    stop: &mut watch::Receiver<Option<Instant>>,
) -> Served<T> {
    let mut st = Box::new(State {
        session,
        pool: BufPool::new(BUF_SIZE),
        resp: Response::new(),
        date: DateCache::new(SystemTime::now()),
        info: ServeInfo {
            engine: with.engine,
            dispatch: with.arbiter_dispatch,
            remote,
        },
        cfg: with.cfg,
    });
    loop {
        let upgrade = match answer_buffered(st, with).await {
            (Some(back), upgrade) => {
                st = back;
                upgrade
            }
            (None, _) => return Served::Closed,
        };
        let mut traffic = Traffic::default();
        let (session, mut link) = st.link();
        let ok = flush(session, &mut stream, &mut link, &mut traffic);
        with.tally.wrote(traffic.bytes_out);
        if !ok || st.session.is_closed() {
            break;
        }
        if upgrade && st.session.transmit().is_empty() {
            let Some(request) = st.session.take_upgrade() else {
                break;
            };
            return Served::Upgraded {
                stream,
                rest: st.session.take_input(),
                request: Box::new(request),
            };
        }
        let hard_stop = *stop.borrow();
        if let Some(hard) = hard_stop {
            if Instant::now() >= hard {
                break;
            }
            st.session.begin_drain();
            // The session closes only once a read proves nothing arrived. It
            // asks the kernel directly: bytes that came while the arbiter was
            // busy in a handler are not yet in tokio's readiness.
            if st.session.wants_idle_proof() && !upgrade {
                match read_now(&mut st, &mut Arrived(&mut stream), with) {
                    Read::Failed => break,
                    Read::Bytes { .. } | Read::Eof | Read::Blocked => continue,
                }
            }
        }
        let wants_read = st.session.wants_read() && !upgrade;
        let wants_write = !st.session.transmit().is_empty() || stream.holds_output();
        let body = st.session.wants_body_chunk().cloned();
        let deadline = st.session.deadline().at;
        let until = hard_stop.map_or(deadline, |h| h.min(deadline));
        tokio::select! {
            ready = stream.readable(), if wants_read => {
                if ready.is_err() {
                    break;
                }
                if read_now(&mut st, &mut stream, with) == Read::Failed {
                    break;
                }
            }
            ready = stream.writable(), if wants_write => {
                if ready.is_err() {
                    break;
                }
            }
            piece = next_piece(body.as_ref()), if body.is_some() => {
                let (session, mut link) = st.link();
                session.on_body_chunk(piece, &mut link);
            }
            _ = sleep_until(tokio::time::Instant::from_std(until)) => {
                if hard_stop.is_some_and(|h| Instant::now() >= h) {
                    break;
                }
                let (session, mut link) = st.link();
                session.on_timeout(&mut link);
            }
            changed = stop.changed() => {
                // The owner is gone (its drain deadline passed): stop now
                // rather than wake on a closed channel forever.
                if changed.is_err() {
                    break;
                }
            }
        }
        if st.session.is_closed() {
            break;
        }
    }
    st.session.release(&mut st.pool);
    Served::Closed
}

/// Reads once into the session, counting the bytes.
fn read_now<S: Socket>(st: &mut State, sock: &mut S, with: &Serving<'_>) -> Read {
    let (session, mut link) = st.link();
    let mut traffic = Traffic::default();
    let read = read_once(session, sock, &mut link, &mut traffic);
    with.tally.read(traffic.bytes_in);
    read
}

/// Reads what the kernel holds for `stream` now, past tokio's readiness
/// cache: `try_read` answers `WouldBlock` without asking the kernel until the
/// reactor has seen the socket readable, which it has not while the arbiter
/// was busy in a handler. Shutdown asks this before it calls a connection
/// idle.
pub(crate) fn read_arrived(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    std::io::Read::read(&mut &*socket2::SockRef::from(stream), buf)
}

/// A task's socket read with [`TaskSocket::read_arrived`] (for the shutdown
/// check only; the driver's own reads go through tokio's readiness).
struct Arrived<'s, T>(&'s mut T);

impl<T: TaskSocket> Socket for Arrived<'_, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_arrived(buf)
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Socket::write(self.0, buf)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        Socket::shutdown_write(self.0)
    }
}

/// The next piece of a live body (`None` once the handler dropped its sender).
async fn next_piece(body: Option<&flume::Receiver<bytes::Bytes>>) -> Option<bytes::Bytes> {
    match body {
        Some(rx) => rx.recv_async().await.ok(),
        None => std::future::pending().await,
    }
}

/// Answers every complete buffered request the session lets through, moving
/// to the blocking pool for plain handlers of async routes and awaiting
/// future handlers. Returns the state (none when a blocking turn was lost)
/// and whether the connection switches to h2c.
async fn answer_buffered(mut st: Box<State>, with: &Serving<'_>) -> (Option<Box<State>>, bool) {
    let table = with.table.load_full();
    let mut mode = Mode::Arbiter;
    loop {
        let started = Instant::now();
        let p = match mode {
            Mode::Blocking => {
                let table = table.clone();
                match actix_rt::task::spawn_blocking(move || {
                    let p = st.process(&table, Mode::Blocking);
                    (st, p)
                })
                .await
                {
                    Ok((back, p)) => {
                        st = back;
                        p
                    }
                    Err(_) => {
                        tracing::error!("blocking handler turn failed; closing the connection");
                        return (None, false);
                    }
                }
            }
            _ => st.process(&table, mode),
        };
        tally(with, &p, started);
        mode = match p.outcome {
            Outcome::Close => return (Some(st), false),
            Outcome::Stopped(Needs::Upgrade) => return (Some(st), true),
            Outcome::Stopped(Needs::Blocking) => Mode::Blocking,
            Outcome::Stopped(Needs::Future) => {
                let started = Instant::now();
                let p = st.process_future(&table).await;
                tally(with, &p, started);
                if p.outcome == Outcome::Close || p.consumed == 0 {
                    return (Some(st), false);
                }
                Mode::Arbiter
            }
            // Never produced off the loop (only `Mode::Inline` asks for a
            // dispatch actor).
            Outcome::Stopped(Needs::Dispatch) => return (Some(st), false),
            // After a blocking turn, the requests behind it are the arbiter's
            // again; otherwise everything answerable was answered.
            Outcome::Open if mode == Mode::Blocking && p.requests > 0 => Mode::Arbiter,
            Outcome::Open => return (Some(st), false),
        };
    }
}

/// Reports a batch's answers.
fn tally(with: &Serving<'_>, p: &Processed, started: Instant) {
    if p.requests > 0 {
        with.tally.answered(
            u64::from(p.requests),
            u64::from(p.errors),
            started.elapsed(),
        );
    }
}
