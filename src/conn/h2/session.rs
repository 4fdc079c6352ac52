//! `H2Session`: one h2c connection hosted on a loop worker, as a state
//! machine the worker's driver feeds bytes and turns, and asks what to
//! write, when to wake it and whether to close — with the timers and the
//! closing the `h2` crate lacks.
//!
//! ```text
//!  Splicing (upgrade: await the preface + SETTINGS, splice stream 1's opener)
//!     │
//!  Handshaking ──deadline / bad preface──▶ Closed
//!     │
//!  Serving ──h2 done (GOAWAY both ways, error, peer EOF)──▶ Closing ──output written──▶
//!     │  idle / shutdown: GOAWAY, then `leaving` bounds the goodbye        (driver shuts its
//!     └──────── write stalled, `leaving` passed ──▶ Closed ◀── EOF / linger ── write side) Lingering
//! ```
//!
//! Each turn the `h2` connection is polled until it is Pending: streams are
//! accepted, a sync route's handler runs right there (its frames are
//! serialised by the next poll), an async route's stream goes to the pool
//! as an [`H2Job`]; request bodies of sync routes are read here first.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2::server::{Connection, Handshake, SendResponse};
use h2::RecvStream;
use tokio::sync::Semaphore;

use super::job::{H2Job, StreamRunner};
use super::memio::{MemIo, Shared, READ_CAP};
use super::stream::Incoming;
use super::wake::{waker, ConnWake, Wakeups};
use crate::conn::{answer, ConnConfig, Deadline, DeadlineKind, Io, Mode};
use crate::handler::{BodyMode, HttpError};
use crate::proto::h2::{
    body_pieces, header_list, opening_frames_end, request_parts, response_head, sends_body,
    H2Settings, Opening, STREAM1_OPENER,
};

/// How long a connection told to go away (idle) may take to say goodbye.
const GOAWAY_LINGER: Duration = Duration::from_secs(5);

/// Largest response body sent in the worker's turn; larger ones (which
/// would wait for the client's window) are sent by the pool, under flow
/// control. The default initial window of RFC 9113.
const INLINE_BODY_MAX: usize = 65_535;

/// How long a connection with work in flight and no deadline of its own
/// waits before its clock is looked at again.
const FAR: Duration = Duration::from_secs(24 * 60 * 60);

/// What a loop worker lends its h2 connections.
pub struct LoopH2<'a> {
    /// Settings and abuse limits.
    pub settings: &'a H2Settings,
    /// Where async streams go.
    pub runner: &'a StreamRunner,
    /// The worker's queue of woken connections.
    pub wakeups: &'a Arc<Wakeups>,
}

/// Where the connection is in its life.
enum Stage {
    /// After an upgrade: the client's preface and SETTINGS are awaited to
    /// splice stream 1's opener after them.
    Splicing(Box<http::Request<Bytes>>),
    /// The preface and SETTINGS exchange.
    Handshaking(Pin<Box<Handshake<MemIo, Bytes>>>),
    /// Streams are served.
    Serving(Box<Connection<MemIo, Bytes>>),
    /// h2 is done: its last bytes are written, then the driver shuts its
    /// write side.
    Closing,
    /// The write side is shut: input is read and dropped until the peer
    /// closes or this passes.
    Lingering(Instant),
    /// The driver drops the socket.
    Closed,
}

/// A stream of a sync route whose body is read on the loop.
struct Body {
    /// The request head.
    head: http::request::Parts,
    /// The body as it arrives.
    recv: RecvStream,
    /// What arrived so far.
    buf: BytesMut,
    /// Where the response goes.
    respond: SendResponse<Bytes>,
    /// When body bytes last came (the stream is reset after the idle timeout).
    since: Instant,
}

/// How reading a body ended.
enum BodyEnd {
    /// Complete.
    Whole,
    /// Over the body limit.
    TooLarge,
    /// The stream or connection failed.
    Gone,
}

