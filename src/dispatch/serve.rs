//! The task that serves a promoted connection: the same session code as a
//! loop worker, run on an arbiter, with plain handlers of async routes sent to
//! the blocking pool and future handlers awaited.

use std::time::{Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout_at};

use super::Shared;
use crate::conn::{
    ConnConfig, Deadline, Env, H1Session, InBuf, Mode, Needs, OutBuf, Outcome, Processed,
};
use crate::engine::Promotion;
use crate::handler::{Response, ServeInfo};
use crate::proto::h1::{DateCache, Phase};
use crate::router::{Dispatch, RouteTable};

/// Read size asked of the socket per call.
const READ_CHUNK: usize = 16 * 1024;

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
    /// Engine, dispatch (`Async`) and peer.
    info: ServeInfo,
}

impl State {
    /// Answers what is buffered, in `mode`.
    fn process(&mut self, table: &RouteTable, mode: Mode) -> Processed {
        self.date.update(SystemTime::now());
        let mut env = Env {
            table,
            date: &self.date,
            resp: &mut self.resp,
            info: self.info,
        };
        let p = self
            .session
            .process(self.input.filled(), self.output.vec(), &mut env, mode);
        self.input.consume(p.consumed);
        p
    }

    /// Answers the buffered request whose route has a future handler.
    async fn process_future(&mut self, table: &RouteTable) -> Processed {
        self.date.update(SystemTime::now());
        let mut env = Env {
            table,
            date: &self.date,
            resp: &mut self.resp,
            info: self.info,
        };
        let p = self
            .session
            .process_future(self.input.filled(), self.output.vec(), &mut env)
            .await;
        self.input.consume(p.consumed);
        p
    }
}

/// Serves a promoted connection until it closes.
pub(super) async fn serve(
    p: Promotion,
    shared: &Shared,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let counters = &shared.counters;
    let mut stream = match TcpStream::from_std(p.stream) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "promoted socket unusable");
            return;
        }
    };
    counters.active.fetch_add(1, Relaxed);
    let cfg = shared.cfg;
    let now = Instant::now();
    let mut st = Box::new(State {
        session: H1Session::new(&cfg, now),
        input: p.input,
        output: p.output,
        resp: Response::new(),
        date: DateCache::new(SystemTime::now()),
        info: ServeInfo {
            engine: shared.engine,
            dispatch: Dispatch::Async,
            remote: p.remote,
        },
    });
    let mut deadline = Deadline::accepted(now, &cfg);
    let mut closing = false;
    loop {
        if !closing {
            let (next, close) = answer_buffered(st, shared).await;
            st = match next {
                Some(st) => st,
                None => break,
            };
            closing = close;
        }
        if !st.output.is_empty() {
            let until = tokio::time::Instant::from_std(Instant::now() + cfg.write_timeout);
            match timeout_at(until, stream.write_all(st.output.pending())).await {
                Ok(Ok(())) => {
                    counters
                        .bytes_out
                        .fetch_add(st.output.len() as u64, Relaxed);
                    st.output.clear();
                }
                _ => break,
            }
        }
        if closing {
            break;
        }
        let phase = st.session.phase(st.input.len());
        deadline = deadline.next(Instant::now(), phase, false, &cfg);
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
                    counters.bytes_in.fetch_add(n as u64, Relaxed);
                    if st.input.len() > input_cap(&cfg) {
                        tracing::debug!(buffered = st.input.len(), "promoted client too far ahead; closing");
                        break;
                    }
                }
            },
            _ = sleep_until(tokio::time::Instant::from_std(until)) => break,
            _ = stop.changed() => {}
        }
    }
    let _ = stream.shutdown().await;
    counters.active.fetch_sub(1, Relaxed);
    counters.closes.fetch_add(1, Relaxed);
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
/// state (none when a blocking turn was lost) and whether to close.
async fn answer_buffered(mut st: Box<State>, shared: &Shared) -> (Option<Box<State>>, bool) {
    use std::sync::atomic::Ordering::Relaxed;
    let counters = &shared.counters;
    let table = shared.table.load_full();
    let mut mode = Mode::Arbiter;
    while !st.input.is_empty() {
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
                        return (None, true);
                    }
                }
            }
            _ => st.process(&table, mode),
        };
        counters.requests.fetch_add(u64::from(p.requests), Relaxed);
        counters.errors.fetch_add(u64::from(p.errors), Relaxed);
        mode = match p.outcome {
            Outcome::Open => return (Some(st), false),
            Outcome::Close => return (Some(st), true),
            Outcome::Stopped(Needs::Blocking) => Mode::Blocking,
            Outcome::Stopped(Needs::Future) => {
                let p = st.process_future(&table).await;
                counters.requests.fetch_add(u64::from(p.requests), Relaxed);
                counters.errors.fetch_add(u64::from(p.errors), Relaxed);
                if p.outcome == Outcome::Close {
                    return (Some(st), true);
                }
                if p.consumed == 0 {
                    return (Some(st), false);
                }
                Mode::Arbiter
            }
            // An arbiter never stops for a dispatch actor: it is one.
            Outcome::Stopped(Needs::Dispatch) => return (Some(st), false),
        };
    }
    (Some(st), false)
}
