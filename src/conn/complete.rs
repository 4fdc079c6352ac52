//! The completion driver: serves an [`H1Session`] from the completions of a
//! ring (the io_uring worker). The engine reports what finished — bytes
//! received into a buffer of its own, the peer's EOF, a failure, a send of
//! `n` bytes, its write side shut — and the driver feeds it to the session,
//! answers sync routes inline and says whether the connection stays, closes
//! or moves to a driver that can await. What to submit next (a send of
//! [`H1Session::transmit`], a shutdown, a receive) the engine reads from the
//! session's own questions; nothing here or there decides a policy.

use super::ready::answer;
use super::{H1Session, Io, Link};

/// What finished for a connection.
#[derive(Clone, Copy, Debug)]
pub enum Done<'b> {
    /// Bytes arrived (in the engine's buffer; they are copied in).
    Received(&'b [u8]),
    /// The peer closed its sending side (a receive returned 0).
    Eof,
    /// The socket failed: nothing more can be sent or received.
    Failed,
    /// `n` bytes of the session's output were sent.
    Sent(usize),
    /// The engine shut its write side (the session asked for it).
    WriteShut,
    /// A read found nothing (the idle proof a draining session asks for).
    Empty,
    /// Nothing: settle a session a control message changed.
    Nothing,
}

/// What a completion left the connection as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Still open: submit what the session asks for.
    Open,
    /// The session closed: drop the socket once nothing is in flight on it.
    Close,
    /// Hand the connection to a driver that can run what the next request
    /// needs (or wait for a live body), once nothing is in flight on it.
    Promote,
}

/// Feeds one completion to the session and answers what can run inline.
pub fn complete(session: &mut H1Session, done: Done<'_>, io: &mut Io<'_, '_>) -> Next {
    let mut link = Link {
        pool: io.pool,
        cfg: io.cfg,
        now: io.now,
    };
    match done {
        Done::Received(bytes) => {
            io.traffic.bytes_in += bytes.len() as u64;
            session.on_bytes(bytes, &mut link);
        }
        Done::Eof => session.on_eof(&mut link),
        Done::Failed => {
            session.on_error(link.pool);
            return Next::Close;
        }
        Done::Sent(n) => {
            io.traffic.bytes_out += n as u64;
            session.on_sent(n, &mut link);
        }
        Done::WriteShut => session.on_write_shut(&mut link),
        Done::Empty => session.on_read_blocked(link.pool),
        Done::Nothing => {}
    }
    if answer(session, io.env, &mut link, &mut io.traffic) {
        return Next::Promote;
    }
    if session.is_closed() {
        Next::Close
    } else {
        Next::Open
    }
}

/// Records a completion on a connection that is leaving the ring for a
/// promotion: bytes received and sent are the session's (the driver that
/// takes over serves them), nothing is answered here, and an EOF or a
/// failure is left for the next driver to find again on the socket.
pub fn carry(session: &mut H1Session, done: Done<'_>, io: &mut Io<'_, '_>) {
    let mut link = Link {
        pool: io.pool,
        cfg: io.cfg,
        now: io.now,
    };
    match done {
        Done::Received(bytes) => {
            io.traffic.bytes_in += bytes.len() as u64;
            session.on_bytes(bytes, &mut link);
        }
        Done::Sent(n) => {
            io.traffic.bytes_out += n as u64;
            session.on_sent(n, &mut link);
        }
        Done::Eof | Done::Failed | Done::WriteShut | Done::Empty | Done::Nothing => {}
    }
}