/// The connection's streams, as far as the loop keeps them.
struct Streams {
    /// The request an upgrade carried over, served as stream 1.
    stream1: Option<http::Request<Bytes>>,
    /// Bodies being read.
    bodies: Vec<Body>,
    /// Bounds the connection's blocking jobs (made at the first async stream).
    jobs: Option<Arc<Semaphore>>,
    /// Jobs of this connection in flight on the pool.
    in_flight: Arc<AtomicUsize>,
}

/// One h2c connection on a loop worker.
pub struct H2Session {
    /// The bytes shared with h2's I/O object.
    bufs: Shared,
    /// Where the connection is.
    stage: Stage,
    /// The connection's waker state.
    wake: Arc<ConnWake>,
    /// The waker handed to h2 and the streams.
    waker: Waker,
    /// Streams kept on the loop.
    streams: Streams,
    /// When the connection (or its upgrade) began: the handshake's clock.
    opened: Instant,
    /// Last traffic or stream start: the idle clock.
    last: Instant,
    /// Last write progress, or when output began waiting.
    wrote_at: Instant,
    /// GOAWAY was sent: the connection is closed by then regardless.
    leaving: Option<Instant>,
    /// Shutdown began: GOAWAY at the next turn, closed by then regardless.
    drain_at: Option<Instant>,
    /// The frame guard tripped and h2 was told to go away with its code.
    refused: bool,
}

impl H2Session {
    /// A prior-knowledge connection whose first bytes (the preface first)
    /// are `prefix`; `key` and `gen` name it in its worker.
    pub fn new(prefix: &[u8], now: Instant, key: usize, gen: u64, lend: &LoopH2<'_>) -> Self {
        let mut s = Self::blank(now, key, gen, lend.wakeups);
        s.bufs.lock().feed(prefix);
        s.stage = s.handshake(lend.settings);
        s
    }

    /// A connection that just switched from HTTP/1.1: `unsent` (the 101)
    /// leaves first, `rest` are the bytes read after the upgrade request,
    /// and `request` is served as stream 1.
    pub fn upgraded(
        unsent: &[u8],
        rest: &[u8],
        request: http::Request<Bytes>,
        now: Instant,
        key: usize,
        gen: u64,
        lend: &LoopH2<'_>,
    ) -> Self {
        let mut s = Self::blank(now, key, gen, lend.wakeups);
        {
            let mut b = s.bufs.lock();
            b.queue(unsent);
            b.feed(rest);
        }
        s.stage = Stage::Splicing(Box::new(request));
        s
    }

    /// A session with nothing read.
    fn blank(now: Instant, key: usize, gen: u64, wakeups: &Arc<Wakeups>) -> Self {
        let wake = ConnWake::new(key, gen, wakeups.clone());
        H2Session {
            bufs: Shared::default(),
            stage: Stage::Closed,
            waker: waker(&wake),
            wake,
            streams: Streams {
                stream1: None,
                bodies: Vec::new(),
                jobs: None,
                in_flight: Arc::default(),
            },
            opened: now,
            last: now,
            wrote_at: now,
            leaving: None,
            drain_at: None,
            refused: false,
        }
    }

    /// The handshake over this connection's buffers.
    fn handshake(&self, settings: &H2Settings) -> Stage {
        let io = MemIo(self.bufs.clone());
        Stage::Handshaking(Box::pin(settings.builder().handshake::<_, Bytes>(io)))
    }

    // ---- what the driver asks ------------------------------------------

    /// Whether the driver should read the socket.
    pub fn wants_read(&self) -> bool {
        match self.stage {
            Stage::Lingering(_) => true,
            Stage::Closing | Stage::Closed => false,
            _ => {
                let b = self.bufs.lock();
                !b.eof && b.unread().len() < READ_CAP
            }
        }
    }

    /// Room for the next read (report it with [`H2Session::on_read`]).
    pub fn with_read_buf<R>(&self, read: impl FnOnce(&mut [u8]) -> R) -> R {
        read(self.bufs.lock().spare())
    }

    /// Bytes to write, handed to `write`, which says how many the socket took.
    pub fn with_transmit<R>(&self, write: impl FnOnce(&[u8]) -> R) -> R {
        write(self.bufs.lock().transmit())
    }

