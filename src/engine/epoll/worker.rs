//! The epoll `WorkerActor`: accepts, reads, answers sync routes in its own
//! turn (HTTP/1.1 requests and h2c streams alike), hands async HTTP/1.1
//! connections to the promoter and async h2c streams to the stream pool,
//! serves connections woken from other threads, obeys its control inbox,
//! and closes connections whose deadline ran out.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use slab::Slab;
use switchyard_actors::{Actor, Context, Wake};

use crate::config::{EngineKind, Protocol};
use crate::conn::h2::{LoopH2, StreamRunner, Wakeups};
use crate::conn::{
    serve_loop, BufPool, ConnConfig, Drive, Env, Event as Ready, Io, Link, LoopLend, LoopSession,
    Readiness, Traffic,
};
use crate::engine::control::{obey, Accepting, Record};
use crate::engine::hosted::{LoopWorker, Turn};
use crate::engine::sys::epoll::{Event, Events, Poller};
use crate::engine::{sys, Control, Promoter, Promotion};
use crate::handler::{Response, ServeInfo};
use crate::metrics::{Tally, WorkerCounters};
use crate::proto::h1::DateCache;
use crate::proto::h2::H2Settings;
use crate::router::{Dispatch, RouteTable, SharedTable};

/// Poller key of the listener (never a slab index).
const LISTENER: usize = usize::MAX - 1;

/// Readiness events taken per wait.
const EVENTS: usize = 1024;

/// Period of the coarse timer that checks deadlines.
const TICK: Duration = Duration::from_millis(50);

/// How long to wait before accepting again after running out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Size of a pooled connection buffer.
const BUF_SIZE: usize = 16 * 1024;

/// Rounds of woken connections served in one turn; more wait for the next
/// turn, which then does not block.
const WAKE_ROUNDS: usize = 2;

/// What a worker is built from, kept so a crashed worker can be rebuilt.
#[derive(Clone)]
pub(super) struct WorkerParts {
    /// Index among the workers.
    pub(super) id: usize,
    /// The listen address.
    pub(super) addr: SocketAddr,
    /// The worker's poller (outlives worker instances).
    pub(super) poller: Arc<Poller>,
    /// Route table snapshots.
    pub(super) table: Arc<SharedTable>,
    /// Connection settings.
    pub(super) cfg: ConnConfig,
    /// Protocols accepted.
    pub(super) protocol: Protocol,
    /// h2c settings and abuse limits.
    pub(super) h2: H2Settings,
    /// The worker's counters (outlive worker instances).
    pub(super) counters: Arc<WorkerCounters>,
    /// Where async connections go.
    pub(super) promoter: Promoter,
    /// Where async h2c streams go.
    pub(super) streams: StreamRunner,
    /// What control told the worker so far (paused, draining), kept outside
    /// the instance so a rebuilt worker obeys it too.
    pub(super) told: Record,
}

/// One connection on this worker.
struct Conn {
    /// The socket.
    stream: TcpStream,
    /// The peer.
    remote: SocketAddr,
    /// Protocol state and every connection policy.
    session: LoopSession,
    /// What the readiness driver knows of the socket.
    ready: Readiness,
    /// Tells this connection from earlier ones under the same key.
    gen: u64,
}

/// An epoll worker.
pub(super) struct Worker {
    /// Index among the workers (CPU to pin to when pinning).
    id: usize,
    /// The listen address (to re-bind on resume).
    addr: SocketAddr,
    /// The listener, none while accepting is paused or shut.
    listener: Option<TcpListener>,
    /// Readiness for every socket of this worker.
    poller: Arc<Poller>,
    /// Open connections.
    conns: Slab<Conn>,
    /// Spare buffers.
    pool: BufPool,
    /// The response handlers write, reused for every request.
    resp: Response,
    /// Cached `date` header.
    date: DateCache,
    /// Route table snapshots.
    table: Arc<SharedTable>,
    /// Connection settings.
    cfg: ConnConfig,
    /// Protocols accepted.
    protocol: Protocol,
    /// h2c settings and abuse limits.
    h2: H2Settings,
    /// This worker's counters.
    counters: Arc<WorkerCounters>,
    /// Where async connections go.
    promoter: Promoter,
    /// Where async h2c streams go.
    streams: StreamRunner,
    /// Connections woken from any thread (h2c replies).
    wakeups: Arc<Wakeups>,
    /// The woken connections being served (kept to reuse its storage).
    woken: Vec<(usize, u64)>,
    /// The next connection's generation.
    next_gen: u64,
    /// When accepting is retried after descriptor exhaustion.
    accept_retry_at: Option<Instant>,
    /// Set by shutdown: when the remaining connections are closed regardless.
    draining_until: Option<Instant>,
    /// Shared record of pause and drain, for a rebuilt instance.
    told: Record,
    /// Readiness events of the current turn (kept to reuse its storage).
    events: Events,
    /// When deadlines are checked next.
    next_tick: Instant,
}

