//! The io_uring `WorkerActor`: accepts, receives and sends through its own
//! ring, feeds every completion to the connection's session through the
//! completion driver (`conn::complete`), hands async connections to the
//! promoter once nothing is in flight on them, obeys its control inbox, and
//! closes connections whose deadline ran out.
//!
//! Every operation on a connection is tagged with its slot and the slot's
//! generation. A connection leaves the ring (closed or promoted) only when
//! each of its armed operations was cancelled and its terminal completion
//! seen; only then are its buffers reused and its slot's generation bumped,
//! so a late completion for a reused slot is recognised and dropped.
//!
//! This file holds the worker's state, its loop turn, the tick and the
//! teardown; `serve` feeds a connection's completions to its session and
//! submits what the session asks for; `accept` adopts connections and
//! supplies the listener moves control is made of.

mod accept;
mod serve;

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use io_uring::{opcode, squeue, types};
use slab::Slab;
use switchyard_actors::{Actor, Context};

use super::bufs::BufRing;
use super::probe::Caps;
use super::ring::{Cqe, Kind, Ring, Tag, GEN_MASK};
use super::wake::EventFd;
use crate::config::Protocol;
use crate::conn::h2::{StreamRunner, Wakeups};
use crate::conn::{BufPool, ConnConfig, Done, Link, LoopSession};
use crate::engine::control::{obey, Record};
use crate::engine::hosted::{LoopWorker, Turn};
use crate::engine::{Control, Promoter};
use crate::handler::Response;
use crate::metrics::WorkerCounters;
use crate::proto::h1::DateCache;
use crate::proto::h2::H2Settings;
use crate::router::{RouteTable, SharedTable};

/// Period of the coarse timer that checks deadlines.
const TICK: Duration = Duration::from_millis(50);

/// How long to wait before accepting again after running out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Size of a pooled session buffer.
const BUF_SIZE: usize = 16 * 1024;

/// Size of one provided buffer.
const RING_BUF_SIZE: usize = 4096;

/// A base-tier connection's own receive buffer.
const RECV_BUF: usize = 8 * 1024;

/// The most output copied into one send.
const SEND_CHUNK: usize = 256 * 1024;

/// Rounds of woken connections served in one turn; more wait for the next
/// turn, which then does not block.
const WAKE_ROUNDS: usize = 2;

/// Spare send and receive buffers kept per worker.
const SPARES: usize = 64;

/// How long a stopping worker waits for the terminal completions of its
/// operations before it leaks their buffers rather than free them.
const QUIESCE_LIMIT: Duration = Duration::from_secs(2);

/// What a worker is built from, kept so a crashed worker can be rebuilt.
#[derive(Clone)]
pub(super) struct WorkerParts {
    /// Index among the workers.
    pub(super) id: usize,
    /// The listen address.
    pub(super) addr: SocketAddr,
    /// The eventfd the mailbox's wake writes (outlives worker instances).
    pub(super) wake: Arc<EventFd>,
    /// What the kernel's io_uring can do.
    pub(super) caps: Caps,
    /// Route table snapshots.
    pub(super) table: Arc<SharedTable>,
    /// Connection settings.
    pub(super) cfg: ConnConfig,
    /// The worker's counters (outlive worker instances).
    pub(super) counters: Arc<WorkerCounters>,
    /// Where async connections go.
    pub(super) promoter: Promoter,
    /// What the connections speak (HTTP/1.1, h2c, or told by their bytes).
    pub(super) protocol: Protocol,
    /// h2c settings and abuse limits.
    pub(super) h2: H2Settings,
    /// Where async h2c streams go.
    pub(super) streams: StreamRunner,
    /// What control told the worker so far (paused, draining) and its
    /// listening socket, kept outside the instance for a rebuilt worker.
    pub(super) told: Record,
}

/// Where one operation of a connection (or the listener) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arm {
    /// Not submitted, or its terminal completion was seen.
    Idle,
    /// Submitted; its terminal completion is still to come.
    Armed,
    /// Armed, and a cancel for it was submitted.
    Cancelling,
}

