//! `H1Session`: one HTTP/1.1 connection as a sans-IO state machine that owns
//! every connection policy — read pausing, the input and output caps,
//! deadlines, lingering close, live (streamed) bodies — so that every driver
//! (a readiness loop, a completion ring, an async task) only moves bytes.
//!
//! ```text
//!  Serving ──close asked / peer FIN / bad framing──▶ Closing ──output drained──▶ (driver
//!     │                                                 shuts its write side) ──▶ Lingering
//!     └──────── deadline ran out / socket error ──▶ Closed ◀── peer EOF or linger deadline ──┘
//! ```
//!
//! A driver feeds events — [`H1Session::on_read`] (or [`H1Session::on_bytes`]),
//! [`H1Session::on_eof`], [`H1Session::on_sent`], [`H1Session::on_write_shut`],
//! [`H1Session::on_body_chunk`], [`H1Session::on_timeout`] — and asks what to
//! do: [`H1Session::wants_read`], [`H1Session::transmit`],
//! [`H1Session::wants_shutdown_write`], [`H1Session::wants_body_chunk`],
//! [`H1Session::deadline`], [`H1Session::is_closed`]. Requests are answered
//! by [`H1Session::process`] in the mode the driver can run handlers in.

use std::time::Instant;

use bytes::Bytes;

use super::{
    respond, respond_future, BufPool, ConnConfig, Deadline, DeadlineKind, Env, InBuf, Mode, Needs,
    OutBuf, Progress, Responded,
};
use crate::proto::h1::{self, encode_chunk, encode_error, H1Conn, Phase, Poll, LAST_CHUNK};

/// Read size asked of the socket per call (by every HTTP/1.1 reader).
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// How a processed batch leaves the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Keep serving.
    Open,
    /// Write what is queued, then close (an error response or `Connection: close`).
    Close,
    /// The request at `consumed` cannot run here; it and every byte after it
    /// must be served by whoever can run what it needs.
    Stopped(Needs),
}

/// The result of [`H1Session::process`] (`Default`: nothing done, `Open`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Processed {
    /// Input bytes fully handled (requests answered).
    pub consumed: usize,
    /// What happens next.
    pub outcome: Outcome,
    /// Requests answered.
    pub requests: u32,
    /// Of which answered with a 5xx (or a protocol error).
    pub errors: u32,
}

impl Default for Processed {
    fn default() -> Self {
        Processed {
            consumed: 0,
            outcome: Outcome::Open,
            requests: 0,
            errors: 0,
        }
    }
}

/// What a driver lends the session for one event: the spare buffers, the
/// settings and the clock.
pub struct Link<'a> {
    /// Spare buffers (a worker's pool, or a task's own).
    pub pool: &'a mut BufPool,
    /// Connection settings.
    pub cfg: &'a ConnConfig,
    /// The driver's clock for this event.
    pub now: Instant,
}

/// Where the connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Reading and answering requests.
    Serving,
    /// No request is read or answered any more: queued output (and a live
    /// body) is flushed, then the driver shuts the write side.
    Closing,
    /// The write side is shut: what the peer still sends is read and
    /// discarded, so the last response is not destroyed by a reset, until
    /// the peer closes or the linger deadline passes.
    Lingering,
    /// Done: the driver drops the socket.
    Closed,
}

/// How a live body's end is told to the peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LiveFraming {
    /// HTTP/1.1 chunked coding: each piece is a chunk, the end is the last chunk.
    Chunked,
    /// HTTP/1.0: raw bytes, the end is the connection's close.
    UntilClose,
}

/// A response body that leaves as the handler produces it.
#[derive(Debug)]
struct LiveBody {
    /// The pieces, as the handler sends them; disconnected at the end.
    chunks: flume::Receiver<Bytes>,
    /// How pieces and the end are framed.
    framing: LiveFraming,
}

