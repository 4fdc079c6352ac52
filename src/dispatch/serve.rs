//! The task that serves an HTTP/1.1 connection on an arbiter — a promoted
//! connection on a dispatch actor, or any connection of the std engine — with
//! the same session code as a loop worker: sync routes on the arbiter, plain
//! handlers of async routes on the blocking pool, future handlers awaited.
//! The only difference between the two users is what a handler run on the
//! arbiter reports as its dispatch.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout_at};

use super::Shared;
use crate::config::EngineKind;
use crate::conn::{
    ConnConfig, Deadline, Env, H1Session, InBuf, Mode, Needs, OutBuf, Outcome, Processed, Progress,
    READ_CHUNK,
};
use crate::engine::Promotion;
use crate::handler::{Response, ServeInfo};
use crate::metrics::{SharedCounters, Tally};
use crate::proto::h1::{DateCache, Phase};
use crate::proto::h2::SWITCHING_PROTOCOLS;
use crate::router::{Dispatch, RouteTable, SharedTable};

/// Everything a connection owns between turns; moves whole to the blocking
/// pool and back.
struct State {
    /// Protocol state.
    session: H1Session,
    /// Unconsumed request bytes.
    input: InBuf,
    /// Responses not yet written.
    output: OutBuf,
    /// The response handlers write.
    resp: Response,
    /// Cached `date` value.
    date: DateCache,
    /// Engine, dispatch on the arbiter, and peer.
    info: ServeInfo,
}

impl State {
    /// Answers what is buffered, in `mode`.
    fn process(&mut self, table: &RouteTable, mode: Mode) -> Processed {
        let (session, input, out, mut env) = self.turn(table);
        let p = session.process(input, out, &mut env, mode);
        self.input.consume(p.consumed);
        p
    }

    /// Answers the buffered request whose route has a future handler.
    async fn process_future(&mut self, table: &RouteTable) -> Processed {
        let (session, input, out, mut env) = self.turn(table);
        let p = session.process_future(input, out, &mut env).await;
        self.input.consume(p.consumed);
        p
    }

    /// The pieces one turn of the session borrows, with the date refreshed.
    fn turn<'s>(
        &'s mut self,
        table: &'s RouteTable,
    ) -> (&'s mut H1Session, &'s [u8], &'s mut Vec<u8>, Env<'s>) {
        self.date.update(SystemTime::now());
        let env = Env {
            table,
            date: &self.date,
            resp: &mut self.resp,
            info: self.info,
        };
        (
            &mut self.session,
            self.input.filled(),
            self.output.vec(),
            env,
        )
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
    /// Whether an `Upgrade: h2c` request switches the connection to h2c.
    pub(crate) h2c_upgrade: bool,
}

/// How an HTTP/1.1 connection task ended.
pub(crate) enum Served {
    /// The connection is closed.
    Closed,
    /// The connection switched to h2c: the 101 is written; serve `request` as
    /// stream 1 and continue with `rest` (bytes already read) on `stream`.
    Upgraded {
        /// The socket.
        stream: TcpStream,
        /// Bytes read after the upgrade request.
        rest: InBuf,
        /// The upgrade request, as h2 stream 1 (boxed: it is large and rare).
        request: Box<http::Request<bytes::Bytes>>,
    },
}

/// Serves a promoted connection until it closes.
pub(super) async fn serve(
    p: Promotion,
    shared: &Shared,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    let stream = match TcpStream::from_std(p.stream) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "promoted socket unusable");
            return;
        }
    };
    let tally: &SharedCounters = &shared.counters;
    tally.opened();
    let with = Serving {
        table: &shared.table,
        cfg: shared.cfg,
        engine: shared.engine,
        arbiter_dispatch: Dispatch::Async,
        tally,
        h2c_upgrade: false,
    };
    serve_h1(stream, p.remote, p.input, p.output, &with, &mut stop).await;
    tally.closed();
}

