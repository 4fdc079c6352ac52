//! The session's read → answer → write cycle, driven by the readiness driver
//! over an in-memory socket that simulates short reads, would-block, a peer
//! that stops reading and one that closes.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant, SystemTime};

use super::{
    carry, complete, drive, BufPool, ConnConfig, DeadlineKind, Done, Drive, Env, Event, H1Session,
    Io, Link, Next, Readiness, Socket, Traffic,
};
use crate::config::EngineKind;
use crate::handler::{Response, ServeInfo};
use crate::proto::h1::DateCache;
use crate::router::{Dispatch, RouteTable, Router};

/// A socket whose reads come from a script and whose writes land in a buffer
/// that accepts at most `room` more bytes.
#[derive(Default)]
pub(crate) struct Duplex {
    /// Each read returns the next item: bytes, or would-block when `None`;
    /// an empty script reads as would-block (an open, quiet peer).
    pub(crate) reads: VecDeque<Option<Vec<u8>>>,
    /// Set when the peer closed its side: reads return 0 once the script ends.
    pub(crate) eof: bool,
    /// Everything written.
    pub(crate) written: Vec<u8>,
    /// How many more bytes writes accept before would-block.
    pub(crate) room: usize,
    /// Number of write calls that moved bytes.
    pub(crate) writes: usize,
    /// Whether the write side was shut.
    pub(crate) shut: bool,
}

impl Duplex {
    pub(crate) fn new(chunks: &[&[u8]]) -> Self {
        Duplex {
            reads: chunks.iter().map(|c| Some(c.to_vec())).collect(),
            room: usize::MAX,
            ..Duplex::default()
        }
    }
}

impl Socket for Duplex {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.reads.pop_front() {
            Some(Some(mut chunk)) => {
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                if n < chunk.len() {
                    self.reads.push_front(Some(chunk.split_off(n)));
                }
                Ok(n)
            }
            Some(None) => Err(io::ErrorKind::WouldBlock.into()),
            None if self.eof => Ok(0),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        self.written.extend_from_slice(&buf[..n]);
        self.writes += 1;
        Ok(n)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shut = true;
        Ok(())
    }
}

/// A session, its worker's pieces, and a small route table.
struct Rig {
    session: H1Session,
    ready: Readiness,
    pool: BufPool,
    resp: Response,
    date: DateCache,
    table: RouteTable,
    cfg: ConnConfig,
}

impl Rig {
    fn new(cfg: ConnConfig) -> Self {
        let mut router = Router::new();
        router.get("/hello", |ctx| {
            ctx.text("Hello, World!");
            Ok(())
        });
        router.get("/big", |ctx| {
            ctx.bytes("application/octet-stream", &[b'x'; 64 * 1024]);
            Ok(())
        });
        router.get("/live", |ctx| {
            let body = ctx.response().live("text/plain");
            body.send("a").expect("queued");
            body.send("bc").expect("queued");
            Ok(())
        });
        router
            .get("/slow", |ctx| {
                ctx.text("slow");
                Ok(())
            })
            .asynchronous();
        router
            .get("/learn", |ctx| {
                let ms = ctx.query("ms").and_then(|v| v.parse().ok()).unwrap_or(0);
                std::thread::sleep(Duration::from_millis(ms));
                ctx.text("learnt");
                Ok(())
            })
            .learn();
        Rig {
            session: H1Session::new(&cfg, Instant::now()),
            ready: Readiness::default(),
            pool: BufPool::new(4096),
            resp: Response::new(),
            date: DateCache::new(SystemTime::now()),
            table: router.table(),
            cfg,
        }
    }

    fn readable(&mut self, sock: &mut Duplex) -> Drive {
        let ev = Event {
            readable: true,
            closed: sock.eof,
        };
        self.event(sock, ev)
    }

    fn writable(&mut self, sock: &mut Duplex) -> Drive {
        self.event(sock, Event::default())
    }

