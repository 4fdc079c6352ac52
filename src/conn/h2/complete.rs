//! The completion driver of a loop-hosted h2c connection (the io_uring
//! worker's): what finished on the socket — bytes received into the
//! engine's buffer, a send of `n` bytes, the peer's EOF, the write side
//! shut — is reported to the session, then the session gets its turn. What
//! to submit next (a send of its output, a shutdown, a receive) the engine
//! reads from the session's own questions, as for HTTP/1.1.

use super::session::{H2Session, LoopH2};
use crate::conn::{Done, Io, Next};

/// Turns given to a session in one completion while h2 finds output room
/// again; then the connection is requeued (h2 has no fairness of its own).
const ROUNDS: usize = 16;

/// Feeds one completion to the session and gives it its turn.
pub fn complete_h2(
    session: &mut H2Session,
    done: Done<'_>,
    io: &mut Io<'_, '_>,
    lend: &LoopH2<'_>,
) -> Next {
    match done {
        Done::Received(bytes) => {
            io.traffic.bytes_in += bytes.len() as u64;
            session.on_received(bytes, io.now);
        }
        Done::Eof => session.on_eof(),
        Done::Failed => {
            session.on_error();
            return Next::Close;
        }
        Done::Sent(n) => {
            io.traffic.bytes_out += n as u64;
            session.on_sent(n, io.now);
        }
        Done::WriteShut => session.on_write_shut(io.now, io.cfg),
        Done::Empty | Done::Nothing => {}
    }
    for _ in 0..ROUNDS {
        session.poll(io, lend);
        if session.is_closed() {
            return Next::Close;
        }
        if !session.wants_poll() {
            return Next::Open;
        }
    }
    session.requeue();
    Next::Open
}