    /// Whether output waits for the socket.
    pub fn has_output(&self) -> bool {
        self.bufs.lock().pending() > 0
    }

    /// Whether the driver should shut its write side now (then report
    /// [`H2Session::on_write_shut`]).
    pub fn wants_shutdown_write(&self) -> bool {
        matches!(self.stage, Stage::Closing) && !self.has_output()
    }

    /// Whether h2 waits for output room that is there again: poll again.
    pub fn wants_poll(&self) -> bool {
        matches!(self.stage, Stage::Serving(_)) && self.bufs.lock().unblocked()
    }

    /// Whether the socket should be dropped now.
    pub fn is_closed(&self) -> bool {
        matches!(self.stage, Stage::Closed)
    }

    /// Whether shutdown waits for this connection's turn (to send GOAWAY).
    pub fn wants_turn(&self) -> bool {
        self.drain_at.is_some() && self.leaving.is_none() && !self.is_closed()
    }

    /// Whether nothing of the connection runs: no body being read, no job
    /// in flight.
    fn is_idle(&self) -> bool {
        self.streams.bodies.is_empty() && self.streams.in_flight.load(Ordering::Relaxed) == 0
    }

    /// The connection's next deadline: call [`H2Session::on_timeout`] once
    /// it passed.
    pub fn deadline(&self, cfg: &ConnConfig) -> Deadline {
        let mut d = match self.stage {
            Stage::Splicing(_) | Stage::Handshaking(_) => {
                Deadline::of(DeadlineKind::Head, self.opened + cfg.header_timeout)
            }
            Stage::Serving(_) if self.has_output() => {
                Deadline::of(DeadlineKind::Write, self.wrote_at + cfg.write_timeout)
            }
            Stage::Serving(_) if self.is_idle() => {
                Deadline::of(DeadlineKind::Idle, self.last + cfg.idle_timeout)
            }
            Stage::Serving(_) => Deadline::of(DeadlineKind::Stream, self.last + FAR),
            Stage::Closing => Deadline::of(DeadlineKind::Write, self.wrote_at + cfg.write_timeout),
            Stage::Lingering(at) => Deadline::of(DeadlineKind::Linger, at),
            Stage::Closed => Deadline::of(DeadlineKind::Linger, self.opened),
        };
        let mut sooner = |kind, at: Instant| {
            if at < d.at {
                d = Deadline::of(kind, at);
            }
        };
        for b in &self.streams.bodies {
            sooner(DeadlineKind::Body, b.since + cfg.idle_timeout);
        }
        if let Some(at) = self.leaving.or(self.drain_at) {
            sooner(DeadlineKind::Stream, at);
        }
        d
    }

    // ---- events ---------------------------------------------------------

    /// `n` bytes were read into the last read buffer.
    pub fn on_read(&mut self, n: usize, now: Instant) {
        let mut b = self.bufs.lock();
        b.commit(n);
        if matches!(self.stage, Stage::Lingering(_)) {
            b.discard_input();
        }
        if n > 0 {
            self.last = now;
        }
    }

    /// Bytes arrived in a buffer of the driver's (a completion driver):
    /// they are copied in (discarded while lingering). The driver stops
    /// receiving once [`H2Session::wants_read`] says no more.
    pub fn on_received(&mut self, bytes: &[u8], now: Instant) {
        if bytes.is_empty() || matches!(self.stage, Stage::Lingering(_)) {
            return;
        }
        self.bufs.lock().feed(bytes);
        self.last = now;
    }

    /// The peer closed its sending side.
    pub fn on_eof(&mut self) {
        self.bufs.lock().eof = true;
        match self.stage {
            Stage::Lingering(_) | Stage::Splicing(_) => self.finish(),
            // h2 reads the end at its next poll.
            _ => {}
        }
    }

    /// The socket failed.
    pub fn on_error(&mut self) {
        self.finish();
    }

    /// `n` output bytes were written.
    pub fn on_sent(&mut self, n: usize, now: Instant) {
        self.bufs.lock().on_sent(n);
        if n > 0 {
            self.wrote_at = now;
            self.last = now;
        }
    }