impl LoopWorker for Worker {
    fn turn(&mut self) -> Turn {
        Worker::turn(self)
    }
}

impl Actor for Worker {
    type Msg = Control;

    fn handle(&mut self, msg: Control, _ctx: &mut Context<Self>) {
        let told = self.told.clone();
        obey(self, &told, msg);
    }

    fn stopping(&mut self) {
        self.close_all();
    }
}

/// A worker dropped without `stopping` — it panicked, and the actor kernel
/// discards a panicked instance — still closes and counts its connections,
/// so `closes` and `active_conns` stay true, and leaves its listening socket
/// to the rebuilt instance. (After `stopping` there is nothing left.)
impl Drop for Worker {
    fn drop(&mut self) {
        for key in keys_where(&self.conns, |_| true) {
            self.close(key);
        }
        // The socket outlives this instance (the record keeps a second
        // descriptor for the rebuilt one): its registration must not.
        if let Some(l) = self.listener.take() {
            if let Err(e) = self.poller.delete(&l) {
                tracing::debug!(error = %e, "deregistering the listener failed");
            }
        }
    }
}

/// Wakes a worker's loop when its mailbox receives a message.
pub(super) struct PollerWake(pub(super) Arc<Poller>);

impl Wake for PollerWake {
    fn wake(&self) {
        if let Err(e) = self.0.notify() {
            tracing::error!(error = %e, "could not wake a worker");
        }
    }
}

impl Worker {
    /// A worker owning `listener` (none while paused or draining). A
    /// listener the poller refuses is reported and dropped: the worker then
    /// serves no new connections (the other workers accept on the same port)
    /// until a resume binds a fresh one.
    pub(super) fn new(parts: &WorkerParts, listener: Option<TcpListener>) -> Self {
        let poller = parts.poller.clone();
        let listener = listener.and_then(|l| match poller.add(&l, LISTENER, false) {
            Ok(()) => {
                parts.told.keep_listener(&l);
                Some(l)
            }
            Err(e) => {
                tracing::error!(worker = parts.id, error = %e, "cannot register the listener; not accepting");
                parts.counters.errors.add(1);
                None
            }
        });
        let told = parts.told.get();
        let WorkerParts {
            id,
            addr,
            table,
            cfg,
            protocol,
            h2,
            counters,
            promoter,
            streams,
            ..
        } = parts.clone();
        let rouse = poller.clone();
        let wakeups = Wakeups::new(Box::new(move || {
            if let Err(e) = rouse.notify() {
                tracing::error!(error = %e, "could not wake a worker for an h2 connection");
            }
        }));
        Worker {
            id,
            addr,
            listener,
            poller,
            conns: Slab::new(),
            pool: BufPool::new(BUF_SIZE),
            resp: Response::new(),
            date: DateCache::new(SystemTime::now()),
            table,
            cfg,
            protocol,
            h2,
            counters,
            promoter,
            streams,
            wakeups,
            woken: Vec::new(),
            next_gen: 0,
            accept_retry_at: None,
            draining_until: told.draining_until,
            told: parts.told.clone(),
            events: Events::with_capacity(EVENTS),
            next_tick: Instant::now() + TICK,
        }
    }

