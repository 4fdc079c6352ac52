//! A loop-hosted h2c connection driven by `serve_loop` over an in-memory
//! socket: a preface split over reads, a sync stream answered in the turn
//! with one write, an async stream handed to the pool whose reply wakes the
//! connection, and the idle GOAWAY and handshake deadline h2 lacks.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::{H2Env, H2Job, LoopH2, StreamRunner, Wakeups};
use crate::config::{EngineKind, Protocol};
use crate::conn::tests::Duplex;
use crate::conn::{
    serve_loop, BufPool, ConnConfig, Drive, Env, Event, Io, Link, LoopLend, LoopSession, Readiness,
    Traffic,
};
use crate::handler::{Response, ServeInfo};
use crate::proto::detect::PREFACE;
use crate::proto::h1::DateCache;
use crate::proto::h2::H2Settings;
use crate::router::{Dispatch, RouteTable, Router, SharedTable};

/// One frame as the client reads it.
#[derive(Debug)]
struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

/// Frame types.
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;

/// Splits written bytes into frames.
fn frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while bytes.len() >= 9 {
        let len = usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) & 0x7fff_ffff;
        out.push(Frame {
            kind: bytes[3],
            flags: bytes[4],
            stream,
            payload: bytes[9..9 + len].to_vec(),
        });
        bytes = &bytes[9 + len..];
    }
    out
}

/// A raw frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// `GET path` on `localhost` as one HEADERS frame ending the stream (HPACK:
/// static indices and literals never indexed).
fn get(stream: u32, path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86, 0x04, path.len() as u8];
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x01, 9]);
    block.extend_from_slice(b"localhost");
    frame(HEADERS, 0x1 | 0x4, stream, &block)
}

/// The body of `stream` in the frames (and whether it ended).
fn body_of(frames: &[Frame], stream: u32) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let mut ended = false;
    for f in frames.iter().filter(|f| f.stream == stream) {
        if f.kind == DATA {
            body.extend_from_slice(&f.payload);
        }
        if f.kind == DATA || f.kind == HEADERS {
            ended |= f.flags & 0x1 == 1;
        }
    }
    (body, ended)
}

/// A loop connection and the worker pieces it borrows.
struct Rig {
    session: LoopSession,
    ready: Readiness,
    pool: BufPool,
    resp: Response,
    date: DateCache,
    table: RouteTable,
    shared: Arc<SharedTable>,
    cfg: ConnConfig,
    settings: H2Settings,
    runner: StreamRunner,
    jobs: Arc<Mutex<Vec<H2Job>>>,
    wakeups: Arc<Wakeups>,
    now: Instant,
}

impl Rig {
    fn new(protocol: Protocol) -> Self {
        let mut router = Router::new();
        router.get("/hello", |ctx| {
            ctx.text("Hello, World!");
            Ok(())
        });
        router
            .get("/async/hello", |ctx| {
                ctx.text("Hello, async!");
                Ok(())
            })
            .asynchronous();
        let jobs = Arc::new(Mutex::new(Vec::new()));
        let sink = jobs.clone();
        let runner: StreamRunner = Arc::new(move |job| sink.lock().unwrap().push(job));
        let wakeups = Wakeups::new(Box::new(|| {}));
        wakeups.enter();
        let cfg = ConnConfig::default();
        let now = Instant::now();
        Rig {
            session: LoopSession::accepted(protocol, &cfg, now),
            ready: Readiness::default(),
            pool: BufPool::new(4096),
            resp: Response::new(),
            date: DateCache::new(SystemTime::now()),
            shared: Arc::new(SharedTable::new(router.table())),
            table: router.table(),
            cfg,
            settings: H2Settings::default(),
            runner,
            jobs,
            wakeups,
            now,
        }
    }

    /// One event (readable, or a turn without one).
    fn event(&mut self, sock: &mut Duplex, readable: bool) -> Drive {
        let mut env = Env {
            table: &self.table,
            date: &self.date,
            resp: &mut self.resp,
            info: ServeInfo {
                engine: EngineKind::Epoll,
                dispatch: Dispatch::Inline,
                remote: None,
            },
        };
        let mut io = Io {
            pool: &mut self.pool,
            env: &mut env,
            cfg: &self.cfg,
            now: self.now,
            traffic: Traffic::default(),
        };
        let lend = LoopLend {
            key: 7,
            gen: 3,
            h2: LoopH2 {
                settings: &self.settings,
                runner: &self.runner,
                wakeups: &self.wakeups,
            },
        };
        let ev = Event {
            readable,
            closed: false,
        };
        serve_loop(&mut self.session, &mut self.ready, sock, ev, &mut io, &lend)
    }