/// Serves an HTTP/1.1 connection on the current arbiter until it closes or
/// switches to h2c: sync routes run here, plain handlers of async routes on
/// the blocking pool, future handlers awaited; responses leave in order.
/// `input` and `output` are bytes already read and responses already
/// produced (they leave first).
pub(crate) async fn serve_h1(
    mut stream: TcpStream,
    remote: Option<SocketAddr>,
    input: InBuf,
    output: OutBuf,
    with: &Serving<'_>,
    stop: &mut watch::Receiver<Option<Instant>>,
) -> Served {
    let cfg = with.cfg;
    let now = Instant::now();
    let mut session = H1Session::new(&cfg, now);
    if with.h2c_upgrade {
        session = session.allow_h2c_upgrade();
    }
    let mut st = Box::new(State {
        session,
        input,
        output,
        resp: Response::new(),
        date: DateCache::new(SystemTime::now()),
        info: ServeInfo {
            engine: with.engine,
            dispatch: with.arbiter_dispatch,
            remote,
        },
    });
    let mut deadline = Deadline::accepted(now, &cfg);
    let mut next = Next::Open;
    loop {
        let mut progress = Progress::default();
        if next == Next::Open {
            let before = st.input.len();
            let (back, n) = answer_buffered(st, with).await;
            st = match back {
                Some(st) => st,
                None => break,
            };
            progress.answered = st.input.len() < before;
            next = n;
        }
        if next == Next::Upgrade {
            st.output.vec().extend_from_slice(SWITCHING_PROTOCOLS);
        }
        if !st.output.is_empty() {
            let until = tokio::time::Instant::from_std(Instant::now() + cfg.write_timeout);
            match timeout_at(until, stream.write_all(st.output.pending())).await {
                Ok(Ok(())) => {
                    with.tally.wrote(st.output.len() as u64);
                    st.output.clear();
                }
                _ => break,
            }
        }
        match next {
            Next::Close => break,
            Next::Upgrade => {
                let Some(request) = st.session.take_upgrade() else {
                    break;
                };
                return Served::Upgraded {
                    stream,
                    rest: std::mem::take(&mut st.input),
                    request: Box::new(request),
                };
            }
            Next::Open => {}
        }
        let phase = st.session.phase(st.input.len());
        deadline = deadline.next(Instant::now(), phase, false, progress, &cfg);
        let hard_stop = *stop.borrow();
        if hard_stop.is_some() && phase == Phase::Boundary {
            break;
        }
        let until = hard_stop.map_or(deadline.at, |h| h.min(deadline.at));
        tokio::select! {
            read = stream.read(st.input.spare(READ_CHUNK)) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    st.input.commit(n);
                    with.tally.read(n as u64);
                    if st.input.len() > input_cap(&cfg) {
                        tracing::debug!(buffered = st.input.len(), "client too far ahead; closing");
                        break;
                    }
                }
            },
            _ = sleep_until(tokio::time::Instant::from_std(until)) => break,
            _ = stop.changed() => {}
        }
    }
    let _ = stream.shutdown().await;
    Served::Closed
}

/// What follows a batch of answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Keep reading.
    Open,
    /// Write what is queued, then close.
    Close,
    /// Write what is queued and the 101, then switch to h2c.
    Upgrade,
}

/// The most request bytes a promoted connection may hold: the pending-input
/// cap, or one whole largest request when that is bigger (a body may be
/// larger than the cap; bytes beyond one request are never read ahead).
fn input_cap(cfg: &ConnConfig) -> usize {
    let one_request = cfg.limits.max_request_line + cfg.limits.max_header_block;
    let body = usize::try_from(cfg.limits.max_body).unwrap_or(usize::MAX);
    cfg.max_pending_input.max(one_request.saturating_add(body))
}

/// Answers every complete buffered request, moving to the blocking pool for
/// plain handlers of async routes and awaiting future handlers. Returns the
/// state (none when a blocking turn was lost) and what follows.
async fn answer_buffered(mut st: Box<State>, with: &Serving<'_>) -> (Option<Box<State>>, Next) {
    let table = with.table.load_full();
    let mut mode = Mode::Arbiter;
    while !st.input.is_empty() {
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
                        return (None, Next::Close);
                    }
                }
            }
            _ => st.process(&table, mode),
        };
        tally(with, &p, started);
        mode = match p.outcome {
            Outcome::Open => return (Some(st), Next::Open),
            Outcome::Close => return (Some(st), Next::Close),
            Outcome::Stopped(Needs::Upgrade) => return (Some(st), Next::Upgrade),
            Outcome::Stopped(Needs::Blocking) => Mode::Blocking,
            Outcome::Stopped(Needs::Future) => {
                let started = Instant::now();
                let p = st.process_future(&table).await;
                tally(with, &p, started);
                if p.outcome == Outcome::Close {
                    return (Some(st), Next::Close);
                }
                if p.consumed == 0 {
                    return (Some(st), Next::Open);
                }
                Mode::Arbiter
            }
            // Never produced off the loop (only `Mode::Inline` asks for a
            // dispatch actor); were it, the request could not be answered here.
            Outcome::Stopped(Needs::Dispatch) => return (Some(st), Next::Close),
        };
    }
    (Some(st), Next::Open)
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