/// Why a connection is leaving the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    /// The session closed: drop the socket.
    Close,
    /// Hand socket and session to the promoter.
    Promote,
}

/// One connection on this worker.
struct Conn {
    /// The socket (blocking: the ring waits for it, not the descriptor).
    stream: TcpStream,
    /// The peer.
    remote: SocketAddr,
    /// Protocol state and every connection policy.
    session: LoopSession,
    /// The slot's generation when the connection was adopted.
    gen: u32,
    /// The receive operation.
    recv: Arm,
    /// The send operation.
    send: Arm,
    /// The bytes of the send in flight, copied from the session's output:
    /// never touched while `send` is not idle.
    out: Vec<u8>,
    /// How much of `out` the kernel took so far.
    sent: usize,
    /// The base tier's receive buffer (empty with provided buffers): never
    /// touched while `recv` is not idle.
    rbuf: Vec<u8>,
    /// Set once the connection must leave: no operation is armed any more,
    /// and it leaves when the last one's terminal completion is seen.
    leaving: Option<Leave>,
}

/// The listener and its accept operation.
struct Listener {
    /// The socket (blocking while the ring accepts on it, unless it is
    /// shared with another engine).
    sock: TcpListener,
    /// Its generation (the accept tags' slot).
    gen: u32,
    /// The accept operation.
    accept: Arm,
}

/// An io_uring worker.
pub(super) struct Worker {
    /// Index among the workers.
    id: usize,
    /// The listen address (to re-bind on resume).
    addr: SocketAddr,
    /// The ring.
    ring: Ring,
    /// The provided buffers (multishot tier only).
    bufs: Option<BufRing>,
    /// What the ring can do.
    caps: Caps,
    /// The mailbox's eventfd.
    wake: Arc<EventFd>,
    /// The poll on the eventfd.
    wake_arm: Arm,
    /// The timeout operation that ends a wait at the next tick at the
    /// latest, used only where a wait cannot carry its own timeout.
    tick_arm: Arm,
    /// The tick's duration, read by the kernel when the timeout is submitted.
    tick_ts: Box<types::Timespec>,
    /// The listener, none while accepting is paused or shut.
    listener: Option<Listener>,
    /// The last listener generation handed out.
    listener_gen: u32,
    /// Listeners whose accept is being cancelled (closed once it ends).
    retiring: Vec<Listener>,
    /// Open connections.
    conns: Slab<Conn>,
    /// Each slot's generation, bumped when its connection leaves.
    gens: Vec<u32>,
    /// Spare send buffers.
    spare_out: Vec<Vec<u8>>,
    /// Spare base-tier receive buffers.
    spare_rbuf: Vec<Vec<u8>>,
    /// Completions of the current turn (kept to reuse the storage).
    cqes: Vec<Cqe>,
    /// Spare session buffers.
    pool: BufPool,
    /// The response handlers write, reused for every request.
    resp: Response,
    /// Cached `date` header.
    date: DateCache,
    /// Route table snapshots.
    table: Arc<SharedTable>,
    /// Connection settings.
    cfg: ConnConfig,
    /// This worker's counters.
    counters: Arc<WorkerCounters>,
    /// Where async connections go.
    promoter: Promoter,
    /// What the connections speak.
    protocol: Protocol,
    /// h2c settings and abuse limits.
    h2: H2Settings,
    /// Where async h2c streams go.
    streams: StreamRunner,
    /// Connections woken from any thread (h2c replies).
    wakeups: Arc<Wakeups>,
    /// The woken connections being served (kept to reuse its storage).
    woken: Vec<(usize, u64)>,
    /// When accepting is retried after descriptor exhaustion.
    accept_retry_at: Option<Instant>,
    /// Set by shutdown: when the remaining connections are closed regardless.
    draining_until: Option<Instant>,
    /// Shared record of pause and drain, for a rebuilt instance.
    told: Record,
    /// When deadlines are checked next.
    next_tick: Instant,
    /// The worker is tearing down: nothing is armed again or adopted.
    stopping: bool,
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
        if self.listener.is_some() {
            self.told.forget_listener();
        }
        self.close_all();
    }
}

