//! `LoopSession`: what a loop worker's connection speaks — still being told
//! apart by its first bytes, HTTP/1.1 ([`H1Session`]) or h2c
//! ([`H2Session`]) — and [`serve_loop`], the one readiness entry point that
//! serves it and makes the switches: detection (prior knowledge, a preface
//! split over many reads) and `Upgrade: h2c`. A loop engine holds one of
//! these per connection and decides nothing about protocols.

use std::io;
use std::time::Instant;

use super::complete::{complete, Done, Next};
use super::h2::{complete_h2, drive_h2, H2Session, LoopH2};
use super::ready::{drive, Drive, Event, Io, Readiness};
use super::{BufPool, ConnConfig, Deadline, H1Session, InBuf, Link, OutBuf, Socket, READ_CHUNK};
use crate::config::Protocol;
use crate::proto::detect::{detect, Detected};

/// A connection whose protocol is not known yet.
#[derive(Debug)]
pub struct Detecting {
    /// What arrived so far (from the worker's pool).
    input: Option<InBuf>,
    /// When it was accepted: the first head's clock.
    accepted: Instant,
    /// Only h2c is served (anything else is closed unanswered).
    h2c_only: bool,
    /// Shutdown began: closed once a read proves nothing arrived.
    draining: bool,
    /// Done: the driver drops the socket.
    closed: bool,
}

/// One loop-hosted connection's protocol state.
// HTTP/1.1 is the hot case and lives inline (no pointer to chase per
// event); h2c, larger still, is boxed.
#[allow(clippy::large_enum_variant)]
pub enum LoopSession {
    /// Reading the first bytes.
    Detecting(Detecting),
    /// HTTP/1.1.
    H1(H1Session),
    /// h2c.
    H2(Box<H2Session>),
}

/// What a loop worker lends to serve one of its connections.
pub struct LoopLend<'a> {
    /// The connection's key in the worker.
    pub key: usize,
    /// Its generation (keys are reused).
    pub gen: u64,
    /// What h2c connections need.
    pub h2: LoopH2<'a>,
}

impl LoopSession {
    /// The session of a connection accepted at `now` under `protocol`.
    pub fn accepted(protocol: Protocol, cfg: &ConnConfig, now: Instant) -> Self {
        match protocol {
            Protocol::Http1 => LoopSession::H1(H1Session::new(cfg, now)),
            Protocol::Auto | Protocol::H2c => LoopSession::Detecting(Detecting {
                input: None,
                accepted: now,
                h2c_only: protocol == Protocol::H2c,
                draining: false,
                closed: false,
            }),
        }
    }

    /// Shutdown began; `deadline` ends it regardless.
    pub fn begin_drain(&mut self, deadline: Instant) {
        match self {
            LoopSession::Detecting(d) => d.draining = true,
            LoopSession::H1(s) => s.begin_drain(),
            LoopSession::H2(s) => s.begin_drain(deadline),
        }
    }

    /// Whether the connection needs a turn now, without an event (shutdown
    /// began: an idle proof, a GOAWAY).
    pub fn wants_turn(&self) -> bool {
        match self {
            LoopSession::Detecting(d) => d.draining && d.input.is_none(),
            LoopSession::H1(s) => s.wants_idle_proof(),
            LoopSession::H2(s) => s.wants_turn(),
        }
    }

    /// The connection's next deadline.
    pub fn deadline(&self, cfg: &ConnConfig) -> Deadline {
        match self {
            LoopSession::Detecting(d) => Deadline::accepted(d.accepted, cfg),
            LoopSession::H1(s) => s.deadline(),
            LoopSession::H2(s) => s.deadline(cfg),
        }
    }

    /// The deadline may have passed (the driver gives the connection a turn
    /// afterwards unless it closed).
    pub fn on_timeout(&mut self, link: &mut Link<'_>) {
        match self {
            LoopSession::Detecting(d) => {
                if Deadline::accepted(d.accepted, link.cfg).expired(link.now) {
                    d.closed = true;
                }
            }
            LoopSession::H1(s) => s.on_timeout(link),
            LoopSession::H2(s) => s.on_timeout(link.now, link.cfg),
        }
    }

    /// Whether the socket should be dropped now.
    pub fn is_closed(&self) -> bool {
        match self {
            LoopSession::Detecting(d) => d.closed,
            LoopSession::H1(s) => s.is_closed(),
            LoopSession::H2(s) => s.is_closed(),
        }
    }