/// One HTTP/1.1 connection between events.
#[derive(Debug)]
pub struct H1Session {
    /// The protocol state machine.
    machine: H1Conn,
    /// Bytes of a partial request kept between events (none when idle).
    input: Option<InBuf>,
    /// Response bytes the socket has not taken yet (none when drained).
    output: Option<OutBuf>,
    /// The clock the connection is on.
    deadline: Deadline,
    /// Where the connection is in its life.
    stage: Stage,
    /// The peer sent its FIN: requests already buffered are answered, a
    /// partial one can never complete.
    peer_closed: bool,
    /// The last batch stopped with complete requests left, for lack of output
    /// room: answering resumes as output drains.
    held: bool,
    /// Queued output reached the cap: no more requests are answered (nor
    /// read) until it drains.
    full: bool,
    /// A response body still being produced (its head is already queued).
    live: Option<LiveBody>,
    /// Whether an `Upgrade: h2c` request switches the connection to h2c.
    h2c_upgrade: bool,
    /// Shutdown began: the connection closes at its next request boundary,
    /// once a read proved no request has arrived.
    draining: bool,
    /// The request that asked to switch, as h2 stream 1 (after
    /// [`Needs::Upgrade`]).
    upgrade: Option<http::Request<Bytes>>,
}

impl H1Session {
    /// A session for a connection accepted at `now`.
    pub fn new(cfg: &ConnConfig, now: Instant) -> Self {
        H1Session {
            machine: H1Conn::new(cfg.limits),
            input: None,
            output: None,
            deadline: Deadline::accepted(now, cfg),
            stage: Stage::Serving,
            peer_closed: false,
            held: false,
            full: false,
            live: None,
            h2c_upgrade: false,
            draining: false,
            upgrade: None,
        }
    }

    /// A session for bytes already read elsewhere (`input`, from the start of
    /// a request) and responses already produced (`output`, not yet written).
    pub fn with_buffers(cfg: &ConnConfig, now: Instant, input: InBuf, output: OutBuf) -> Self {
        let mut s = Self::new(cfg, now);
        s.input = (!input.is_empty()).then_some(input);
        s.output = (!output.is_empty()).then_some(output);
        s
    }

    /// Lets a valid `Upgrade: h2c` request stop [`H1Session::process`] with
    /// [`Needs::Upgrade`] instead of being answered as HTTP/1.1.
    pub fn allow_h2c_upgrade(mut self) -> Self {
        self.h2c_upgrade = true;
        self
    }

    /// The request that asked to switch to h2c, once [`H1Session::process`]
    /// stopped with [`Needs::Upgrade`].
    pub fn take_upgrade(&mut self) -> Option<http::Request<Bytes>> {
        self.upgrade.take()
    }

    /// Bytes read after the upgrade request (the h2 connection's first bytes).
    pub fn take_input(&mut self) -> InBuf {
        self.input.take().unwrap_or_default()
    }

    // ---- what the driver asks ------------------------------------------

    /// The current deadline: call [`H1Session::on_timeout`] once it passed.
    pub fn deadline(&self) -> Deadline {
        self.deadline
    }

    /// Whether the driver should read: the session has room for more
    /// requests (or is draining input while lingering).
    pub fn wants_read(&self) -> bool {
        match self.stage {
            Stage::Lingering => true,
            Stage::Closing | Stage::Closed => false,
            Stage::Serving => !self.peer_closed && !self.held && !self.full,
        }
    }

    /// Bytes to write, in order (empty when nothing is queued).
    pub fn transmit(&self) -> &[u8] {
        self.output.as_ref().map_or(&[], OutBuf::pending)
    }

    /// Whether the driver should shut its write side now (everything is
    /// written and the connection closes); then report
    /// [`H1Session::on_write_shut`].
    pub fn wants_shutdown_write(&self) -> bool {
        self.stage == Stage::Closing && self.output.is_none() && self.live.is_none()
    }

    /// The live body whose next piece the driver should wait for, when there
    /// is room for it (report it with [`H1Session::on_body_chunk`]).
    pub fn wants_body_chunk(&self) -> Option<&flume::Receiver<Bytes>> {
        match &self.live {
            Some(live) if !self.full && self.stage != Stage::Closed => Some(&live.chunks),
            _ => None,
        }
    }