    /// One loop turn: wait for readiness (or the next tick), serve every
    /// ready socket, check deadlines. Control messages are handled by the
    /// mailbox between turns.
    pub(super) fn turn(&mut self) -> Turn {
        self.wakeups.enter();
        self.events.clear();
        let timeout = if self.wakeups.is_empty() {
            self.next_tick.saturating_duration_since(Instant::now())
        } else {
            Duration::ZERO
        };
        if let Err(e) = self.poller.wait(&mut self.events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                // A long-lived thread reports and is restarted, it does not
                // limp on with a broken poller.
                panic!("worker {}: poller failed: {e}", self.id);
            }
        }
        let now = Instant::now();
        self.date.update(SystemTime::now());
        let table = self.table.load();
        let mut events = std::mem::take(&mut self.events);
        for ev in events.iter() {
            if ev.key == LISTENER {
                self.accept_all(now);
            } else {
                self.on_event(ev, &table, now);
            }
        }
        events.clear();
        self.events = events;
        self.serve_woken(&table, now);
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            self.on_tick(now);
        }
        if crate::engine::faults::crash_asked() {
            panic!("worker {}: crash asked for by a fault route", self.id);
        }
        match self.draining_until {
            Some(d) if now >= d || self.conns.is_empty() => Turn::Stop,
            _ => Turn::Continue,
        }
    }

    /// Serves one readiness event.
    fn on_event(&mut self, ev: Event, table: &RouteTable, now: Instant) {
        let ready = Ready {
            readable: ev.readable,
            closed: ev.closed,
        };
        self.serve(ev.key, ready, table, now);
    }

    /// Serves the connections woken since the last look (a few rounds:
    /// serving may wake more).
    fn serve_woken(&mut self, table: &RouteTable, now: Instant) {
        if self.wakeups.is_empty() {
            return;
        }
        for _ in 0..WAKE_ROUNDS {
            let mut woken = std::mem::take(&mut self.woken);
            self.wakeups.take(&mut woken);
            for &(key, gen) in &woken {
                if self.conns.get(key).is_some_and(|c| c.gen == gen) {
                    self.serve(key, Ready::default(), table, now);
                }
            }
            let done = woken.is_empty();
            self.woken = woken;
            if done {
                break;
            }
        }
    }

    /// Runs the driver on a connection, then acts on what it reports.
    fn serve(&mut self, key: usize, ev: Ready, table: &RouteTable, now: Instant) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let mut env = Env {
            table,
            date: &self.date,
            resp: &mut self.resp,
            info: ServeInfo {
                engine: EngineKind::Epoll,
                dispatch: Dispatch::Inline,
                remote: Some(conn.remote),
            },
        };
        let mut io = Io {
            pool: &mut self.pool,
            env: &mut env,
            cfg: &self.cfg,
            now,
            traffic: Traffic::default(),
        };
        let lend = LoopLend {
            key,
            gen: conn.gen,
            h2: LoopH2 {
                settings: &self.h2,
                runner: &self.streams,
                wakeups: &self.wakeups,
            },
        };
        let outcome = serve_loop(
            &mut conn.session,
            &mut conn.ready,
            &mut conn.stream,
            ev,
            &mut io,
            &lend,
        );
        let traffic = io.traffic;
        self.count(&traffic, now);
        match outcome {
            Drive::Open => {}
            Drive::Close => self.close(key),
            Drive::Promote => {
                let conn = self.conns.try_remove(key).expect("connection present");
                if let Err(e) = self.poller.delete(&conn.stream) {
                    tracing::warn!(error = %e, "deregistering a promoted connection failed");
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
                    engine: EngineKind::Epoll,
                });
            }
        }
    }

    /// Adds an event's traffic to the counters.
    fn count(&self, t: &Traffic, started: Instant) {
        let c = &self.counters;
        c.bytes_in.add(t.bytes_in);
        c.bytes_out.add(t.bytes_out);
        c.answered(t.requests, t.errors, started.elapsed());
    }

    /// Accepts every pending connection.
    fn accept_all(&mut self, now: Instant) {
        if self.draining_until.is_some() {
            return;
        }
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, remote)) => self.adopt(stream, remote, now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.accept_retry_at = None;
                    break;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) => {}
                Err(e) => {
                    // Out of descriptors (or another transient failure): leave
                    // the backlog queued and retry from the timer, instead of
                    // spinning on a listener that stays readable.
                    // Said once per episode (until the backlog is drained):
                    // the retries every 100 ms would otherwise flood the log.
                    if self.accept_retry_at.is_none() {
                        if sys::is_fd_exhaustion(&e) {
                            tracing::warn!(
                                worker = self.id,
                                "out of file descriptors; accepting is retried every 100 ms"
                            );
                        } else {
                            tracing::warn!(worker = self.id, error = %e, "accept failed; retrying");
                        }
                    }
                    self.counters.errors.add(1);
                    self.accept_retry_at = Some(now + ACCEPT_BACKOFF);
                    break;
                }
            }
        }
    }

    /// Starts serving an accepted connection.
    fn adopt(&mut self, stream: TcpStream, remote: SocketAddr, now: Instant) {
        if let Err(e) = stream.set_nonblocking(true) {
            tracing::debug!(error = %e, "accepted socket unusable");
            return;
        }
        let mut session = LoopSession::accepted(self.protocol, &self.cfg, now);
        if let Some(deadline) = self.draining_until {
            session.begin_drain(deadline);
        }
        let gen = self.next_gen;
        self.next_gen += 1;
        let key = self.conns.insert(Conn {
            stream,
            remote,
            session,
            ready: Readiness::default(),
            gen,
        });
        let conn = self.conns.get_mut(key).expect("just inserted");
        if let Err(e) = self.poller.add(&conn.stream, key, true) {
            tracing::warn!(error = %e, "registering a connection failed");
            self.conns.remove(key);
            self.counters.errors.add(1);
            return;
        }
        self.counters.accepts.add(1);
    }

    /// Periodic work: expired deadlines, accept retries.
    fn on_tick(&mut self, now: Instant) {
        let cfg = self.cfg;
        let table = self.table.load();
        for key in keys_where(&self.conns, |c| c.session.deadline(&cfg).expired(now)) {
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            let mut link = Link {
                pool: &mut self.pool,
                cfg: &self.cfg,
                now,
            };
            conn.session.on_timeout(&mut link);
            if conn.session.is_closed() {
                self.close(key);
            } else {
                // What the timeout decided may need sending (GOAWAY, a reset).
                self.serve(key, Ready::default(), &table, now);
            }
        }
        if self.accept_retry_at.is_some_and(|t| now >= t) {
            self.accept_all(now);
        }
    }

    /// Closes a connection now.
    fn close(&mut self, key: usize) {
        if let Some(mut conn) = self.conns.try_remove(key) {
            if let Err(e) = self.poller.delete(&conn.stream) {
                tracing::debug!(error = %e, "deregistering a connection failed");
            }
            conn.session.release(&mut self.pool);
            self.counters.closes.add(1);
        }
    }

    /// Closes everything (the worker stops).
    fn close_all(&mut self) {
        self.close_listener();
        for key in keys_where(&self.conns, |_| true) {
            self.close(key);
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
        let Some(listener) = self.listener.take() else {
            return;
        };
        self.told.forget_listener();
        let now = Instant::now();
        while let Ok((stream, remote)) = listener.accept() {
            self.adopt(stream, remote, now);
        }
        if let Err(e) = self.poller.delete(&listener) {
            tracing::debug!(error = %e, "deregistering the listener failed");
        }
    }

    fn open_listener(&mut self) -> io::Result<()> {
        let l = self.told.fresh_listener(self.addr)?;
        self.poller.add(&l, LISTENER, false)?;
        self.told.keep_listener(&l);
        self.listener = Some(l);
        self.accept_all(Instant::now());
        Ok(())
    }

    fn drain(&mut self, deadline: Instant) {
        self.draining_until = Some(deadline);
        let table = self.table.load();
        let now = Instant::now();
        for (_, c) in self.conns.iter_mut() {
            c.session.begin_drain(deadline);
        }
        for key in keys_where(&self.conns, |c| c.session.wants_turn()) {
            self.serve(key, Ready::default(), &table, now);
        }
    }
}