    /// The clock moves on and deadlines are looked at.
    fn later(&mut self, by: Duration) {
        self.now += by;
        let mut link = Link {
            pool: &mut self.pool,
            cfg: &self.cfg,
            now: self.now,
        };
        if self.session.deadline(&self.cfg).expired(self.now) {
            self.session.on_timeout(&mut link);
        }
    }

    /// The environment a pool arbiter gives its streams.
    fn pool_env(&self) -> Rc<H2Env> {
        Rc::new(H2Env {
            table: self.shared.clone(),
            cfg: self.cfg,
            settings: self.settings,
            engine: EngineKind::Epoll,
            tally: Arc::new(crate::metrics::SharedCounters::default()),
            date: std::cell::RefCell::new(DateCache::new(SystemTime::now())),
        })
    }
}

/// The client's opening bytes: preface and an empty SETTINGS.
fn opening() -> Vec<u8> {
    let mut o = PREFACE.to_vec();
    o.extend(frame(SETTINGS, 0, 0, &[]));
    o
}

#[test]
fn a_split_preface_is_detected_and_a_sync_stream_answered_in_one_write() {
    let mut rig = Rig::new(Protocol::Auto);
    let open = opening();
    let mut sock = Duplex::new(&[&open[..5]]);
    assert_eq!(rig.event(&mut sock, true), Drive::Open);
    assert!(
        sock.written.is_empty(),
        "nothing answered before the preface"
    );
    sock.reads.push_back(Some(open[5..20].to_vec()));
    assert_eq!(rig.event(&mut sock, true), Drive::Open);
    let mut rest = open[20..].to_vec();
    rest.extend(get(1, "/hello"));
    sock.reads.push_back(Some(rest));
    assert_eq!(rig.event(&mut sock, true), Drive::Open);
    let out = frames(&sock.written);
    assert!(out.iter().any(|f| f.kind == SETTINGS && f.stream == 0));
    assert_eq!(body_of(&out, 1), (b"Hello, World!".to_vec(), true));
    assert_eq!(
        sock.writes, 1,
        "settings, ack and the answer leave in one write"
    );
    assert!(
        rig.jobs.lock().unwrap().is_empty(),
        "a sync stream stays on the loop"
    );
}

#[test]
fn an_async_stream_runs_on_the_pool_and_its_reply_wakes_the_connection() {
    let mut rig = Rig::new(Protocol::H2c);
    let mut hello = opening();
    hello.extend(get(1, "/async/hello"));
    hello.extend(get(3, "/hello"));
    let mut sock = Duplex::new(&[&hello]);
    assert_eq!(rig.event(&mut sock, true), Drive::Open);
    let out = frames(&sock.written);
    assert_eq!(body_of(&out, 3), (b"Hello, World!".to_vec(), true));
    assert!(
        out.iter().all(|f| f.stream != 1),
        "stream 1 waits for the pool"
    );
    let job = rig.jobs.lock().unwrap().pop().expect("a job for stream 1");
    // Inline sends wake the connection from the loop itself (queued, no
    // notify): the worker polls it once more.
    let mut woken = Vec::new();
    rig.wakeups.take(&mut woken);
    assert_eq!(rig.event(&mut sock, false), Drive::Open);
    rig.wakeups.take(&mut woken);
    assert!(woken.is_empty(), "a poll with nothing new wakes nothing");
    let env = rig.pool_env();
    actix_rt::System::new().block_on(job.run(env));
    rig.wakeups.take(&mut woken);
    assert_eq!(woken, vec![(7, 3)], "the reply woke the connection once");
    sock.written.clear();
    assert_eq!(rig.event(&mut sock, false), Drive::Open);
    let out = frames(&sock.written);
    assert_eq!(body_of(&out, 1), (b"Hello, async!".to_vec(), true));
}

#[test]
fn an_idle_connection_is_told_goaway_and_a_silent_one_is_closed() {
    let mut rig = Rig::new(Protocol::H2c);
    let mut hello = opening();
    hello.extend(get(1, "/hello"));
    let mut sock = Duplex::new(&[&hello]);
    assert_eq!(rig.event(&mut sock, true), Drive::Open);
    sock.written.clear();
    rig.later(rig.cfg.idle_timeout + Duration::from_millis(1));
    assert!(!rig.session.is_closed());
    assert_eq!(rig.event(&mut sock, false), Drive::Open);
    assert!(
        frames(&sock.written).iter().any(|f| f.kind == GOAWAY),
        "GOAWAY after the idle timeout"
    );
    // The client never answers: the goodbye is bounded.
    rig.later(Duration::from_secs(6));
    assert!(rig.session.is_closed());

    let mut silent = Rig::new(Protocol::H2c);
    let mut sock = Duplex::new(&[&PREFACE[..10]]);
    assert_eq!(silent.event(&mut sock, true), Drive::Open);
    silent.later(silent.cfg.header_timeout);
    assert!(
        silent.session.is_closed(),
        "no preface within the head budget"
    );
}