    /// The driver shut its write side (after [`H2Session::wants_shutdown_write`]).
    pub fn on_write_shut(&mut self, now: Instant, cfg: &ConnConfig) {
        if self.bufs.lock().eof {
            self.finish();
            return;
        }
        self.bufs.lock().discard_input();
        self.stage = Stage::Lingering(now + cfg.linger_timeout);
    }

    /// Shutdown began: GOAWAY at the next turn, streams in flight finish,
    /// and the connection is closed at `deadline` regardless.
    pub fn begin_drain(&mut self, deadline: Instant) {
        self.drain_at.get_or_insert(deadline);
    }

    /// A deadline may have passed: a stalled handshake, write or goodbye
    /// closes; a stalled body loses its stream; an idle connection is told
    /// to go away (the driver then gives it a turn to send that).
    pub fn on_timeout(&mut self, now: Instant, cfg: &ConnConfig) {
        if self.leaving.or(self.drain_at).is_some_and(|at| now >= at) {
            self.finish();
            return;
        }
        match &mut self.stage {
            Stage::Splicing(_) | Stage::Handshaking(_) => {
                if now >= self.opened + cfg.header_timeout {
                    tracing::debug!("h2 handshake not done in time; closing");
                    self.finish();
                }
            }
            Stage::Serving(conn) => {
                let pending = self.bufs.lock().pending() > 0;
                if pending && now >= self.wrote_at + cfg.write_timeout {
                    tracing::debug!("h2 client does not read; closing");
                    self.finish();
                    return;
                }
                self.streams.bodies.retain_mut(|b| {
                    let stalled = now >= b.since + cfg.idle_timeout;
                    if stalled {
                        tracing::debug!("request body stalled; stream reset");
                        b.respond.send_reset(h2::Reason::CANCEL);
                    }
                    !stalled
                });
                let idle = self.streams.bodies.is_empty()
                    && self.streams.in_flight.load(Ordering::Relaxed) == 0;
                if idle && self.leaving.is_none() && now >= self.last + cfg.idle_timeout {
                    conn.graceful_shutdown();
                    self.leaving = Some(now + GOAWAY_LINGER);
                }
            }
            Stage::Closing => {
                if now >= self.wrote_at + cfg.write_timeout {
                    self.finish();
                }
            }
            Stage::Lingering(at) => {
                if now >= *at {
                    self.finish();
                }
            }
            Stage::Closed => {}
        }
    }

    /// Closes now.
    fn finish(&mut self) {
        self.stage = Stage::Closed;
        self.streams.bodies.clear();
        self.bufs.lock().release();
    }

    /// h2 is done: what it wrote last is flushed, then the write side shut.
    fn wind_up(&mut self) {
        self.stage = Stage::Closing;
        self.streams.bodies.clear();
    }

    // ---- the turn ---------------------------------------------------------

    /// Polls h2 and the loop's streams until nothing moves: streams are
    /// accepted and answered, frames queued (by this turn or by jobs) are
    /// serialised into the output. `env` runs sync handlers.
    pub fn poll(&mut self, io: &mut Io<'_, '_>, lend: &LoopH2<'_>) {
        let now = io.now;
        self.wake.clear();
        let had_output = {
            let mut b = self.bufs.lock();
            b.blocked = false;
            b.pending() > 0
        };
        self.turn(io, lend);
        if !had_output && self.has_output() {
            self.wrote_at = now;
        }
    }

