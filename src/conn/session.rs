//! `H1Session`: one HTTP/1.1 connection's state between reads — the protocol
//! machine, the bytes of a partial request, queued response bytes, its
//! deadline — and the read → process every pipelined request → write once
//! cycle that readiness engines run on it.

use std::io::{self, Read, Write};
use std::time::Instant;

use super::{
    respond, respond_future, BufPool, ConnConfig, Deadline, DeadlineKind, Env, InBuf, Mode, Needs,
    OutBuf, Progress, Responded,
};
use crate::proto::h1::{self, encode_error, H1Conn, Poll};

/// Read size asked of the socket per call (by every HTTP/1.1 reader).
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// Queued output above which a batch is written before reading more.
const FLUSH_AT: usize = 64 * 1024;

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

/// What a readiness event left the connection as.
#[derive(Debug)]
pub enum Drive {
    /// Still open; wait for the next event.
    Open,
    /// Close the socket now (everything writable was written or the peer is gone).
    Close,
    /// Hand the connection to a dispatch actor with these bytes: the unread
    /// request and what follows it, and responses not yet written.
    Promote {
        /// The request that resolved async, and every byte after it.
        input: InBuf,
        /// Responses to earlier requests, not yet written (they leave first).
        output: OutBuf,
    },
}

/// Byte and request counts of one event, for the worker's counters.
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

/// What an engine lends a session for one readiness event.
pub struct Io<'a, 'w> {
    /// The worker's spare buffers.
    pub pool: &'a mut BufPool,
    /// Route table, date, response and serve info.
    pub env: &'a mut Env<'w>,
    /// Connection settings.
    pub cfg: &'a ConnConfig,
    /// The loop's clock for this event.
    pub now: Instant,
    /// Counts of the event, for the worker's counters.
    pub traffic: Traffic,
    /// The readiness source reported the peer's half-close (or an error):
    /// read to the end instead of trusting a short read.
    pub peer_closed: bool,
}

/// Whether the connection still reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// Reading requests.
    Open,
    /// Stopped until queued output drains (the socket may hold unread bytes).
    Paused,
    /// Done reading: flush, then close.
    Closing,
}

/// One HTTP/1.1 connection between events.
#[derive(Debug)]
pub struct H1Session {
    /// The protocol state machine.
    machine: H1Conn,
    /// Bytes of a partial request kept between reads (none when idle).
    input: Option<InBuf>,
    /// Response bytes the socket has not taken yet (none when drained).
    output: Option<OutBuf>,
    /// The clock the connection is on.
    deadline: Deadline,
    /// Reading state.
    reading: Reading,
    /// Whether an `Upgrade: h2c` request switches the connection to h2c.
    h2c_upgrade: bool,
    /// The request that asked to switch, as h2 stream 1 (after
    /// [`Needs::Upgrade`]).
    upgrade: Option<http::Request<bytes::Bytes>>,
    /// The readiness source reported the peer's half-close; kept, because
    /// the event that said so may have been spent while reading was paused.
    peer_closed: bool,
}

impl H1Session {
    /// A session for a connection accepted at `now`.
    pub fn new(cfg: &ConnConfig, now: Instant) -> Self {
        H1Session {
            machine: H1Conn::new(cfg.limits),
            input: None,
            output: None,
            deadline: Deadline::accepted(now, cfg),
            reading: Reading::Open,
            h2c_upgrade: false,
            upgrade: None,
            peer_closed: false,
        }
    }

    /// Lets a valid `Upgrade: h2c` request stop [`H1Session::process`] with
    /// [`Needs::Upgrade`] instead of being answered as HTTP/1.1.
    pub fn allow_h2c_upgrade(mut self) -> Self {
        self.h2c_upgrade = true;
        self
    }

    /// The request that asked to switch to h2c, once [`H1Session::process`]
    /// stopped with [`Needs::Upgrade`].
    pub fn take_upgrade(&mut self) -> Option<http::Request<bytes::Bytes>> {
        self.upgrade.take()
    }

    /// The current deadline.
    pub fn deadline(&self) -> Deadline {
        self.deadline
    }