/// A worker dropped without `stopping` (it panicked, and the actor kernel
/// discards a panicked instance) still cancels what is in flight, waits for
/// the terminal completions, and closes and counts its connections. Its
/// listening socket outlives it (the record keeps a second descriptor for
/// the rebuilt instance), with the connections queued in its backlog.
impl Drop for Worker {
    fn drop(&mut self) {
        self.close_all();
    }
}

impl Worker {
    /// A worker on a ring of its own, owning `listener` (none while paused
    /// or draining). A ring the kernel refuses now (it passed the probe at
    /// start) is a panic: the worker is rebuilt by its restart policy.
    pub(super) fn new(parts: &WorkerParts, listener: Option<TcpListener>) -> Self {
        let ring = Ring::new(parts.caps.setup)
            .unwrap_or_else(|e| panic!("worker {}: io_uring setup failed: {e}", parts.id));
        let bufs = parts.caps.multishot.then(|| {
            BufRing::new(&ring, parts.caps.ring_bufs, RING_BUF_SIZE).unwrap_or_else(|e| {
                panic!(
                    "worker {}: registering provided buffers failed: {e}",
                    parts.id
                )
            })
        });
        let told = parts.told.get();
        let WorkerParts {
            id,
            addr,
            wake,
            caps,
            table,
            cfg,
            counters,
            promoter,
            protocol,
            h2,
            streams,
            ..
        } = parts.clone();
        let rouse = wake.clone();
        let wakeups = Wakeups::new(Box::new(move || {
            if let Err(e) = rouse.notify() {
                tracing::error!(error = %e, "could not wake a worker for an h2 connection");
            }
        }));
        let mut w = Worker {
            id,
            addr,
            ring,
            bufs,
            caps,
            wake,
            wake_arm: Arm::Idle,
            tick_arm: Arm::Idle,
            tick_ts: Box::new(types::Timespec::new().nsec(TICK.as_nanos() as u32)),
            listener: None,
            listener_gen: 0,
            retiring: Vec::new(),
            conns: Slab::new(),
            gens: Vec::new(),
            spare_out: Vec::new(),
            spare_rbuf: Vec::new(),
            cqes: Vec::new(),
            pool: BufPool::new(BUF_SIZE),
            resp: Response::new(),
            date: DateCache::new(SystemTime::now()),
            table,
            cfg,
            counters,
            promoter,
            protocol,
            h2,
            streams,
            wakeups,
            woken: Vec::new(),
            accept_retry_at: None,
            draining_until: told.draining_until,
            told: parts.told.clone(),
            next_tick: Instant::now() + TICK,
            stopping: false,
        };
        if let Some(l) = listener {
            w.listen(l);
        }
        w
    }

    /// Takes `sock` as the listener (the ring accepts on it, blocking, or
    /// non-blocking when the socket is shared with an epoll worker: the
    /// kernel's accept then waits through its poll, as the epoll worker
    /// needs the flag); the record keeps a second descriptor of it across a
    /// crash.
    fn listen(&mut self, sock: TcpListener) {
        if let Err(e) = sock.set_nonblocking(self.told.is_shared()) {
            tracing::error!(worker = self.id, error = %e, "cannot use the listener; not accepting");
            self.counters.errors.add(1);
            return;
        }
        self.told.keep_listener(&sock);
        self.listener_gen = self.listener_gen.wrapping_add(1) & GEN_MASK;
        self.listener = Some(Listener {
            sock,
            gen: self.listener_gen,
            accept: Arm::Idle,
        });
    }

