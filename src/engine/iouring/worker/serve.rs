//! Serving connections: every receive or send completion is fed to the
//! connection's session through the completion driver, then what the
//! session asks for is submitted (a send of its output, the shutdown of its
//! write side, a receive or its cancel); a connection leaves the ring —
//! closed or promoted — once nothing is in flight on it.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Instant;

use io_uring::{opcode, squeue, types};

use super::super::bufs::GROUP;
use super::super::ring::{Cqe, Kind, Tag, GEN_MASK};
use super::{Arm, Conn, Leave, Worker, RECV_BUF, SEND_CHUNK, SPARES};
use crate::config::EngineKind;
use crate::conn::h2::{LoopH2, StreamRunner, Wakeups};
use crate::conn::{
    carry, complete_loop, BufPool, ConnConfig, Done, Env, Io, LoopLend, LoopSession, Next, Traffic,
};
use crate::engine::Promotion;
use crate::handler::{Response, ServeInfo};
use crate::metrics::Tally;
use crate::proto::h1::DateCache;
use crate::proto::h2::H2Settings;
use crate::router::{Dispatch, RouteTable};

/// The borrowed parts of a worker one connection event needs.
struct Kit<'a> {
    /// Spare session buffers.
    pool: &'a mut BufPool,
    /// The reusable response.
    resp: &'a mut Response,
    /// Cached `date` header.
    date: &'a DateCache,
    /// Connection settings.
    cfg: &'a ConnConfig,
    /// The route table of this turn.
    table: &'a RouteTable,
    /// The turn's clock.
    now: Instant,
    /// h2c settings and abuse limits.
    h2: &'a H2Settings,
    /// Where async h2c streams go.
    streams: &'a StreamRunner,
    /// Where h2c connections are woken.
    wakeups: &'a std::sync::Arc<Wakeups>,
}

/// Feeds one completion to a connection's session through the completion
/// driver (or only records it, when the connection is leaving).
fn feed(
    session: &mut LoopSession,
    leaving: &mut Option<Leave>,
    remote: SocketAddr,
    (key, gen): (usize, u32),
    done: Done<'_>,
    kit: &mut Kit<'_>,
) -> Traffic {
    let mut env = Env {
        table: kit.table,
        date: kit.date,
        resp: kit.resp,
        info: ServeInfo {
            engine: EngineKind::IoUring,
            dispatch: Dispatch::Inline,
            remote: Some(remote),
        },
    };
    let mut io = Io {
        pool: kit.pool,
        env: &mut env,
        cfg: kit.cfg,
        now: kit.now,
        traffic: Traffic::default(),
    };
    match (*leaving, session) {
        (Some(Leave::Promote), LoopSession::H1(s)) => carry(s, done, &mut io),
        (Some(_), _) => {}
        (None, session) => {
            let lend = LoopLend {
                key,
                gen: u64::from(gen),
                h2: LoopH2 {
                    settings: kit.h2,
                    runner: kit.streams,
                    wakeups: kit.wakeups,
                },
            };
            *leaving = match complete_loop(session, done, &mut io, &lend) {
                Next::Open => None,
                Next::Close => Some(Leave::Close),
                Next::Promote => Some(Leave::Promote),
            };
        }
    }
    io.traffic
}

