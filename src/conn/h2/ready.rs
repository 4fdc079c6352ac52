//! The readiness driver of a loop-hosted h2c connection: reads while the
//! session wants bytes (a bounded number of rounds per event, then the
//! connection is requeued: h2 has no fairness of its own), gives the
//! session its turn, writes what it queued in one batch, shuts the write
//! side when it asks. Like every driver it only moves bytes.

use std::io;

use super::session::{H2Session, LoopH2};
use crate::conn::{Drive, Event, Io, Readiness, Socket};

/// Reads of a full buffer taken in one event before the connection yields
/// to the others (256 KiB each at most).
const ROUNDS: usize = 16;

/// Serves one readiness event (or a wake: `Event::default()`).
pub fn drive_h2<S: Socket>(
    session: &mut H2Session,
    ready: &mut Readiness,
    sock: &mut S,
    ev: Event,
    io: &mut Io<'_, '_>,
    lend: &LoopH2<'_>,
) -> Drive {
    ready.readable |= ev.readable;
    ready.hup |= ev.closed;
    let mut rounds = 0;
    loop {
        while ready.readable && session.wants_read() {
            let got = session.with_read_buf(|buf| {
                let asked = buf.len();
                loop {
                    match sock.read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        other => break other.map(|n| (n, asked)),
                    }
                }
            });
            match got {
                Ok((0, _)) => {
                    session.on_read(0, io.now);
                    session.on_eof();
                    ready.readable = false;
                }
                Ok((n, asked)) => {
                    io.traffic.bytes_in += n as u64;
                    session.on_read(n, io.now);
                    ready.readable = n == asked || ready.hup;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    session.on_read(0, io.now);
                    ready.readable = false;
                }
                Err(_) => {
                    session.on_error();
                    return Drive::Close;
                }
            }
        }
        session.poll(io, lend);
        if !flush(session, sock, io) || session.is_closed() {
            return Drive::Close;
        }
        let more_input = ready.readable && session.wants_read();
        if !(more_input || session.wants_poll()) {
            return Drive::Open;
        }
        rounds += 1;
        if rounds >= ROUNDS {
            // Busy: let the worker's other connections go first.
            session.requeue();
            return Drive::Open;
        }
    }
}

/// Writes the queued output until the socket refuses more, then shuts the
/// write side when the session asks; false when the socket failed.
fn flush<S: Socket>(session: &mut H2Session, sock: &mut S, io: &mut Io<'_, '_>) -> bool {
    while session.has_output() {
        let wrote = session.with_transmit(|out| sock.write(out));
        match wrote {
            Ok(0) => {
                session.on_error();
                return false;
            }
            Ok(n) => {
                io.traffic.bytes_out += n as u64;
                session.on_sent(n, io.now);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                session.on_error();
                return false;
            }
        }
    }
    if session.wants_shutdown_write() {
        let _ = sock.shutdown_write();
        session.on_write_shut(io.now, io.cfg);
    }
    true
}