    /// One readiness event, as a worker would serve it.
    fn event(&mut self, sock: &mut Duplex, ev: Event) -> Drive {
        let info = ServeInfo {
            engine: EngineKind::Epoll,
            dispatch: Dispatch::Inline,
            remote: None,
        };
        let mut env = Env {
            table: &self.table,
            date: &self.date,
            resp: &mut self.resp,
            info,
        };
        let mut io = Io {
            pool: &mut self.pool,
            env: &mut env,
            cfg: &self.cfg,
            now: Instant::now(),
            traffic: Traffic::default(),
        };
        drive(&mut self.session, &mut self.ready, sock, ev, &mut io)
    }

    /// One completion, as the io_uring worker feeds it (`carry`: the
    /// connection is leaving for a promotion).
    fn completion(&mut self, done: Done<'_>, leaving: bool) -> Next {
        let info = ServeInfo {
            engine: EngineKind::IoUring,
            dispatch: Dispatch::Inline,
            remote: None,
        };
        let mut env = Env {
            table: &self.table,
            date: &self.date,
            resp: &mut self.resp,
            info,
        };
        let mut io = Io {
            pool: &mut self.pool,
            env: &mut env,
            cfg: &self.cfg,
            now: Instant::now(),
            traffic: Traffic::default(),
        };
        if leaving {
            carry(&mut self.session, done, &mut io);
            return Next::Promote;
        }
        complete(&mut self.session, done, &mut io)
    }

    /// Runs `event` on the session with a link at `now`.
    fn with_link(&mut self, now: Instant, event: impl FnOnce(&mut H1Session, &mut Link<'_>)) {
        let mut link = Link {
            pool: &mut self.pool,
            cfg: &self.cfg,
            now,
        };
        event(&mut self.session, &mut link);
    }
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn pipelined_requests_are_answered_with_one_write() {
    let mut rig = Rig::new(ConnConfig::default());
    let batch = HELLO.repeat(16);
    let mut sock = Duplex::new(&[&batch]);
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert_eq!(count(&sock.written, b"Hello, World!"), 16);
    assert_eq!(sock.writes, 1, "all 16 responses left in one write");
    assert!(
        rig.session.is_between_requests(),
        "nothing is kept between requests"
    );
    assert_eq!(rig.session.deadline().kind, DeadlineKind::Idle);
}

#[test]
fn a_request_split_across_reads_is_kept_until_complete() {
    let mut rig = Rig::new(ConnConfig::default());
    let (a, b) = HELLO.split_at(7);
    let mut sock = Duplex::new(&[a]);
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert!(sock.written.is_empty());
    assert!(!rig.session.is_between_requests());
    assert_eq!(rig.session.deadline().kind, DeadlineKind::Head);
    sock.reads.push_back(Some(b.to_vec()));
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert_eq!(count(&sock.written, b"Hello, World!"), 1);
    assert!(rig.session.is_between_requests());
}

#[test]
fn a_peer_that_stops_reading_pauses_the_connection_until_writable() {
    let mut rig = Rig::new(ConnConfig {
        max_pending_output: 64 * 1024,
        ..ConnConfig::default()
    });
    let big = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2);
    let mut sock = Duplex::new(&[&big, HELLO]);
    sock.room = 10_000;
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert_eq!(sock.written.len(), 10_000);
    assert_eq!(rig.session.deadline().kind, DeadlineKind::Write);
    assert_eq!(
        sock.reads.len(),
        1,
        "reading paused while the output is stuck"
    );
    // The next request's bytes arrive while paused: the edge is remembered.
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert_eq!(sock.reads.len(), 1);
    sock.room = usize::MAX;
    assert!(matches!(rig.writable(&mut sock), Drive::Open));
    assert_eq!(
        count(&sock.written, b"HTTP/1.1 200 OK"),
        3,
        "paused reading resumed"
    );
    assert!(sock.reads.is_empty());
}

#[test]
fn output_over_the_cap_holds_later_requests_without_closing() {
    let cfg = ConnConfig {
        max_pending_output: 32 * 1024,
        ..ConnConfig::default()
    };
    let mut rig = Rig::new(cfg);
    let big = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3);
    let mut sock = Duplex::new(&[&big]);
    sock.room = 0;
    assert_eq!(rig.readable(&mut sock), Drive::Open);
    assert_eq!(
        count(rig.session.transmit(), b"HTTP/1.1 200 OK"),
        1,
        "one response over the cap, the rest held"
    );
    assert!(!rig.session.wants_read(), "reading paused");
    sock.room = usize::MAX;
    assert_eq!(rig.writable(&mut sock), Drive::Open);
    assert_eq!(count(&sock.written, b"HTTP/1.1 200 OK"), 3);
    assert!(rig.session.is_between_requests());
}