impl Worker {
    /// A receive or send completion of a connection.
    pub(super) fn on_conn_cqe(&mut self, c: Cqe, table: &RouteTable, now: Instant) {
        let key = c.tag.slot as usize;
        let live = self
            .conns
            .get(key)
            .is_some_and(|conn| conn.gen & GEN_MASK == c.tag.gen);
        if !live {
            // A late completion for a slot reused since: its buffer goes back.
            tracing::debug!(?c, "stale completion dropped");
            if let (Some(bid), Some(b)) = (c.buffer(), self.bufs.as_mut()) {
                b.give_back(bid);
            }
            return;
        }
        let Worker {
            conns,
            bufs,
            pool,
            resp,
            date,
            cfg,
            counters,
            h2,
            streams,
            wakeups,
            ..
        } = self;
        let conn = &mut conns[key];
        let mut kit = Kit {
            pool,
            resp,
            date,
            cfg,
            table,
            now,
            h2,
            streams,
            wakeups,
        };
        let id = (key, conn.gen);
        let Conn {
            session,
            leaving,
            remote,
            rbuf,
            out,
            sent,
            ..
        } = conn;
        let traffic = match c.tag.kind {
            Kind::Recv => {
                if !c.more() {
                    conn.recv = Arm::Idle;
                }
                let provided = c.buffer();
                let done = match c.res {
                    n if n > 0 => {
                        let n = n as usize;
                        Some(match (provided, bufs.as_ref()) {
                            (Some(bid), Some(b)) => Done::Received(b.bytes(bid, n)),
                            _ => Done::Received(&rbuf[..n.min(rbuf.len())]),
                        })
                    }
                    0 => Some(Done::Eof),
                    e if -e == libc::ENOBUFS => {
                        // Every provided buffer is in use until the turn
                        // ends: the receive is armed again after they are
                        // given back.
                        tracing::debug!("a receive found no provided buffer; re-armed");
                        None
                    }
                    e if is_retry(-e) => None,
                    _ => Some(Done::Failed),
                };
                let t = done.map(|d| feed(session, leaving, *remote, id, d, &mut kit));
                if let (Some(bid), Some(b)) = (provided, bufs.as_mut()) {
                    b.give_back(bid);
                }
                t
            }
            _ => {
                conn.send = Arm::Idle;
                let done = match c.res {
                    n if n > 0 => {
                        *sent += n as usize;
                        Some(Done::Sent(n as usize))
                    }
                    e if is_retry(-e) => None,
                    _ => Some(Done::Failed),
                };
                if *sent >= out.len() {
                    out.clear();
                    *sent = 0;
                }
                done.map(|d| feed(session, leaving, *remote, id, d, &mut kit))
            }
        };
        if let Some(t) = traffic {
            counters.bytes_in.add(t.bytes_in);
            counters.bytes_out.add(t.bytes_out);
            counters.answered(t.requests, t.errors, now.elapsed());
        }
        self.settle(key, table, now);
    }

    /// Submits what a connection's session asks for now — a send of its
    /// output, the shutdown of its write side, a receive (or the cancel of
    /// one it no longer wants) — or, for a leaving connection, cancels what
    /// is armed and lets it leave once nothing is.
    pub(super) fn settle(&mut self, key: usize, table: &RouteTable, now: Instant) {
        loop {
            let Some(conn) = self.conns.get_mut(key) else {
                return;
            };
            let gen = conn.gen;
            if let Some(leave) = conn.leaving {
                let (recv, send) = (conn.recv, conn.send);
                if recv == Arm::Armed {
                    conn.recv = Arm::Cancelling;
                    self.cancel(Tag::new(Kind::Recv, gen, key));
                }
                if send == Arm::Armed {
                    self.conns[key].send = Arm::Cancelling;
                    self.cancel(Tag::new(Kind::Send, gen, key));
                }
                if recv == Arm::Idle && send == Arm::Idle {
                    self.depart(key, leave);
                }
                return;
            }
            if conn.send == Arm::Idle && conn.session.wants_idle_proof() {
                // Draining and between requests: the connection closes once
                // a read proves nothing arrived. A peek does not consume what
                // an armed receive will deliver.
                let mut byte = [std::mem::MaybeUninit::uninit()];
                let peek = socket2::SockRef::from(&conn.stream)
                    .recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
                if matches!(&peek, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
                    self.feed_plain(key, Done::Empty, table, now);
                    continue;
                }
            }
            let conn = &mut self.conns[key];
            if conn.send == Arm::Idle && conn.out.is_empty() {
                if conn.session.has_output() {
                    if conn.out.capacity() == 0 {
                        conn.out = self.spare_out.pop().unwrap_or_default();
                    }
                    conn.session.copy_output(&mut conn.out, SEND_CHUNK);
                } else if conn.session.wants_shutdown_write() {
                    // A failed shutdown means the peer is gone: lingering
                    // then ends at the first receive.
                    let _ = conn.stream.shutdown(Shutdown::Write);
                    self.feed_plain(key, Done::WriteShut, table, now);
                    continue;
                } else if conn.out.capacity() > 0 && self.spare_out.len() < SPARES {
                    self.spare_out.push(std::mem::take(&mut conn.out));
                }
            }
            let conn = &mut self.conns[key];
            if conn.send == Arm::Idle && !conn.out.is_empty() {
                let rest = &conn.out[conn.sent..];
                let send = opcode::Send::new(
                    types::Fd(conn.stream.as_raw_fd()),
                    rest.as_ptr(),
                    rest.len() as u32,
                )
                .flags(libc::MSG_NOSIGNAL)
                .build()
                .user_data(Tag::new(Kind::Send, gen, key).encode());
                conn.send = Arm::Armed;
                self.push(&send);
            }
            let conn = &mut self.conns[key];
            if conn.session.wants_read() {
                if conn.recv == Arm::Idle {
                    let entry = self.recv_entry(key);
                    self.conns[key].recv = Arm::Armed;
                    self.push(&entry);
                }
            } else if conn.recv == Arm::Armed {
                conn.recv = Arm::Cancelling;
                self.cancel(Tag::new(Kind::Recv, gen, key));
            }
            return;
        }
    }