    /// Whether the connection has answered a request and waits for the next
    /// one with nothing buffered: closing it now loses nothing (a fresh
    /// connection, which may have a request in flight, is not).
    pub fn is_between_requests(&self) -> bool {
        self.is_idle() && self.deadline.kind == DeadlineKind::Idle
    }

    /// Whether nothing is buffered in either direction.
    pub fn is_idle(&self) -> bool {
        self.input.is_none() && self.output.is_none() && self.reading == Reading::Open
    }

    /// Answers every complete request in `input`, appending responses to `out`,
    /// and stops before a request whose route cannot run in `mode`.
    ///
    /// A stop with [`Needs::Upgrade`] is the exception: `consumed` includes the
    /// upgrade request, which [`H1Session::take_upgrade`] returns.
    pub fn process(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        env: &mut Env<'_>,
        mode: Mode,
    ) -> Processed {
        let mut done = Processed::default();
        loop {
            let buf = &input[done.consumed..];
            let mut headers = h1::empty_headers();
            match self.machine.poll(buf, &mut headers) {
                Poll::Request(req) => {
                    if self.h2c_upgrade {
                        if let Some(up) = crate::proto::h2::h2c_upgrade(&req) {
                            done.consumed += req.len;
                            self.upgrade = Some(up);
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
                            if close {
                                done.outcome = Outcome::Close;
                                return done;
                            }
                        }
                    }
                }
                Poll::HeadOnly(head) => {
                    if mode == Mode::Inline && env.table.route_async(head.method, head.path) {
                        // Decided on the head so an async request's body is
                        // read by its dispatch actor, not the worker.
                        done.outcome = Outcome::Stopped(Needs::Dispatch);
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

    /// Answers the request at the start of `input`, whose route has a future
    /// handler (after [`H1Session::process`] stopped with [`Needs::Future`]).
    pub async fn process_future(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        env: &mut Env<'_>,
    ) -> Processed {
        let mut done = Processed::default();
        let mut headers = h1::empty_headers();
        match self.machine.poll(input, &mut headers) {
            Poll::Request(req) => {
                if let Responded::Done { close, status } = respond_future(&req, env, out).await {
                    done.consumed = req.len;
                    done.requests = 1;
                    done.errors = u32::from(status >= 500);
                    if close {
                        done.outcome = Outcome::Close;
                    }
                }
            }
            Poll::Error(err) => {
                encode_error(&err, env.date, out);
                done.errors = 1;
                done.outcome = Outcome::Close;
            }
            Poll::HeadOnly(_) | Poll::NeedMore => {}
        }
        done
    }

    /// The protocol phase given `buffered` unconsumed bytes.
    pub fn phase(&self, buffered: usize) -> crate::proto::h1::Phase {
        self.machine.phase(buffered)
    }

    /// Handles readability: reads until the socket is drained, answering every
    /// complete request, then writes all responses at once.
    pub fn on_readable<S: Read + Write>(&mut self, sock: &mut S, io: &mut Io<'_, '_>) -> Drive {
        self.peer_closed |= io.peer_closed;
        if self.reading != Reading::Open {
            return self.on_writable(sock, io);
        }
        let mut input = self.input.take().unwrap_or_else(|| io.pool.input());
        let mut output = self.output.take().unwrap_or_else(|| io.pool.output());
        let (wrote_before, answered_before) = (io.traffic.bytes_out, io.traffic.requests);
        let mut peer_closed = false;
        loop {
            let spare = input.spare(READ_CHUNK);
            let asked = spare.len();
            let n = match sock.read(spare) {
                Ok(0) => {
                    peer_closed = true;
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return self.finish(io.pool, input, output, Drive::Close),
            };
            input.commit(n);
            io.traffic.bytes_in += n as u64;
            let p = self.process(input.filled(), output.vec(), io.env, Mode::Inline);
            input.consume(p.consumed);
            io.traffic.requests += u64::from(p.requests);
            io.traffic.errors += u64::from(p.errors);
            match p.outcome {
                Outcome::Open => {}
                Outcome::Close => {
                    self.reading = Reading::Closing;
                    break;
                }
                Outcome::Stopped(_) => return Drive::Promote { input, output },
            }
            if output.len() >= FLUSH_AT {
                // A client pipelining faster than it reads: write, and stop
                // reading while the socket refuses more.
                if !write_out(sock, &mut output, &mut io.traffic) {
                    return self.finish(io.pool, input, output, Drive::Close);
                }
                if !output.is_empty() {
                    self.reading = Reading::Paused;
                    break;
                }
            }
            if n < asked && !self.peer_closed {
                // A short read drained the socket; another read would only
                // return EAGAIN. Edge-triggered readiness reports later bytes,
                // and a FIN that came with these bytes is reported with them.
                break;
            }
        }
        if peer_closed && self.reading == Reading::Open {
            // Requests already answered are still written; a partial request
            // can never complete.
            self.reading = Reading::Closing;
        }
        if !write_out(sock, &mut output, &mut io.traffic) {
            return self.finish(io.pool, input, output, Drive::Close);
        }
        let done = Progress {
            wrote: io.traffic.bytes_out > wrote_before,
            answered: io.traffic.requests > answered_before,
        };
        self.settle(io.pool, input, output, io.cfg, io.now, done)
    }

    /// Handles writability: writes queued bytes; resumes reading when a paused
    /// connection drains.
    pub fn on_writable<S: Read + Write>(&mut self, sock: &mut S, io: &mut Io<'_, '_>) -> Drive {
        self.peer_closed |= io.peer_closed;
        let Some(mut output) = self.output.take() else {
            return if self.reading == Reading::Closing {
                Drive::Close
            } else {
                Drive::Open
            };
        };
        let before = output.len();
        if !write_out(sock, &mut output, &mut io.traffic) {
            return self.finish(io.pool, InBuf::default(), output, Drive::Close);
        }
        if output.len() < before {
            self.deadline = self.deadline.wrote(io.now, io.cfg);
        }
        if !output.is_empty() {
            self.output = Some(output);
            return Drive::Open;
        }
        io.pool.put_output(output);
        match self.reading {
            Reading::Closing => Drive::Close,
            Reading::Paused => {
                self.reading = Reading::Open;
                self.on_readable(sock, io)
            }
            Reading::Open => {
                let buffered = self.input.as_ref().map_or(0, InBuf::len);
                let phase = self.machine.phase(buffered);
                let done = Progress {
                    wrote: true,
                    answered: false,
                };
                self.deadline = self.deadline.next(io.now, phase, false, done, io.cfg);
                Drive::Open
            }
        }
    }

    /// Stores what is left after an event and picks the next deadline.
    fn settle(
        &mut self,
        pool: &mut BufPool,
        input: InBuf,
        output: OutBuf,
        cfg: &ConnConfig,
        now: Instant,
        done: Progress,
    ) -> Drive {
        if output.len() > cfg.max_pending_output {
            tracing::debug!(
                pending = output.len(),
                "client does not read its responses; closing"
            );
            return self.finish(pool, input, output, Drive::Close);
        }
        if self.reading == Reading::Closing && output.is_empty() {
            return self.finish(pool, input, output, Drive::Close);
        }
        let phase = self.machine.phase(input.len());
        self.deadline = self
            .deadline
            .next(now, phase, !output.is_empty(), done, cfg);
        self.input = keep(input, pool, InBuf::is_empty, BufPool::put_input);
        self.output = keep(output, pool, OutBuf::is_empty, BufPool::put_output);
        Drive::Open
    }

    /// Returns both buffers to the pool and yields `drive`.
    fn finish(&mut self, pool: &mut BufPool, input: InBuf, output: OutBuf, drive: Drive) -> Drive {
        pool.put_input(input);
        pool.put_output(output);
        if let Some(i) = self.input.take() {
            pool.put_input(i);
        }
        if let Some(o) = self.output.take() {
            pool.put_output(o);
        }
        drive
    }

    /// Gives the session's buffers back to the pool (the connection is closing).
    pub fn release(&mut self, pool: &mut BufPool) {
        self.finish(pool, InBuf::default(), OutBuf::default(), Drive::Close);
    }
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

/// Writes as much queued output as the socket takes; false on a write error.
fn write_out<S: Write>(sock: &mut S, output: &mut OutBuf, traffic: &mut Traffic) -> bool {
    while !output.is_empty() {
        match sock.write(output.pending()) {
            Ok(0) => return false,
            Ok(n) => {
                traffic.bytes_out += n as u64;
                output.advance(n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}