    /// Whether complete requests wait, held back by the output cap, and
    /// there is room again to answer them.
    pub fn can_answer(&self) -> bool {
        self.held && !self.full && self.stage == Stage::Serving && self.live.is_none()
    }

    /// Whether a live body is being produced: only a driver that can wait for
    /// its pieces can serve the connection now.
    pub fn is_streaming(&self) -> bool {
        self.live.is_some()
    }

    /// Whether the socket should be dropped now.
    pub fn is_closed(&self) -> bool {
        self.stage == Stage::Closed
    }

    /// Whether the connection has answered a request and waits for the next
    /// one with nothing buffered: closing it now loses nothing (a fresh
    /// connection, which may have a request in flight, is not).
    pub fn is_between_requests(&self) -> bool {
        self.stage == Stage::Serving
            && self.input.is_none()
            && self.output.is_none()
            && self.live.is_none()
            && self.deadline.kind == DeadlineKind::Idle
    }

    /// The protocol phase of the buffered bytes.
    pub fn phase(&self) -> Phase {
        self.machine.phase(self.buffered())
    }

    /// Unconsumed request bytes.
    fn buffered(&self) -> usize {
        self.input.as_ref().map_or(0, InBuf::len)
    }

    // ---- events -----------------------------------------------------------

    /// Room to read into (16 KiB at least; a body of known length never makes
    /// the buffer grow past it); report what was read with
    /// [`H1Session::on_read`].
    pub fn read_buf(&mut self, pool: &mut BufPool) -> &mut [u8] {
        let limit = self.growth_limit();
        self.input
            .get_or_insert_with(|| pool.input())
            .spare_within(READ_CHUNK, limit)
    }

    /// How far the input buffer may grow by doubling: a body of known length
    /// never makes it grow past that body (plus one read), since doubling
    /// would leave up to half of it unused.
    fn growth_limit(&self) -> Option<usize> {
        match self.stage {
            Stage::Lingering => None,
            _ => self.machine.wanted().map(|total| total + READ_CHUNK),
        }
    }

    /// `n` bytes were read into the last [`H1Session::read_buf`].
    pub fn on_read(&mut self, n: usize, link: &mut Link<'_>) {
        let Some(input) = self.input.as_mut() else {
            return;
        };
        input.commit(n);
        self.after_read(link);
    }

    /// Bytes arrived in a buffer of the driver's (a completion engine's
    /// provided buffer): they are copied in.
    pub fn on_bytes(&mut self, bytes: &[u8], link: &mut Link<'_>) {
        if self.stage == Stage::Lingering {
            return;
        }
        // Sized as `read_buf` sizes it: a known-length body is held once.
        let limit = self.growth_limit();
        let input = self.input.get_or_insert_with(|| link.pool.input());
        input.spare_within(bytes.len(), limit)[..bytes.len()].copy_from_slice(bytes);
        input.commit(bytes.len());
        self.after_read(link);
    }

    /// Book-keeping after bytes arrived.
    fn after_read(&mut self, link: &mut Link<'_>) {
        if self.stage == Stage::Lingering {
            // Discarded: only the peer's EOF matters now.
            if let Some(input) = self.input.take() {
                link.pool.put_input(input);
            }
            return;
        }
        if self.buffered() > input_cap(link.cfg) {
            tracing::debug!(
                buffered = self.buffered(),
                "client too far ahead of its answers; closing"
            );
            self.finish(link.pool);
            return;
        }
        if self.machine.phase(self.buffered()) == Phase::PartialBody {
            // Body bytes renew the body's inactivity clock (within its total).
            self.refresh(link, Progress::default());
        }
    }

    /// A read found nothing: an input buffer holding nothing goes back to
    /// the pool (an idle connection holds no buffer), and a draining
    /// connection between requests, now proved idle, begins to close.
    pub fn on_read_blocked(&mut self, pool: &mut BufPool) {
        if self.input.as_ref().is_some_and(InBuf::is_empty) {
            if let Some(i) = self.input.take() {
                pool.put_input(i);
            }
        }
        if self.draining && self.is_between_requests() {
            self.stage = Stage::Closing;
        }
    }