    /// Gives the connection's pooled buffers back (it is dropped).
    pub fn release(&mut self, pool: &mut BufPool) {
        match self {
            LoopSession::Detecting(d) => {
                d.closed = true;
                if let Some(i) = d.input.take() {
                    pool.put_input(i);
                }
            }
            LoopSession::H1(s) => s.release(pool),
            LoopSession::H2(_) => {}
        }
    }

    // ---- what a completion driver asks (see `complete_loop`) ----------

    /// Whether a receive should be armed.
    pub fn wants_read(&self) -> bool {
        match self {
            LoopSession::Detecting(d) => !d.closed,
            LoopSession::H1(s) => s.wants_read(),
            LoopSession::H2(s) => s.wants_read(),
        }
    }

    /// Whether output waits for the socket.
    pub fn has_output(&self) -> bool {
        match self {
            LoopSession::Detecting(_) => false,
            LoopSession::H1(s) => !s.transmit().is_empty(),
            LoopSession::H2(s) => s.has_output(),
        }
    }

    /// Appends up to `max` bytes of the output waiting for the socket to
    /// `into` (report what was sent with [`Done::Sent`]).
    pub fn copy_output(&self, into: &mut Vec<u8>, max: usize) {
        let mut copy = |pending: &[u8]| into.extend_from_slice(&pending[..pending.len().min(max)]);
        match self {
            LoopSession::Detecting(_) => {}
            LoopSession::H1(s) => copy(s.transmit()),
            LoopSession::H2(s) => s.with_transmit(copy),
        }
    }

    /// Whether the driver should shut the write side now (then report
    /// [`Done::WriteShut`]).
    pub fn wants_shutdown_write(&self) -> bool {
        match self {
            LoopSession::Detecting(_) => false,
            LoopSession::H1(s) => s.wants_shutdown_write(),
            LoopSession::H2(s) => s.wants_shutdown_write(),
        }
    }

    /// Whether shutdown waits for a read to prove nothing arrived (then
    /// report [`Done::Empty`] if none did).
    pub fn wants_idle_proof(&self) -> bool {
        match self {
            LoopSession::Detecting(d) => d.draining && d.input.is_none() && !d.closed,
            LoopSession::H1(s) => s.wants_idle_proof(),
            LoopSession::H2(_) => false,
        }
    }

    /// The HTTP/1.1 session of a connection being promoted.
    pub fn into_h1(self) -> Option<H1Session> {
        match self {
            LoopSession::H1(s) => Some(s),
            _ => None,
        }
    }
}

/// Serves one readiness event (or a turn without one: `Event::default()`),
/// switching protocols as the bytes say.
pub fn serve_loop<S: Socket>(
    session: &mut LoopSession,
    ready: &mut Readiness,
    sock: &mut S,
    mut ev: Event,
    io: &mut Io<'_, '_>,
    lend: &LoopLend<'_>,
) -> Drive {
    // Bytes read while detecting are answered before the socket is read
    // again (a FIN read next must not find them unanswered).
    let mut detected = false;
    loop {
        match session {
            LoopSession::Detecting(d) => {
                let Some(next) = detect_first(d, ready, sock, ev, io, lend) else {
                    return if d.closed { Drive::Close } else { Drive::Open };
                };
                *session = next;
                detected = true;
            }
            LoopSession::H1(s) => {
                let d = if std::mem::take(&mut detected) {
                    let readable = std::mem::replace(&mut ready.readable, false);
                    let d = drive(s, ready, sock, ev, io);
                    ready.readable |= readable;
                    if d == Drive::Open && ready.readable {
                        drive(s, ready, sock, ev, io)
                    } else {
                        d
                    }
                } else {
                    drive(s, ready, sock, ev, io)
                };
                if d != Drive::Promote {
                    return d;
                }
                let Some(h2) = upgraded(s, io, lend) else {
                    return d;
                };
                *session = h2;
            }
            LoopSession::H2(s) => return drive_h2(s, ready, sock, ev, io, &lend.h2),
        }
        // The event is merged into `ready` already.
        ev = Event::default();
    }
}