    /// The receive to arm on connection `key`: multishot on the provided
    /// buffers, or single-shot into the connection's own buffer.
    pub(super) fn recv_entry(&mut self, key: usize) -> squeue::Entry {
        let conn = &mut self.conns[key];
        let fd = types::Fd(conn.stream.as_raw_fd());
        let tag = Tag::new(Kind::Recv, conn.gen, key).encode();
        if self.bufs.is_some() {
            return opcode::RecvMulti::new(fd, GROUP).build().user_data(tag);
        }
        if conn.rbuf.is_empty() {
            conn.rbuf = self.spare_rbuf.pop().unwrap_or_else(|| vec![0; RECV_BUF]);
        }
        opcode::Recv::new(fd, conn.rbuf.as_mut_ptr(), conn.rbuf.len() as u32)
            .build()
            .user_data(tag)
    }

    /// Submits a cancel of the operation tagged `target`.
    pub(super) fn cancel(&mut self, target: Tag) {
        let entry = opcode::AsyncCancel::new(target.encode())
            .build()
            .user_data(Tag::new(Kind::Cancel, target.gen, target.slot as usize).encode());
        self.push(&entry);
    }

    /// Feeds an event that carries no bytes to connection `key`.
    pub(super) fn feed_plain(
        &mut self,
        key: usize,
        done: Done<'_>,
        table: &RouteTable,
        now: Instant,
    ) {
        let Worker {
            conns,
            pool,
            resp,
            date,
            cfg,
            counters,
            h2,
            streams,
            wakeups,
            ..
        } = self;
        let Some(conn) = conns.get_mut(key) else {
            return;
        };
        let mut kit = Kit {
            pool,
            resp,
            date,
            cfg,
            table,
            now,
            h2,
            streams,
            wakeups,
        };
        let t = feed(
            &mut conn.session,
            &mut conn.leaving,
            conn.remote,
            (key, conn.gen),
            done,
            &mut kit,
        );
        counters.answered(t.requests, t.errors, now.elapsed());
    }

    /// Connection `key` leaves the ring: nothing is in flight on it.
    pub(super) fn depart(&mut self, key: usize, leave: Leave) {
        let mut conn = self.conns.remove(key);
        self.gens[key] = self.gens[key].wrapping_add(1);
        let out = std::mem::take(&mut conn.out);
        if out.capacity() > 0 && out.capacity() <= SEND_CHUNK * 2 && self.spare_out.len() < SPARES {
            let mut out = out;
            out.clear();
            self.spare_out.push(out);
        }
        let rbuf = std::mem::take(&mut conn.rbuf);
        if !rbuf.is_empty() && self.spare_rbuf.len() < SPARES {
            self.spare_rbuf.push(rbuf);
        }
        match leave {
            Leave::Close => {
                conn.session.release(&mut self.pool);
                self.counters.closes.add(1);
            }
            Leave::Promote => {
                if let Err(e) = conn.stream.set_nonblocking(true) {
                    tracing::warn!(error = %e, "promoted socket unusable");
                    conn.session.release(&mut self.pool);
                    self.counters.closes.add(1);
                    return;
                }
                let Some(session) = conn.session.into_h1() else {
                    tracing::error!("only an HTTP/1.1 connection can be promoted; closed");
                    self.counters.closes.add(1);
                    return;
                };
                self.counters.promoted.add(1);
                (self.promoter)(Promotion {
                    stream: conn.stream,
                    remote: Some(conn.remote),
                    session,
                    engine: EngineKind::IoUring,
                });
            }
        }
    }
}

/// Whether a failed receive or send is simply re-armed (no buffer, a signal,
/// or a cancel the worker asked for).
fn is_retry(errno: i32) -> bool {
    matches!(
        errno,
        libc::ENOBUFS | libc::EINTR | libc::EAGAIN | libc::ECANCELED
    )
}