    /// Gives a drained output buffer back to the pool.
    fn drop_empty_output(&mut self, pool: &mut BufPool) {
        if self.output.as_ref().is_some_and(OutBuf::is_empty) {
            if let Some(o) = self.output.take() {
                pool.put_output(o);
            }
        }
    }

    /// The peer closed its sending side (a read returned 0).
    pub fn on_eof(&mut self, link: &mut Link<'_>) {
        self.on_read_blocked(link.pool);
        match self.stage {
            Stage::Lingering => self.finish(link.pool),
            Stage::Serving => {
                self.peer_closed = true;
                if !self.held {
                    // Requests already answered are still written; a partial
                    // request can never complete.
                    self.stage = Stage::Closing;
                }
            }
            Stage::Closing | Stage::Closed => {}
        }
    }

    /// The socket failed: nothing more can be sent or received.
    pub fn on_error(&mut self, pool: &mut BufPool) {
        self.finish(pool);
    }

    /// `n` bytes of [`H1Session::transmit`] were written.
    pub fn on_sent(&mut self, n: usize, link: &mut Link<'_>) {
        let Some(output) = self.output.as_mut() else {
            return;
        };
        output.advance(n);
        self.drop_empty_output(link.pool);
        self.refresh(
            link,
            Progress {
                wrote: n > 0,
                answered: false,
            },
        );
    }

    /// The driver shut its write side (after [`H1Session::wants_shutdown_write`]).
    pub fn on_write_shut(&mut self, link: &mut Link<'_>) {
        if self.stage != Stage::Closing {
            return;
        }
        if self.peer_closed {
            // Its EOF was read: nothing unread is left to cause a reset.
            self.finish(link.pool);
            return;
        }
        self.stage = Stage::Lingering;
        if let Some(input) = self.input.take() {
            link.pool.put_input(input);
        }
        self.deadline = Deadline::of(DeadlineKind::Linger, link.now + link.cfg.linger_timeout);
    }

    /// The next piece of the live body (`None`: the handler finished it).
    pub fn on_body_chunk(&mut self, chunk: Option<Bytes>, link: &mut Link<'_>) {
        let Some(live) = &self.live else {
            return;
        };
        let framing = live.framing;
        let out = self.output.get_or_insert_with(|| link.pool.output()).vec();
        match (chunk, framing) {
            (Some(c), LiveFraming::Chunked) => encode_chunk(&c, out),
            (Some(c), LiveFraming::UntilClose) => out.extend_from_slice(&c),
            (None, LiveFraming::Chunked) => {
                out.extend_from_slice(LAST_CHUNK);
                self.live = None;
            }
            (None, LiveFraming::UntilClose) => {
                self.live = None;
                self.stage = Stage::Closing;
            }
        }
        self.drop_empty_output(link.pool);
        self.refresh(link, Progress::default());
    }

    /// The deadline may have passed: a connection whose clock ran out closes
    /// (the client stalled its head, body or reading, or stayed idle).
    pub fn on_timeout(&mut self, link: &mut Link<'_>) {
        if self.stage != Stage::Closed && self.deadline.expired(link.now) {
            tracing::debug!(kind = ?self.deadline.kind, "connection deadline passed; closing");
            self.finish(link.pool);
        }
    }

    /// Shutdown began: requests in flight are answered, and the connection
    /// closes gracefully at its next request boundary — but only once a
    /// read came back empty ([`H1Session::on_read_blocked`]), never while a
    /// request that already arrived waits unread in the socket (the driver
    /// may not have looked at it yet). The driver makes that read when
    /// [`H1Session::wants_idle_proof`] says so.
    pub fn begin_drain(&mut self) {
        self.draining = true;
    }

    /// Whether the session is draining and between requests: the driver
    /// reads once (even without a readiness event), and the connection
    /// closes if that read finds nothing.
    pub fn wants_idle_proof(&self) -> bool {
        self.draining && self.is_between_requests()
    }

    /// Gives the session's buffers back to the pool (the connection is dropped).
    pub fn release(&mut self, pool: &mut BufPool) {
        self.finish(pool);
    }