    /// The body of [`H2Session::poll`].
    fn turn(&mut self, io: &mut Io<'_, '_>, lend: &LoopH2<'_>) {
        let now = io.now;
        let waker = self.waker.clone();
        let mut cx = Context::from_waker(&waker);
        if let Stage::Splicing(_) = self.stage {
            if !self.splice(lend.settings) {
                return;
            }
        }
        if let Stage::Handshaking(h) = &mut self.stage {
            match h.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(conn)) => self.stage = Stage::Serving(Box::new(conn)),
                Poll::Ready(Err(e)) => {
                    tracing::debug!(error = %e, "h2 handshake failed");
                    self.wind_up();
                    return;
                }
                Poll::Pending => return,
            }
        }
        let Stage::Serving(conn) = &mut self.stage else {
            return;
        };
        if self.leaving.is_none() {
            if let Some(at) = self.drain_at {
                conn.graceful_shutdown();
                self.leaving = Some(at);
            }
        }
        let mut sv = Serve {
            streams: &mut self.streams,
            io,
            runner: lend.runner,
            max_streams: lend.settings.max_concurrent_streams as usize,
        };
        loop {
            let mut answered = false;
            loop {
                match conn.poll_accept(&mut cx) {
                    Poll::Ready(Some(Ok((req, respond)))) => {
                        self.last = now;
                        answered |= sv.start(req, respond);
                    }
                    Poll::Ready(Some(Err(e))) => {
                        tracing::debug!(error = %e, "h2 connection error");
                        self.wind_up();
                        return;
                    }
                    Poll::Ready(None) => {
                        self.wind_up();
                        return;
                    }
                    Poll::Pending => break,
                }
            }
            if !self.refused {
                let tripped = self.bufs.lock().guard.tripped();
                if let Some(reason) = tripped {
                    // GOAWAY with the RFC's code; the next poll writes it
                    // and ends the connection.
                    tracing::debug!(%reason, "h2 client frame breaks a frame rule");
                    conn.abrupt_shutdown(reason);
                    self.refused = true;
                    continue;
                }
            }
            answered |= sv.poll_bodies(&mut cx);
            // Frames queued by the answers are serialised by another poll.
            if !answered {
                return;
            }
        }
    }

    /// Splices stream 1's opener after the client's preface and SETTINGS
    /// once they are in; true when the handshake can begin.
    fn splice(&mut self, settings: &H2Settings) -> bool {
        let found = opening_frames_end(self.bufs.lock().unread());
        match found {
            Opening::EndsAt(n) => {
                self.bufs.lock().splice(n, &STREAM1_OPENER);
                let Stage::Splicing(req) = std::mem::replace(&mut self.stage, Stage::Closed) else {
                    return false;
                };
                self.streams.stream1 = Some(*req);
                self.stage = self.handshake(settings);
                true
            }
            Opening::NeedMore => false,
            Opening::Invalid => {
                tracing::debug!("no preface and SETTINGS after an h2c upgrade; closing");
                self.wind_up();
                false
            }
        }
    }

    /// Requeues the connection for another turn without waiting for an
    /// event (the driver stopped reading a busy socket for fairness).
    pub fn requeue(&self) {
        self.wake.requeue();
    }
}

/// What answering streams borrows for one turn.
struct Serve<'s, 'a, 'w> {
    /// The connection's streams.
    streams: &'s mut Streams,
    /// Table, date, response, settings, clock and counts of the turn.
    io: &'s mut Io<'a, 'w>,
    /// Where async streams go.
    runner: &'s StreamRunner,
    /// SETTINGS_MAX_CONCURRENT_STREAMS: the bound on blocking jobs.
    max_streams: usize,
}