/// Keys of the connections matching `pred`, collected so the caller may
/// close them while walking the list.
fn keys_where(conns: &Slab<Conn>, mut pred: impl FnMut(&Conn) -> bool) -> Vec<usize> {
    conns
        .iter()
        .filter(|(_, c)| pred(c))
        .map(|(k, _)| k)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpStream;

    use super::*;
    use crate::router::Router;

    /// The parts of a worker on its own poller, promoting nowhere.
    fn parts(addr: SocketAddr) -> WorkerParts {
        WorkerParts {
            id: 0,
            addr,
            poller: Arc::new(Poller::new().expect("poller")),
            table: Arc::new(SharedTable::new(Router::new().table())),
            cfg: ConnConfig::default(),
            protocol: Protocol::Auto,
            h2: H2Settings::default(),
            counters: Arc::default(),
            promoter: Arc::new(|_| {}),
            streams: Arc::new(|_| {}),
            told: Record::default(),
        }
    }

    #[test]
    fn a_dropped_worker_closes_and_counts_its_connections() {
        let listener = sys::reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let parts = parts(addr);
        let mut worker = Worker::new(&parts, Some(listener));
        let mut clients: Vec<TcpStream> =
            (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let until = Instant::now() + Duration::from_secs(5);
        while worker.conns.len() < 3 && Instant::now() < until {
            worker.turn();
        }
        assert_eq!(parts.counters.accepts.get(), 3);
        // What the actor kernel does to an instance that panicked: drop it,
        // without `stopping`.
        drop(worker);
        assert_eq!(
            parts.counters.closes.get(),
            3,
            "every connection counted closed"
        );
        for c in &mut clients {
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 16];
            assert!(
                matches!(c.read(&mut buf), Ok(0) | Err(_)),
                "closed by the server"
            );
        }
    }

    #[test]
    fn a_restart_that_cannot_bind_is_reported_not_a_panic() {
        // A plain listener (no SO_REUSEPORT) holds the address.
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let parts = parts(holder.local_addr().unwrap());
        assert!(parts
            .told
            .listener_after_crash(parts.id, parts.addr, &parts.counters)
            .is_none());
        assert_eq!(parts.counters.errors.get(), 1);
        let worker = Worker::new(&parts, None);
        assert!(worker.listener.is_none());
    }
}