    /// Closes now, returning the buffers.
    fn finish(&mut self, pool: &mut BufPool) {
        self.stage = Stage::Closed;
        self.live = None;
        if let Some(i) = self.input.take() {
            pool.put_input(i);
        }
        if let Some(o) = self.output.take() {
            pool.put_output(o);
        }
    }

    /// Notes whether output is over the cap, and picks the next deadline
    /// after an event.
    fn refresh(&mut self, link: &Link<'_>, done: Progress) {
        self.full = self.output.as_ref().map_or(0, OutBuf::len) >= link.cfg.max_pending_output;
        if matches!(self.stage, Stage::Lingering | Stage::Closed) {
            return;
        }
        let pending = self.output.is_some();
        let phase = self.machine.phase(self.buffered());
        self.deadline = self.deadline.next(
            link.now,
            phase,
            pending,
            self.live.is_some(),
            done,
            link.cfg,
        );
    }

    // ---- answering --------------------------------------------------------

    /// Answers every complete buffered request that can run in `mode`, in
    /// order, while queued output is under the cap; stops before a request
    /// whose route cannot run in `mode`. In [`Mode::Blocking`] at most one
    /// request is answered (sync routes behind it go back to the arbiter).
    pub fn process(&mut self, env: &mut Env<'_>, mode: Mode, link: &mut Link<'_>) -> Processed {
        // After an upgrade request, the bytes that follow are h2's.
        let switching = self.upgrade.is_some();
        if self.stage != Stage::Serving || self.live.is_some() || self.input.is_none() || switching
        {
            return Processed::default();
        }
        let mut input = self.input.take().unwrap_or_default();
        let mut output = self.output.take().unwrap_or_else(|| link.pool.output());
        // The vector also holds bytes already written (before the cursor).
        let pending = output.len();
        let out = output.vec();
        let stop_at = out.len() - pending + link.cfg.max_pending_output;
        let p = self.answer(input.filled(), out, env, mode, stop_at);
        input.consume(p.consumed);
        if let Some(decoded) = self.machine.release_decoded(READ_CHUNK) {
            // A chunked body's raw bytes are dropped once decoded.
            input.cut(decoded);
        }
        self.input = keep(input, link.pool, InBuf::is_empty, BufPool::put_input);
        self.output = keep(output, link.pool, OutBuf::is_empty, BufPool::put_output);
        match p.outcome {
            Outcome::Close => self.stage = Stage::Closing,
            Outcome::Open if self.peer_closed && !self.held && self.live.is_none() => {
                self.stage = Stage::Closing;
            }
            _ => {}
        }
        self.refresh(
            link,
            Progress {
                wrote: false,
                answered: p.requests > 0,
            },
        );
        p
    }

    /// The request loop of [`H1Session::process`], over the buffered bytes.
    fn answer(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        env: &mut Env<'_>,
        mode: Mode,
        stop_at: usize,
    ) -> Processed {
        let mut done = Processed::default();
        self.held = false;
        loop {
            if out.len() >= stop_at || (mode == Mode::Blocking && done.requests > 0) {
                // Backpressure (or the one blocking turn is over): the rest
                // stays buffered and is answered when output drains.
                self.held = done.consumed < input.len();
                return done;
            }
            let buf = &input[done.consumed..];
            let mut headers = h1::empty_headers();
            match self.machine.poll(buf, &mut headers) {
                Poll::Request(req) => {
                    if self.h2c_upgrade {
                        if let Some(up) = crate::proto::h2::h2c_upgrade(&req) {
                            done.consumed += req.len;
                            self.upgrade = Some(up);
                            out.extend_from_slice(crate::proto::h2::SWITCHING_PROTOCOLS);
                            done.outcome = Outcome::Stopped(Needs::Upgrade);
                            return done;
                        }
                    }
                    match respond(&req, env, mode, out) {
                        Responded::Stopped(needs) => {
                            done.outcome = Outcome::Stopped(needs);
                            return done;
                        }
                        Responded::Done { close, status } => {
                            done.consumed += req.len;
                            done.requests += 1;
                            done.errors += u32::from(status >= 500);
                            self.live = live_body(env, &req.head);
                            let live = self.live.is_some();
                            if close {
                                done.outcome = Outcome::Close;
                                return done;
                            }
                            if live {
                                // Later responses wait for this body's end.
                                self.held = done.consumed < input.len();
                                return done;
                            }
                        }
                    }
                }
                Poll::HeadOnly(head) => {
                    if mode == Mode::Inline && env.table.route_async(head.method, head.path) {
                        // Decided on the head so an async request's body is
                        // read by its dispatch actor, not the worker; the
                        // machine starts the request over there, so its head
                        // (and `Expect: 100-continue`) is seen again.
                        done.outcome = Outcome::Stopped(Needs::Dispatch);
                        self.machine = H1Conn::new(*self.machine.limits());
                    } else if head.expect_continue {
                        out.extend_from_slice(h1::CONTINUE);
                    }
                    return done;
                }
                Poll::NeedMore => return done,
                Poll::Error(err) => {
                    encode_error(&err, env.date, out);
                    done.errors += 1;
                    done.outcome = Outcome::Close;
                    return done;
                }
            }
        }
    }