/// Feeds one completion to a loop connection (the io_uring worker's) and
/// answers what can run inline, making the switches [`serve_loop`] makes:
/// detection by the first bytes, `Upgrade: h2c`.
pub fn complete_loop(
    session: &mut LoopSession,
    done: Done<'_>,
    io: &mut Io<'_, '_>,
    lend: &LoopLend<'_>,
) -> Next {
    match session {
        LoopSession::Detecting(d) => {
            match done {
                Done::Received(bytes) => {
                    io.traffic.bytes_in += bytes.len() as u64;
                    let pool = &mut *io.pool;
                    d.input.get_or_insert_with(|| pool.input()).extend(bytes);
                }
                Done::Eof | Done::Failed => d.closed = true,
                Done::Empty => d.closed |= d.draining && d.input.is_none(),
                Done::Sent(_) | Done::WriteShut | Done::Nothing => {}
            }
            if !d.closed {
                if let Some(next) = detected(d, io, lend) {
                    *session = next;
                    // The bytes read so far are the new session's: answer them.
                    return complete_loop(session, Done::Nothing, io, lend);
                }
            }
            if d.closed {
                if let Some(i) = d.input.take() {
                    io.pool.put_input(i);
                }
                Next::Close
            } else {
                Next::Open
            }
        }
        LoopSession::H1(s) => {
            let next = complete(s, done, io);
            if next != Next::Promote {
                return next;
            }
            match upgraded(s, io, lend) {
                Some(h2) => {
                    *session = h2;
                    complete_loop(session, Done::Nothing, io, lend)
                }
                None => next,
            }
        }
        LoopSession::H2(s) => complete_h2(s, done, io, &lend.h2),
    }
}

/// Reads until the first bytes tell the protocol; the session to switch
/// to, or none (still unknown, or closed).
fn detect_first<S: Socket>(
    d: &mut Detecting,
    ready: &mut Readiness,
    sock: &mut S,
    ev: Event,
    io: &mut Io<'_, '_>,
    lend: &LoopLend<'_>,
) -> Option<LoopSession> {
    ready.readable |= ev.readable;
    ready.hup |= ev.closed;
    // Draining with nothing read: one read proves whether a request came.
    ready.readable |= d.draining && d.input.is_none();
    loop {
        if let Some(next) = detected(d, io, lend) {
            return Some(next);
        }
        if d.closed || !ready.readable {
            return None;
        }
        let input = d.input.get_or_insert_with(|| io.pool.input());
        let buf = input.spare(READ_CHUNK);
        let asked = buf.len();
        match sock.read(buf) {
            Ok(0) => {
                d.closed = true;
                return None;
            }
            Ok(n) => {
                input.commit(n);
                io.traffic.bytes_in += n as u64;
                ready.readable = n == asked || ready.hup;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                ready.readable = false;
                if input.is_empty() {
                    let i = d.input.take();
                    if let Some(i) = i {
                        io.pool.put_input(i);
                    }
                    if d.draining {
                        d.closed = true;
                    }
                }
            }
            Err(_) => {
                d.closed = true;
                return None;
            }
        }
    }
}

/// The session the bytes read so far tell apart, if they do (then the
/// bytes are its own); an HTTP/1.1 start where only h2c is served closes.
pub(super) fn detected(
    d: &mut Detecting,
    io: &mut Io<'_, '_>,
    lend: &LoopLend<'_>,
) -> Option<LoopSession> {
    let filled = d.input.as_ref().map_or(&[][..], InBuf::filled);
    match detect(filled) {
        Detected::H2 => {
            let input = d.input.take().unwrap_or_default();
            let h2 = H2Session::new(input.filled(), d.accepted, lend.key, lend.gen, &lend.h2);
            io.pool.put_input(input);
            Some(LoopSession::H2(Box::new(h2)))
        }
        Detected::H1 if !d.h2c_only => {
            let input = d.input.take().unwrap_or_default();
            let s = H1Session::with_buffers(io.cfg, d.accepted, input, OutBuf::default());
            Some(LoopSession::H1(s.allow_h2c_upgrade()))
        }
        Detected::H1 => {
            // h2c only: the preface or nothing.
            d.closed = true;
            None
        }
        Detected::NeedMore => None,
    }
}

/// The h2c session an HTTP/1.1 session that stopped at an `Upgrade: h2c`
/// request switches to (its 101 still to send, the bytes read after the
/// request its first input, the request served as stream 1); none if it
/// stopped for another reason.
pub(super) fn upgraded(
    s: &mut H1Session,
    io: &mut Io<'_, '_>,
    lend: &LoopLend<'_>,
) -> Option<LoopSession> {
    let request = s.take_upgrade()?;
    let rest = s.take_input();
    let h2 = H2Session::upgraded(
        s.transmit(),
        rest.filled(),
        request,
        io.now,
        lend.key,
        lend.gen,
        &lend.h2,
    );
    io.pool.put_input(rest);
    s.release(io.pool);
    Some(LoopSession::H2(Box::new(h2)))
}
