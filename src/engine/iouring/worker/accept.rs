//! Accepting: the accept completions (multishot, or single-shot re-armed),
//! adopting a connection, and the listener moves control is made of
//! (closing it once its accept's cancel has completed, opening a fresh one,
//! draining).

use std::io;
use std::net::TcpStream;
use std::os::fd::FromRawFd;
use std::time::Instant;

use super::super::ring::{Cqe, Kind, Tag};
use super::{Arm, Conn, Listener, Worker, ACCEPT_BACKOFF, QUIESCE_LIMIT};
use crate::config::EngineKind;
use crate::conn::{Done, H1Session, LoopSession};
use crate::engine::control::Accepting;
use crate::engine::sys;
use crate::engine::Promotion;

impl Worker {
    /// An accept completion.
    pub(super) fn on_accept(&mut self, c: Cqe, now: Instant) {
        let current = self.listener.as_ref().is_some_and(|l| l.gen == c.tag.slot);
        if !c.more() {
            if current {
                if let Some(l) = self.listener.as_mut() {
                    l.accept = Arm::Idle;
                }
            } else if let Some(i) = self.retiring.iter().position(|l| l.gen == c.tag.slot) {
                let l = self.retiring.swap_remove(i);
                self.retire(l, now);
            }
        }
        if c.res >= 0 {
            // SAFETY: a successful accept returns a descriptor the kernel
            // just created for this process; nothing else owns it.
            let stream = unsafe { TcpStream::from_raw_fd(c.res) };
            if self.stopping {
                self.hand_over(stream, now);
                return;
            }
            self.adopt(stream, now);
            return;
        }
        let err = io::Error::from_raw_os_error(-c.res);
        match -c.res {
            libc::ECANCELED | libc::EINTR | libc::EAGAIN | libc::ECONNABORTED => {}
            _ => {
                // Out of descriptors (or another failure): accept again from
                // the timer instead of spinning. Said once per episode.
                if self.accept_retry_at.is_none() {
                    if sys::is_fd_exhaustion(&err) {
                        tracing::warn!(
                            worker = self.id,
                            "out of file descriptors; accepting is retried every 100 ms"
                        );
                    } else {
                        tracing::warn!(worker = self.id, error = %err, "accept failed; retrying");
                    }
                }
                self.counters.errors.add(1);
                self.accept_retry_at = Some(now + ACCEPT_BACKOFF);
            }
        }
    }

    /// A connection the kernel accepted while the worker was being torn
    /// down (after a crash, the accept's cancel still on its way): no
    /// worker will serve it here, so it goes to the dispatch side unread,
    /// as a promoted connection does, instead of being reset (as HTTP/1.1:
    /// an h2c client among them is refused there, as it was here).
    fn hand_over(&mut self, stream: TcpStream, now: Instant) {
        let Ok(remote) = stream.peer_addr() else {
            return;
        };
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        self.counters.accepts.add(1);
        self.counters.promoted.add(1);
        (self.promoter)(Promotion {
            stream,
            remote: Some(remote),
            session: H1Session::new(&self.cfg, now),
            engine: EngineKind::IoUring,
        });
    }

    /// Starts serving an accepted connection.
    pub(super) fn adopt(&mut self, stream: TcpStream, now: Instant) {
        let remote = match stream.peer_addr() {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "accepted socket unusable");
                return;
            }
        };
        let key = self.conns.vacant_key();
        if self.gens.len() <= key {
            self.gens.resize(key + 1, 0);
        }
        let gen = self.gens[key];
        let mut session = LoopSession::accepted(self.protocol, &self.cfg, now);
        if let Some(deadline) = self.draining_until {
            session.begin_drain(deadline);
        }
        self.conns.insert(Conn {
            stream,
            remote,
            session,
            gen,
            recv: Arm::Idle,
            send: Arm::Idle,
            out: Vec::new(),
            sent: 0,
            rbuf: Vec::new(),
            leaving: None,
        });
        self.counters.accepts.add(1);
        let table = self.table.load();
        self.settle(key, &table, now);
    }

    /// Stops accepting: the accept is cancelled, and once it has ended (the
    /// wait handles every completion meanwhile, bounded by
    /// [`QUIESCE_LIMIT`]) the connections already queued are accepted and
    /// served (unless the worker is stopping), then the listener closes.
    pub(super) fn stop_accepting(&mut self) {
        let now = Instant::now();
        let Some(mut l) = self.listener.take() else {
            return;
        };
        if l.accept == Arm::Idle {
            self.retire(l, now);
            return;
        }
        if l.accept == Arm::Armed {
            l.accept = Arm::Cancelling;
            self.cancel(Tag::new(Kind::Accept, 0, l.gen as usize));
        }
        self.retiring.push(l);
        let until = now + QUIESCE_LIMIT;
        let table = self.table.load();
        while !self.retiring.is_empty() && Instant::now() < until {
            if self
                .ring
                .submit_and_wait(until.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
            self.handle_completions(&table, Instant::now());
        }
    }

    /// Closes a listener whose accept has ended, serving the connections the
    /// kernel already completed (clients like any other) unless the worker
    /// is stopping (a crashed worker's queue waits in the socket the record
    /// keeps, for the rebuilt instance).
    pub(super) fn retire(&mut self, l: Listener, now: Instant) {
        if !self.stopping && l.sock.set_nonblocking(true).is_ok() {
            while let Ok((stream, _)) = l.sock.accept() {
                if stream.set_nonblocking(false).is_ok() {
                    self.adopt(stream, now);
                }
            }
            // An inherited listening socket is one open file shared by every
            // worker (and the record): the others accept on it through
            // their rings, blocking. A socket shared with another engine
            // stays non-blocking (see `Worker::listen`).
            if !self.told.is_shared() {
                let _ = l.sock.set_nonblocking(false);
            }
        }
    }
}

impl Accepting for Worker {
    fn id(&self) -> usize {
        self.id
    }

    fn is_listening(&self) -> bool {
        self.listener.is_some()
    }

    fn close_listener(&mut self) {
        if self.listener.is_some() {
            self.told.forget_listener();
        }
        self.stop_accepting();
    }

    fn open_listener(&mut self) -> io::Result<()> {
        let l = self.told.fresh_listener(self.addr)?;
        self.listen(l);
        Ok(())
    }

    fn drain(&mut self, deadline: Instant) {
        self.draining_until = Some(deadline);
        let table = self.table.load();
        let now = Instant::now();
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            let session = &mut self.conns[key].session;
            session.begin_drain(deadline);
            if session.wants_turn() {
                // An h2c connection says GOAWAY in its turn.
                self.feed_plain(key, Done::Nothing, &table, now);
                self.settle(key, &table, now);
            } else if session.wants_idle_proof() {
                self.settle(key, &table, now);
            }
        }
    }
}