impl Serve<'_, '_, '_> {
    /// Starts an accepted stream; true when it was answered in this turn.
    fn start(&mut self, req: http::Request<RecvStream>, respond: SendResponse<Bytes>) -> bool {
        if u32::from(respond.stream_id()) == 1 {
            if let Some(whole) = self.streams.stream1.take() {
                let (head, body) = whole.into_parts();
                return self.answer(head, body, respond);
            }
        }
        let (head, recv) = req.into_parts();
        if recv.is_end_stream() {
            // Routed once: an async route stops before anything of it runs.
            return self.answer(head, Bytes::new(), respond);
        }
        // A body is read where the handler runs: decided on the head (a
        // pure-sync table pays no lookup for this).
        let table = self.io.env.table;
        if table.has_async_routes() && table.route_async(head.method.as_str(), head.uri.path()) {
            let req = http::Request::from_parts(head, recv);
            self.hand_off(Incoming::Open(req), respond);
            return false;
        }
        let declared = head
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.io.cfg.limits.max_body) {
            return self.too_large(respond);
        }
        self.streams.bodies.push(Body {
            head,
            recv,
            buf: BytesMut::new(),
            respond,
            since: self.io.now,
        });
        false
    }

    /// Reads what arrived of the bodies being read; answers the complete
    /// ones. True when one was answered.
    fn poll_bodies(&mut self, cx: &mut Context<'_>) -> bool {
        let max = self.io.cfg.limits.max_body;
        let mut answered = false;
        let mut i = 0;
        while i < self.streams.bodies.len() {
            let b = &mut self.streams.bodies[i];
            let end = loop {
                match b.recv.poll_data(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        b.since = self.io.now;
                        if (b.buf.len() + chunk.len()) as u64 > max {
                            break Some(BodyEnd::TooLarge);
                        }
                        b.buf.extend_from_slice(&chunk);
                        let _ = b.recv.flow_control().release_capacity(chunk.len());
                    }
                    Poll::Ready(Some(Err(_))) => break Some(BodyEnd::Gone),
                    Poll::Ready(None) => break Some(BodyEnd::Whole),
                    Poll::Pending => break None,
                }
            };
            let Some(end) = end else {
                i += 1;
                continue;
            };
            let b = self.streams.bodies.swap_remove(i);
            answered |= match end {
                BodyEnd::Whole => self.answer(b.head, b.buf.freeze(), b.respond),
                BodyEnd::TooLarge => self.too_large(b.respond),
                BodyEnd::Gone => false,
            };
        }
        answered
    }

    /// Runs a whole request's route here when it is sync (true: answered),
    /// or sends it to the pool.
    fn answer(
        &mut self,
        head: http::request::Parts,
        body: Bytes,
        respond: SendResponse<Bytes>,
    ) -> bool {
        let env = &mut *self.io.env;
        let needs = {
            let headers = header_list(&head);
            let parts = request_parts(&head, &headers, &body);
            answer(parts, env.table, env.info, env.resp, Mode::Inline)
        };
        if needs.is_some() {
            let req = http::Request::from_parts(head, body);
            self.hand_off(Incoming::Whole(req), respond);
            return false;
        }
        let head_request = head.method == http::Method::HEAD;
        self.send(respond, head_request);
        true
    }

    /// Answers 413 (the body is over the limit).
    fn too_large(&mut self, respond: SendResponse<Bytes>) -> bool {
        let resp = &mut *self.io.env.resp;
        resp.reset();
        resp.set_error(&HttpError::new(413, "Request body too large"));
        self.send(respond, false);
        true
    }

    /// Sends the response the handler left in the worker's response: here
    /// when its body fits a default window, by the pool otherwise (a live
    /// body, a large one), under flow control.
    fn send(&mut self, mut respond: SendResponse<Bytes>, head_request: bool) {
        let env = &mut *self.io.env;
        let resp = &mut *env.resp;
        self.io.traffic.requests += 1;
        self.io.traffic.errors += u64::from(resp.status() >= 500);
        let size: usize = body_pieces(resp).map(<[u8]>::len).sum();
        if resp.mode() == BodyMode::Live || size > INLINE_BODY_MAX {
            let owned = std::mem::take(resp);
            let job = H2Job::send(
                respond,
                owned,
                head_request,
                env.info.remote,
                &self.streams.in_flight,
            );
            (self.runner)(job);
            return;
        }
        let head = response_head(resp, env.date.as_bytes());
        let body = sends_body(resp, head_request);
        let Ok(mut stream) = respond.send_response(head, !body) else {
            return;
        };
        if !body {
            return;
        }
        let mut pieces = body_pieces(resp).peekable();
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            if stream
                .send_data(Bytes::copy_from_slice(piece), last)
                .is_err()
            {
                return;
            }
        }
    }

    /// Sends a stream to the pool.
    fn hand_off(&mut self, req: Incoming, respond: SendResponse<Bytes>) {
        let limit = self.max_streams;
        let jobs = self
            .streams
            .jobs
            .get_or_insert_with(|| Arc::new(Semaphore::new(limit)))
            .clone();
        let job = H2Job::serve(
            req,
            respond,
            jobs,
            self.io.env.info.remote,
            &self.streams.in_flight,
        );
        (self.runner)(job);
    }
}