    /// Answers the request at the start of the buffered bytes, whose route has
    /// a future handler (after [`H1Session::process`] stopped with
    /// [`Needs::Future`]).
    pub async fn process_future(&mut self, env: &mut Env<'_>, link: &mut Link<'_>) -> Processed {
        let mut done = Processed::default();
        let Some(mut input) = self.input.take() else {
            return done;
        };
        let mut output = self.output.take().unwrap_or_else(|| link.pool.output());
        let mut headers = h1::empty_headers();
        let mut close = false;
        match self.machine.poll(input.filled(), &mut headers) {
            Poll::Request(req) => {
                if let Responded::Done { close: c, status } =
                    respond_future(&req, env, output.vec()).await
                {
                    done.consumed = req.len;
                    done.requests = 1;
                    done.errors = u32::from(status >= 500);
                    self.live = live_body(env, &req.head);
                    close = c;
                }
            }
            Poll::Error(err) => {
                encode_error(&err, env.date, output.vec());
                done.errors = 1;
                close = true;
            }
            Poll::HeadOnly(_) | Poll::NeedMore => {}
        }
        input.consume(done.consumed);
        self.input = keep(input, link.pool, InBuf::is_empty, BufPool::put_input);
        self.output = keep(output, link.pool, OutBuf::is_empty, BufPool::put_output);
        if close {
            done.outcome = Outcome::Close;
            self.stage = Stage::Closing;
        }
        self.refresh(
            link,
            Progress {
                wrote: false,
                answered: done.requests > 0,
            },
        );
        done
    }
}

/// Takes the live body of the response just encoded, if it has one that must
/// be sent (not for `HEAD` nor a bodiless status).
#[inline]
fn live_body(env: &mut Env<'_>, head: &h1::Head<'_>) -> Option<LiveBody> {
    let chunks = env.resp.take_live()?;
    if head.method == "HEAD" || !h1::has_body(env.resp.status()) {
        return None;
    }
    let framing = if head.version == crate::proto::Version::Http10 {
        LiveFraming::UntilClose
    } else {
        LiveFraming::Chunked
    };
    Some(LiveBody { chunks, framing })
}

/// The most request bytes a connection may hold ahead of its answers: the
/// pending-input cap, or one whole largest request when that is bigger (a
/// body may be larger than the cap).
fn input_cap(cfg: &ConnConfig) -> usize {
    let one_request = cfg.limits.max_request_line + cfg.limits.max_header_block;
    let body = usize::try_from(cfg.limits.max_body).unwrap_or(usize::MAX);
    cfg.max_pending_input
        .max(one_request.saturating_add(body))
        .saturating_add(READ_CHUNK)
}

/// Keeps a non-empty buffer on the connection; an empty one goes back to the pool.
fn keep<B>(
    buf: B,
    pool: &mut BufPool,
    empty: fn(&B) -> bool,
    put: fn(&mut BufPool, B),
) -> Option<B> {
    if empty(&buf) {
        put(pool, buf);
        None
    } else {
        Some(buf)
    }
}
