//! The HTTP/1.1 sync hot path allocates nothing per request once warm, shown
//! with a counting allocator: parsing (GET and chunked POST) and encoding, and
//! the full connection turn — parse, route to a static and to a param route,
//! run the handler, encode — through the real session code.

// A global allocator cannot be written without `unsafe`; this test binary's
// only unsafe code forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, UNIX_EPOCH};

use switchyard::conn::h2::{LoopH2, StreamRunner, Wakeups};
use switchyard::conn::{
    complete_loop, BufPool, ConnConfig, Done, Env, H1Session, Io, Link, LoopLend, LoopSession,
    Mode, Next, Outcome, Traffic,
};
use switchyard::handler::ServeInfo;
use switchyard::proto::h1::{
    empty_headers, encode_response, DateCache, EncodeOpts, H1Conn, Limits, Poll,
};
use switchyard::proto::h2::H2Settings;
use switchyard::{Dispatch, EngineKind, Protocol, Response, Router};

/// Counts allocations made by the current thread, so tests running in
/// parallel do not disturb each other.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Serves every request in `input` once, the way an engine does.
fn serve(
    conn: &mut H1Conn,
    input: &[u8],
    resp: &mut Response,
    date: &DateCache,
    out: &mut Vec<u8>,
) {
    let mut at = 0;
    while at < input.len() {
        let mut headers = empty_headers();
        let Poll::Request(req) = conn.poll(&input[at..], &mut headers) else {
            panic!("expected a complete request");
        };
        resp.reset();
        resp.text(req.head.path);
        let opts = EncodeOpts {
            head_request: false,
            close: !req.head.keep_alive,
            until_close: false,
            http10: false,
        };
        encode_response(resp, opts, date, out);
        at += req.len;
    }
}

#[test]
fn get_and_chunked_post_allocate_nothing_after_warm_up() {
    let input: &[u8] =
        b"GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n\
POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nT: 1\r\n\r\n";
    let mut conn = H1Conn::new(Limits::default());
    let mut resp = Response::new();
    let date = DateCache::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let mut out = Vec::new();
    for _ in 0..3 {
        out.clear();
        serve(&mut conn, input, &mut resp, &date, &mut out);
    }
    let before = allocations();
    for _ in 0..100 {
        out.clear();
        serve(&mut conn, input, &mut resp, &date, &mut out);
    }
    assert_eq!(allocations() - before, 0, "allocations in 100 warm rounds");
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
}

#[test]
fn routed_sync_requests_allocate_nothing_after_warm_up() {
    let mut router = Router::new();
    router.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    });
    router.get("/users/:id", |ctx| {
        let id = ctx.param("id").unwrap_or("");
        let mut buf = [0u8; 64];
        let n = id.len().min(59);
        buf[..5].copy_from_slice(b"user:");
        buf[5..5 + n].copy_from_slice(&id.as_bytes()[..n]);
        ctx.bytes("text/plain", &buf[..5 + n]);
        Ok(())
    });
    let table = router.table();
    let cfg = ConnConfig::default();
    let epoch = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let date = DateCache::new(epoch);
    let mut session = H1Session::new(&cfg, std::time::Instant::now());
    let mut pool = BufPool::new(16 * 1024);
    let mut resp = Response::new();
    let mut out = Vec::with_capacity(64 * 1024);
    let input: &[u8] = b"GET /hello HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n\
GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\n";
    let info = ServeInfo {
        engine: EngineKind::Epoll,
        dispatch: Dispatch::Inline,
        remote: None,
    };
    // One read's worth of a loop worker's turn: bytes in, answers, bytes out.
    let mut turn = |session: &mut H1Session, resp: &mut Response, out: &mut Vec<u8>| {
        out.clear();
        let mut env = Env {
            table: &table,
            date: &date,
            resp,
            info,
        };
        let mut link = Link {
            pool: &mut pool,
            cfg: &cfg,
            now: std::time::Instant::now(),
        };
        session.on_bytes(input, &mut link);
        let p = session.process(&mut env, Mode::Inline, &mut link);
        assert_eq!(
            (p.consumed, p.requests, p.outcome),
            (input.len(), 2, Outcome::Open)
        );
        out.extend_from_slice(session.transmit());
        session.on_sent(out.len(), &mut link);
        assert!(session.is_between_requests());
    };
    for _ in 0..10 {
        turn(&mut session, &mut resp, &mut out);
    }
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("Hello, World!") && text.contains("user:42"),
        "{text}"
    );
    let before = allocations();
    for _ in 0..100 {
        turn(&mut session, &mut resp, &mut out);
    }
    assert_eq!(
        allocations() - before,
        0,
        "allocations in 100 warm turns of 2 routed requests"
    );
}

#[test]
fn completion_driver_turns_allocate_nothing_after_warm_up() {
    // The io_uring worker's path: a connection under `auto` (detected as
    // HTTP/1.1 in the first turn) is fed bytes received in a buffer of the
    // engine's through `complete_loop`, answered inline, its output copied
    // into the engine's (reused) send buffer, and the send's completion
    // reported.
    let mut router = Router::new();
    router.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    });
    let table = router.table();
    let cfg = ConnConfig::default();
    let date = DateCache::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let mut session = LoopSession::accepted(Protocol::Auto, &cfg, std::time::Instant::now());
    let mut pool = BufPool::new(16 * 1024);
    let mut resp = Response::new();
    let mut send_buf = Vec::with_capacity(64 * 1024);
    let one = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    let input: Vec<u8> = one.iter().copied().cycle().take(one.len() * 16).collect();
    let info = ServeInfo {
        engine: EngineKind::IoUring,
        dispatch: Dispatch::Inline,
        remote: None,
    };
    let settings = H2Settings::default();
    let runner: StreamRunner = std::sync::Arc::new(|_| {});
    let wakeups = Wakeups::new(Box::new(|| {}));
    let lend = LoopLend {
        key: 0,
        gen: 0,
        h2: LoopH2 {
            settings: &settings,
            runner: &runner,
            wakeups: &wakeups,
        },
    };
    let mut turn = |session: &mut LoopSession, resp: &mut Response, send_buf: &mut Vec<u8>| {
        let mut env = Env {
            table: &table,
            date: &date,
            resp,
            info,
        };
        let mut io = Io {
            pool: &mut pool,
            env: &mut env,
            cfg: &cfg,
            now: std::time::Instant::now(),
            traffic: Traffic::default(),
        };
        assert_eq!(
            complete_loop(session, Done::Received(&input), &mut io, &lend),
            Next::Open
        );
        send_buf.clear();
        session.copy_output(send_buf, usize::MAX);
        assert_eq!(
            complete_loop(session, Done::Sent(send_buf.len()), &mut io, &lend),
            Next::Open
        );
        assert_eq!(io.traffic.requests, 16);
        assert!(!session.has_output());
    };
    for _ in 0..10 {
        turn(&mut session, &mut resp, &mut send_buf);
    }
    assert!(
        matches!(session, LoopSession::H1(_)),
        "detected as HTTP/1.1"
    );
    let before = allocations();
    for _ in 0..100 {
        turn(&mut session, &mut resp, &mut send_buf);
    }
    assert_eq!(
        allocations() - before,
        0,
        "allocations in 100 warm completion turns of 16 pipelined requests"
    );
}