#[test]
fn a_reading_client_gets_a_response_many_times_the_cap() {
    let cfg = ConnConfig {
        max_pending_output: 1024,
        ..ConnConfig::default()
    };
    let mut rig = Rig::new(cfg);
    let mut sock = Duplex::new(&[b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n"]);
    sock.room = 3000;
    assert_eq!(rig.readable(&mut sock), Drive::Open);
    for _ in 0..100 {
        if rig.session.transmit().is_empty() {
            break;
        }
        sock.room = 3000;
        assert_eq!(rig.writable(&mut sock), Drive::Open);
    }
    let body_at = sock
        .written
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert_eq!(sock.written.len() - body_at, 64 * 1024, "the whole body");
}

#[test]
fn an_async_route_hands_over_its_request_and_earlier_responses() {
    let mut rig = Rig::new(ConnConfig::default());
    let slow = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    let batch = [HELLO, slow, HELLO].concat();
    let mut sock = Duplex::new(&[&batch]);
    sock.room = 0;
    assert_eq!(rig.readable(&mut sock), Drive::Promote);
    assert_eq!(
        count(rig.session.transmit(), b"Hello, World!"),
        1,
        "the earlier response travels along"
    );
    assert_eq!(
        rig.session.take_input().filled(),
        &[&slow[..], HELLO].concat()[..],
        "the async request and what follows"
    );
    assert!(sock.written.is_empty());
}

#[test]
fn a_learning_route_runs_inline_until_a_slow_run_then_hands_over() {
    let slow = b"GET /learn?ms=3 HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut rig = Rig::new(ConnConfig::default());
    let mut sock = Duplex::new(&[slow]);
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert_eq!(
        count(&sock.written, b"learnt"),
        1,
        "the first run is inline"
    );
    // 3 ms > 2 ms: promoted, so the same request now leaves the loop.
    sock.reads.push_back(Some(slow.to_vec()));
    assert_eq!(rig.readable(&mut sock), Drive::Promote);
    assert_eq!(count(&sock.written, b"learnt"), 1);
    assert_eq!(rig.session.take_input().filled(), &slow[..]);
    let stats = &rig.table.learning_routes()[0];
    assert_eq!(stats.state, crate::router::LearnState::Promoted);
    assert_eq!((stats.requests_inline, stats.promotions), (1, 1));
}

#[test]
fn a_live_body_moves_the_connection_and_leaves_piece_by_piece() {
    let mut rig = Rig::new(ConnConfig::default());
    let live = b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut sock = Duplex::new(&[&[&live[..], HELLO].concat()]);
    assert_eq!(
        rig.readable(&mut sock),
        Drive::Promote,
        "only a task can wait for pieces"
    );
    assert!(rig.session.is_streaming());
    let head = rig.session.transmit().to_vec();
    assert!(
        head.ends_with(b"transfer-encoding: chunked\r\n\r\n"),
        "{head:?}"
    );
    for _ in 0..3 {
        let piece = rig
            .session
            .wants_body_chunk()
            .expect("a piece is wanted")
            .try_recv()
            .ok();
        rig.with_link(Instant::now(), |s, link| s.on_body_chunk(piece, link));
    }
    assert!(!rig.session.is_streaming());
    assert!(rig
        .session
        .transmit()
        .ends_with(b"1\r\na\r\n2\r\nbc\r\n0\r\n\r\n"));
    assert_eq!(
        rig.writable(&mut sock),
        Drive::Open,
        "the held request follows"
    );
    assert_eq!(count(&sock.written, b"Hello, World!"), 1);
}

#[test]
fn a_peer_close_after_complete_requests_still_gets_its_responses() {
    let mut rig = Rig::new(ConnConfig::default());
    let mut sock = Duplex::new(&[HELLO]);
    sock.eof = true;
    assert_eq!(rig.readable(&mut sock), Drive::Close);
    assert_eq!(count(&sock.written, b"Hello, World!"), 1);
}

#[test]
fn a_malformed_request_is_answered_then_the_write_side_shut_and_drained() {
    let mut rig = Rig::new(ConnConfig::default());
    let mut sock = Duplex::new(&[b"GET / HTTP/1.1\r\nHost x\r\n\r\n"]);
    assert_eq!(rig.readable(&mut sock), Drive::Open, "lingering");
    assert!(sock.written.starts_with(b"HTTP/1.1 400 "));
    assert!(sock.shut);
    assert_eq!(rig.session.deadline().kind, DeadlineKind::Linger);
    sock.reads
        .push_back(Some(b"junk the client still sent".to_vec()));
    sock.eof = true;
    assert_eq!(
        rig.readable(&mut sock),
        Drive::Close,
        "closed at the peer's EOF"
    );
}

#[test]
fn connection_close_is_honoured_after_the_response() {
    let mut rig = Rig::new(ConnConfig::default());
    let req = b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut sock = Duplex::new(&[req, HELLO]);
    assert_eq!(rig.readable(&mut sock), Drive::Open, "lingering");
    assert_eq!(
        count(&sock.written, b"Hello, World!"),
        1,
        "nothing after close is answered"
    );
    assert!(count(&sock.written, b"connection: close") == 1);
    assert!(sock.shut, "the write side is shut once the response left");
    assert_eq!(rig.readable(&mut sock), Drive::Open, "still lingering");
    assert!(sock.reads.is_empty(), "what followed was drained");
}

#[test]
fn a_lingering_connection_closes_at_its_deadline() {
    let mut rig = Rig::new(ConnConfig::default());
    let req = b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut sock = Duplex::new(&[req]);
    assert_eq!(rig.readable(&mut sock), Drive::Open);
    let at = rig.session.deadline().at;
    rig.with_link(at, |s, link| s.on_timeout(link));
    assert!(rig.session.is_closed());
}

#[test]
fn head_deadline_is_armed_at_accept_and_idle_after_a_response() {
    let cfg = ConnConfig {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(60),
        ..ConnConfig::default()
    };
    let start = Instant::now();
    let mut rig = Rig::new(cfg);
    let d = rig.session.deadline();
    assert_eq!(d.kind, DeadlineKind::Head);
    assert!(d.at <= start + Duration::from_secs(2));
    let mut sock = Duplex::new(&[HELLO]);
    rig.readable(&mut sock);
    let d = rig.session.deadline();
    assert_eq!(d.kind, DeadlineKind::Idle);
    assert!(d.at >= start + Duration::from_secs(59));
}

#[test]
fn completions_answer_pipelined_requests_and_report_partial_sends() {
    let mut rig = Rig::new(ConnConfig::default());
    let two = [HELLO, HELLO].concat();
    // The second request arrives split over two receives.
    let (a, b) = two.split_at(HELLO.len() + 7);
    assert_eq!(rig.completion(Done::Received(a), false), Next::Open);
    let first = rig.session.transmit().len();
    assert_eq!(count(rig.session.transmit(), b"Hello, World!"), 1);
    assert_eq!(rig.completion(Done::Received(b), false), Next::Open);
    assert_eq!(count(rig.session.transmit(), b"Hello, World!"), 2);
    // A short send leaves the rest queued, in order.
    assert_eq!(rig.completion(Done::Sent(first), false), Next::Open);
    assert_eq!(count(rig.session.transmit(), b"Hello, World!"), 1);
    let rest = rig.session.transmit().len();
    assert_eq!(rig.completion(Done::Sent(rest), false), Next::Open);
    assert!(rig.session.transmit().is_empty());
    assert!(rig.session.wants_read());
}

#[test]
fn a_completion_eof_closes_after_the_last_response_and_the_shutdown() {
    let mut rig = Rig::new(ConnConfig::default());
    assert_eq!(rig.completion(Done::Received(HELLO), false), Next::Open);
    assert_eq!(rig.completion(Done::Eof, false), Next::Open);
    assert!(!rig.session.wants_read());
    let n = rig.session.transmit().len();
    assert_eq!(rig.completion(Done::Sent(n), false), Next::Open);
    assert!(rig.session.wants_shutdown_write());
    assert_eq!(rig.completion(Done::WriteShut, false), Next::Close);
}

#[test]
fn bytes_received_while_leaving_for_a_promotion_stay_with_the_session() {
    let mut rig = Rig::new(ConnConfig::default());
    let slow = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    let batch = [HELLO, slow.as_slice()].concat();
    assert_eq!(rig.completion(Done::Received(&batch), false), Next::Promote);
    // The earlier response is queued; a send that finishes meanwhile and
    // bytes that arrive before the receive's cancel are the session's.
    assert_eq!(count(rig.session.transmit(), b"Hello, World!"), 1);
    let n = rig.session.transmit().len();
    rig.completion(Done::Sent(n), true);
    rig.completion(Done::Received(HELLO), true);
    rig.completion(Done::Eof, true);
    assert!(rig.session.transmit().is_empty());
    assert!(!rig.session.is_closed());
    // Nothing was answered while leaving: both requests wait for the driver
    // that takes over.
    let input = rig.session.take_input();
    assert_eq!(input.filled(), [slow.as_slice(), HELLO].concat().as_slice());
}

#[test]
fn a_draining_connection_serves_what_arrived_before_it_closes() {
    let mut rig = Rig::new(ConnConfig::default());
    let mut sock = Duplex::new(&[HELLO]);
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert!(rig.session.is_between_requests());
    // A request arrives after the last edge was consumed, then shutdown
    // begins before the worker saw a new edge.
    sock.reads.push_back(Some(HELLO.to_vec()));
    rig.session.begin_drain();
    assert!(rig.session.wants_idle_proof());
    // The driver reads without an edge, answers, and only closes once a
    // read comes back empty.
    assert!(matches!(rig.writable(&mut sock), Drive::Open));
    assert_eq!(
        count(&sock.written, b"Hello, World!"),
        2,
        "served, not dropped"
    );
    assert!(sock.shut, "then the write side is shut (lingering close)");
    assert!(!rig.session.wants_idle_proof());
}

#[test]
fn a_draining_connection_busy_with_a_request_closes_after_its_answer() {
    let mut rig = Rig::new(ConnConfig::default());
    let (a, b) = HELLO.split_at(7);
    let mut sock = Duplex::new(&[a]);
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    rig.session.begin_drain();
    assert!(!rig.session.wants_idle_proof(), "a request is in flight");
    assert!(matches!(rig.writable(&mut sock), Drive::Open));
    assert!(!sock.shut, "not closed mid-request");
    sock.reads.push_back(Some(b.to_vec()));
    assert!(matches!(rig.readable(&mut sock), Drive::Open));
    assert_eq!(count(&sock.written, b"Hello, World!"), 1);
    assert!(sock.shut, "closed at the request boundary");
}
