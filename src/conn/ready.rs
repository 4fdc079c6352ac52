//! The readiness driver: serves an [`H1Session`] on a non-blocking socket
//! from edge-triggered readiness events (the epoll worker). It reads while
//! the session wants bytes, answers sync routes inline, writes what the
//! session queued, and reports when the connection must close or move to a
//! driver that can await (an async route, a live body).

use std::time::Instant;

use super::io::{flush, read_once, Read, Socket, Traffic};
use super::{BufPool, ConnConfig, Env, H1Session, Link, Mode, Outcome};

/// Queued output above which a batch is written before reading more.
const FLUSH_AT: usize = 64 * 1024;

/// What an engine lends the driver for one event.
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
}

/// What an event left the connection as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drive {
    /// Still open; wait for the next event.
    Open,
    /// Drop the socket now (the session closed).
    Close,
    /// Hand the connection (socket and session) to a driver that can run
    /// what the next request needs, or wait for a live body.
    Promote,
}

/// What the driver knows of a socket between edge-triggered events.
#[derive(Clone, Copy, Debug, Default)]
pub struct Readiness {
    /// Bytes may be waiting: no read has come back short or blocked since
    /// the last readable edge.
    pub(crate) readable: bool,
    /// The peer's half-close was reported: a short read no longer proves the
    /// socket drained (the FIN is read by one more call).
    pub(crate) hup: bool,
}

/// One readiness event for a socket.
#[derive(Clone, Copy, Debug, Default)]
pub struct Event {
    /// Reading would not block.
    pub readable: bool,
    /// The peer half-closed (or the socket failed).
    pub closed: bool,
}

/// Serves one readiness event (a writable edge, or none at all to settle a
/// session a control message changed, is `Event::default()`).
pub fn drive<S: Socket>(
    session: &mut H1Session,
    ready: &mut Readiness,
    sock: &mut S,
    ev: Event,
    io: &mut Io<'_, '_>,
) -> Drive {
    ready.readable |= ev.readable;
    ready.hup |= ev.closed;
    let mut link = Link {
        pool: io.pool,
        cfg: io.cfg,
        now: io.now,
    };
    loop {
        // Draining and idle: one read proves the socket empty before it is
        // closed (bytes may have come after the last edge was consumed).
        ready.readable |= session.wants_idle_proof();
        while ready.readable && session.wants_read() {
            match read_once(session, sock, &mut link, &mut io.traffic) {
                // Edge-triggered: a short read drained the socket, and a FIN
                // that came with these bytes was reported with them.
                Read::Bytes { short } => ready.readable = !short || ready.hup,
                Read::Eof | Read::Blocked => ready.readable = false,
                Read::Failed => return Drive::Close,
            }
            if answer(session, io.env, &mut link, &mut io.traffic) {
                return Drive::Promote;
            }
            if session.transmit().len() >= FLUSH_AT
                && !flush(session, sock, &mut link, &mut io.traffic)
            {
                return Drive::Close;
            }
        }
        // Output that drained may let held requests be answered.
        if answer(session, io.env, &mut link, &mut io.traffic) {
            return Drive::Promote;
        }
        if !flush(session, sock, &mut link, &mut io.traffic) || session.is_closed() {
            return Drive::Close;
        }
        if !(ready.readable && session.wants_read()
            || session.can_answer()
            || session.wants_idle_proof())
        {
            return Drive::Open;
        }
    }
}

/// Answers what can run inline; true when the connection must be promoted.
pub(super) fn answer(
    session: &mut H1Session,
    env: &mut Env<'_>,
    link: &mut Link<'_>,
    traffic: &mut Traffic,
) -> bool {
    let p = session.process(env, Mode::Inline, link);
    traffic.requests += u64::from(p.requests);
    traffic.errors += u64::from(p.errors);
    matches!(p.outcome, Outcome::Stopped(_)) || session.is_streaming()
}