    /// Pushes an entry that points at no memory of ours, or at memory its
    /// owner keeps until the terminal completion (see each caller).
    fn push(&mut self, entry: &squeue::Entry) {
        // SAFETY: every caller passes an entry whose buffers (if any) are
        // owned by a connection slot that is not freed, moved or reused
        // before the operation's terminal completion (`Conn::out` while
        // `send` is armed, `Conn::rbuf` while `recv` is armed), or by the
        // worker for its whole life (`tick_ts`, read at submission).
        if let Err(e) = unsafe { self.ring.push(entry) } {
            // A long-lived thread reports and is restarted.
            panic!("worker {}: io_uring submission failed: {e}", self.id);
        }
    }

    /// Arms what every turn needs: the wake poll, the tick, the accept.
    fn arm_fixed(&mut self, now: Instant) {
        if self.stopping {
            return;
        }
        if self.wake_arm == Arm::Idle {
            let poll = opcode::PollAdd::new(types::Fd(self.wake.raw()), libc::POLLIN as u32)
                .multi(self.caps.multishot)
                .build()
                .user_data(Tag::new(Kind::Wake, 0, 0).encode());
            self.push(&poll);
            self.wake_arm = Arm::Armed;
        }
        if self.tick_arm == Arm::Idle && !self.ring.has_timed_wait() {
            let ts: *const types::Timespec = &*self.tick_ts;
            let timeout = opcode::Timeout::new(ts)
                .build()
                .user_data(Tag::new(Kind::Tick, 0, 0).encode());
            self.push(&timeout);
            self.tick_arm = Arm::Armed;
        }
        if self.draining_until.is_some() || self.accept_retry_at.is_some_and(|t| now < t) {
            return;
        }
        self.accept_retry_at = None;
        let multishot = self.caps.multishot;
        let Some(l) = self.listener.as_mut().filter(|l| l.accept == Arm::Idle) else {
            return;
        };
        let fd = types::Fd(l.sock.as_raw_fd());
        let tag = Tag::new(Kind::Accept, 0, l.gen as usize).encode();
        let entry = if multishot {
            opcode::AcceptMulti::new(fd)
                .flags(libc::SOCK_CLOEXEC)
                .build()
                .user_data(tag)
        } else {
            opcode::Accept::new(fd, std::ptr::null_mut(), std::ptr::null_mut())
                .flags(libc::SOCK_CLOEXEC)
                .build()
                .user_data(tag)
        };
        l.accept = Arm::Armed;
        self.push(&entry);
    }

    /// One loop turn: submit what the last turn queued and wait for a
    /// completion (or the tick), handle every completion, give provided
    /// buffers back, check deadlines. Control messages are handled by the
    /// mailbox between turns.
    pub(super) fn turn(&mut self) -> Turn {
        self.wakeups.enter();
        let now = Instant::now();
        self.arm_fixed(now);
        let limit = if self.wakeups.is_empty() {
            self.next_tick.saturating_duration_since(now)
        } else {
            Duration::ZERO
        };
        if let Err(e) = self.ring.submit_and_wait(limit) {
            // A long-lived thread reports and is restarted, it does not
            // limp on with a broken ring.
            panic!("worker {}: io_uring wait failed: {e}", self.id);
        }
        let now = Instant::now();
        self.date.update(SystemTime::now());
        let table = self.table.load();
        self.handle_completions(&table, now);
        self.serve_woken(&table, now);
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            self.on_tick(&table, now);
        }
        if crate::engine::faults::crash_asked() {
            // The fault crashes the worker once the response is out: what
            // the turn queued is submitted first.
            let _ = self.ring.submit();
            panic!("worker {}: crash asked for by a fault route", self.id);
        }
        match self.draining_until {
            Some(d) if now >= d || (self.conns.is_empty() && self.retiring.is_empty()) => {
                Turn::Stop
            }
            _ => Turn::Continue,
        }
    }

    /// Handles every completion in the ring, then publishes the provided
    /// buffers given back meanwhile (one tail store).
    fn handle_completions(&mut self, table: &RouteTable, now: Instant) {
        let mut cqes = std::mem::take(&mut self.cqes);
        self.ring.reap(&mut cqes);
        for c in &cqes {
            self.on_cqe(*c, table, now);
        }
        self.cqes = cqes;
        if let Some(b) = &mut self.bufs {
            b.publish();
        }
    }

    /// Handles one completion.
    fn on_cqe(&mut self, c: Cqe, table: &RouteTable, now: Instant) {
        match c.tag.kind {
            Kind::Recv | Kind::Send => self.on_conn_cqe(c, table, now),
            Kind::Accept => self.on_accept(c, now),
            Kind::Wake => {
                self.wake.drain();
                if !c.more() {
                    self.wake_arm = Arm::Idle;
                }
            }
            Kind::Tick => self.tick_arm = Arm::Idle,
            Kind::Cancel => {}
        }
    }

    /// Periodic work: expired deadlines, accept retries (armed next turn).
    fn on_tick(&mut self, table: &RouteTable, now: Instant) {
        let expired: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| c.leaving.is_none() && c.session.deadline(&self.cfg).expired(now))
            .map(|(k, _)| k)
            .collect();
        for key in expired {
            let conn = &mut self.conns[key];
            let mut link = Link {
                pool: &mut self.pool,
                cfg: &self.cfg,
                now,
            };
            conn.session.on_timeout(&mut link);
            if conn.session.is_closed() {
                conn.leaving = Some(Leave::Close);
                self.settle(key, table, now);
            } else {
                // What the timeout decided may need sending (GOAWAY, a reset).
                self.feed_plain(key, Done::Nothing, table, now);
                self.settle(key, table, now);
            }
        }
    }

    /// Serves the connections woken since the last look (a few rounds:
    /// serving may wake more).
    fn serve_woken(&mut self, table: &RouteTable, now: Instant) {
        for _ in 0..WAKE_ROUNDS {
            if self.wakeups.is_empty() {
                return;
            }
            let mut woken = std::mem::take(&mut self.woken);
            self.wakeups.take(&mut woken);
            for &(key, gen) in &woken {
                let live = self
                    .conns
                    .get(key)
                    .is_some_and(|c| u64::from(c.gen) == gen && c.leaving.is_none());
                if live {
                    self.feed_plain(key, Done::Nothing, table, now);
                    self.settle(key, table, now);
                }
            }
            self.woken = woken;
        }
    }

    /// Closes everything (the worker stops or is dropped): cancels every
    /// armed operation and waits (bounded) for their terminal completions.
    /// What is still in flight after that is leaked, never freed.
    fn close_all(&mut self) {
        if self.stopping && self.conns.is_empty() && self.retiring.is_empty() {
            return;
        }
        self.stopping = true;
        let now = Instant::now();
        self.stop_accepting();
        let table = self.table.load();
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            let conn = &mut self.conns[key];
            if conn.leaving != Some(Leave::Close) {
                conn.session.release(&mut self.pool);
                conn.leaving = Some(Leave::Close);
            }
            self.settle(key, &table, now);
        }
        let until = now + QUIESCE_LIMIT;
        while !(self.conns.is_empty() && self.retiring.is_empty()) && Instant::now() < until {
            if self
                .ring
                .submit_and_wait(until.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
            self.handle_completions(&table, Instant::now());
        }
        if !self.conns.is_empty() {
            tracing::error!(
                worker = self.id,
                left = self.conns.len(),
                "operations still in flight at teardown; their buffers are leaked"
            );
            for mut conn in self.conns.drain() {
                std::mem::forget(std::mem::take(&mut conn.out));
                std::mem::forget(std::mem::take(&mut conn.rbuf));
                // The socket itself closes now, so its peer is not left
                // waiting for the process to end: an operation in flight
                // holds the kernel's file, not our descriptor.
                let _ = conn.stream.shutdown(Shutdown::Both);
                self.counters.closes.add(1);
            }
        } else if let Some(b) = self.bufs.as_mut() {
            b.unregister(&self.ring);
        }
        let _ = self.ring.submit();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;
    use crate::engine::iouring::probe;
    use crate::engine::sys;
    use crate::router::Router;

    /// The parts of a worker promoting nowhere, or `None` (printed) where
    /// io_uring is refused.
    fn parts(addr: SocketAddr) -> Option<WorkerParts> {
        let caps = match probe::probe() {
            Ok(c) => c,
            Err(why) => {
                println!("skipped: io_uring refused: {why}");
                return None;
            }
        };
        Some(WorkerParts {
            id: 0,
            addr,
            wake: Arc::new(EventFd::new().expect("eventfd")),
            caps,
            table: Arc::new(SharedTable::new(Router::new().table())),
            cfg: ConnConfig::default(),
            counters: Arc::default(),
            promoter: Arc::new(|_| {}),
            protocol: Protocol::Http1,
            h2: H2Settings::default(),
            streams: Arc::new(|_| {}),
            told: Record::default(),
        })
    }

    /// Turns the worker until `done` or 5 s passed.
    fn turn_until(worker: &mut Worker, mut done: impl FnMut(&Worker) -> bool) {
        let until = Instant::now() + Duration::from_secs(5);
        while !done(worker) && Instant::now() < until {
            worker.turn();
        }
    }

    #[test]
    fn a_dropped_worker_cancels_its_operations_then_closes_and_counts_its_connections() {
        let listener = sys::reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let Some(parts) = parts(addr) else { return };
        let mut worker = Worker::new(&parts, Some(listener));
        let mut clients: Vec<TcpStream> =
            (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // One connection with a send in progress: a response it never reads.
        clients[0]
            .write_all(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        turn_until(&mut worker, |w| w.conns.len() == 3);
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
            let mut buf = [0u8; 256];
            // The 404 may come first; then the end.
            let mut end = false;
            for _ in 0..4 {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        end = true;
                        break;
                    }
                    Ok(_) => {}
                }
            }
            assert!(end, "closed by the server");
        }
    }

    #[test]
    fn a_worker_rebuilt_after_a_panic_stays_paused() {
        let listener = sys::reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let Some(parts) = parts(addr) else { return };
        let (exits, _exited) = flume::unbounded();
        let watcher = switchyard_actors::Recipient::from_sender(exits);
        let who = crate::engine::hosted::Identity {
            id: parts.id,
            addr: parts.addr,
            told: parts.told.clone(),
            counters: parts.counters.clone(),
        };
        let wake = Arc::new(super::super::wake::EventFdWake(parts.wake.clone()));
        let built = parts.clone();
        let (mut mailbox, worker_addr) = crate::engine::hosted::mailbox(
            crate::config::EngineKind::IoUring,
            who,
            Some(listener),
            wake,
            watcher,
            move |l| Worker::new(&built, l),
        );
        let (done, acked) = flume::bounded(1);
        worker_addr
            .tell_control(Control::PauseAccept { done })
            .expect("tell");
        let until = Instant::now() + Duration::from_secs(5);
        while acked.try_recv().is_err() {
            assert!(Instant::now() < until, "pause never acknowledged");
            let _ = mailbox.with_actor(|w, _| w.turn());
            let _ = mailbox.drain(16);
        }
        assert!(parts.told.get().paused);
        // A panic inside the worker: the kernel discards it and rebuilds it.
        let _ = mailbox.with_actor(|_, _| panic!("injected worker panic"));
        let until = Instant::now() + Duration::from_secs(5);
        let rebuilt = loop {
            if let switchyard_actors::Drained::Backoff(t) = mailbox.drain(16) {
                std::thread::sleep(t.saturating_duration_since(Instant::now()));
            }
            if let Some(listening) = mailbox.with_actor(|w, _| w.listener.is_some()) {
                break listening;
            }
            assert!(Instant::now() < until, "the worker was not rebuilt");
        };
        assert!(!rebuilt, "a paused worker must not listen after a restart");
        // Resuming binds a fresh listener on the shared address.
        let (done, acked) = flume::bounded(1);
        worker_addr
            .tell_control(Control::ResumeAccept { done })
            .expect("tell");
        let _ = mailbox.drain(16);
        acked.recv().expect("ack").expect("resumed");
        assert_eq!(mailbox.with_actor(|w, _| w.listener.is_some()), Some(true));
    }
}
