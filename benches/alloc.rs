//! Allocation proof: counts heap allocations per request on the HTTP/1.1 sync hot path (`H1Session::process`) and on the owned-request path a promoted async request takes.

// A global allocator cannot be written without `unsafe`; this bench's only
// unsafe code forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll as TaskPoll, Waker};
use std::time::SystemTime;

use switchyard::conn::{parts, Env, Outcome};
use switchyard::handler::Handler;
use switchyard::proto::h1::{empty_headers, DateCache, H1Conn, Limits, Poll};
use switchyard::router::{LearnState, Lookup};
use switchyard::{Ctx, Response, RouteTable};

#[path = "support/mod.rs"]
mod support;

use support::{
    conformance_routes, inline_info, pipelined, Turns, UsersBody, ASYNC_FUTURE, ASYNC_HELLO,
    BROWSER_ASYNC, BROWSER_REQUEST, HELLO, JSON, LEARN_HELLO, USER,
};

/// Counts the current thread's allocations and the bytes they asked for.
struct Counting;

thread_local! {
    /// Allocations (alloc, alloc_zeroed, realloc) made by this thread.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    /// Bytes those allocations asked for (a realloc counts its new size).
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// Records one allocation of `size` bytes; silent once the thread's
/// locals are gone (thread exit).
fn record(size: usize) {
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
    let _ = BYTES.try_with(|n| n.set(n.get() + size as u64));
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are const-initialised thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// This thread's (allocations, bytes) so far.
fn counters() -> (u64, u64) {
    (ALLOCS.with(Cell::get), BYTES.with(Cell::get))
}

/// Requests served before counting starts.
const WARM_UP: u64 = 1_000;

/// Requests counted (override with the first argument).
const DEFAULT_N: u64 = 100_000;

/// One measured row.
struct Row {
    /// What was served.
    what: String,
    /// Which code path.
    path: &'static str,
    /// Requests counted.
    requests: u64,
    /// Allocations counted.
    allocs: u64,
    /// Bytes counted.
    bytes: u64,
}

/// Serves `input` (one or more pipelined requests) `rounds` times through
/// one warm `H1Session`, the way an epoll worker does for each read.
fn sync_rows(table: &RouteTable, rows: &mut Vec<Row>, n: u64) {
    let date = DateCache::new(SystemTime::now());
    let cases: [(&str, &[u8], usize); 7] = [
        ("GET /hello", HELLO, 1),
        ("GET /users/12345", USER, 1),
        ("GET /json", JSON, 1),
        ("GET /hello, pipelined x16", HELLO, 16),
        (
            "GET /users/12345?tab=… (browser, 10 headers)",
            BROWSER_REQUEST,
            1,
        ),
        ("GET /async/hello (stops: promotion)", ASYNC_HELLO, 1),
        (
            "GET /learn/hello (learning route, settled in the warm-up)",
            LEARN_HELLO,
            1,
        ),
    ];
    for (what, req, depth) in cases {
        let input = pipelined(req, depth);
        let stops = req == ASYNC_HELLO;
        let mut conn = Turns::new();
        let mut resp = Response::new();
        let mut out = Vec::new();
        let mut turn = || {
            out.clear();
            let mut env = Env {
                table,
                date: &date,
                resp: &mut resp,
                info: inline_info(),
            };
            let p = conn.turn(black_box(&input), &mut env, Some(&mut out));
            if stops {
                assert!(matches!(p.outcome, Outcome::Stopped(_)), "{what}: {p:?}");
            } else {
                assert_eq!(p.outcome, Outcome::Open, "{what}");
                assert_eq!(p.consumed, input.len(), "{what}");
            }
        };
        let rounds = n / depth as u64;
        for _ in 0..WARM_UP {
            turn();
        }
        let before = counters();
        for _ in 0..rounds {
            turn();
        }
        let after = counters();
        if !stops {
            assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"), "{what}");
        }
        rows.push(Row {
            what: what.to_owned(),
            path: if stops {
                "sync: H1Session::process, Inline (stops before the handler)"
            } else {
                "sync: H1Session::process, Inline"
            },
            requests: rounds * depth as u64,
            allocs: after.0 - before.0,
            bytes: after.1 - before.1,
        });
    }
}

/// Polls a future that completes without waiting (the bench's handlers do).
fn complete<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = TaskContext::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        TaskPoll::Ready(v) => v,
        TaskPoll::Pending => panic!("the bench's future handlers complete at once"),
    }
}

/// Which part of a promoted request is counted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AsyncPart {
    /// `Ctx::to_request` only.
    OwnedRequest,
    /// `Ctx::to_request`, the handler's boxed future, and its `Response`.
    RequestAndResponse,
}

/// What a promoted request costs in owned data: parse, route, build the
/// context, copy it out with `Ctx::to_request`, and (for a future handler)
/// call it and take its `Response`.
fn async_row(table: &RouteTable, req: &[u8], part: AsyncPart, n: u64) -> (u64, u64) {
    let mut conn = H1Conn::new(Limits::default());
    let mut resp = Response::new();
    let mut turn = || {
        let mut headers = empty_headers();
        let Poll::Request(r) = conn.poll(black_box(req), &mut headers) else {
            panic!("expected a complete request");
        };
        resp.reset();
        let p = parts(&r);
        let mut ctx = Ctx::new(p, inline_info(), &mut resp);
        let Lookup::Found(m) = table.lookup(p.method, p.path) else {
            panic!("route exists");
        };
        ctx.set_route(m.route.pattern(), m.route.param_names(), m.params);
        ctx.set_dispatch(switchyard::Dispatch::Async);
        let owned = ctx.to_request();
        match (part, m.route.handler()) {
            (AsyncPart::RequestAndResponse, Handler::Future(f)) => {
                let answer: Response = complete(f(owned)).expect("handler succeeds");
                black_box(answer);
            }
            (AsyncPart::RequestAndResponse, Handler::Plain(_)) => {
                panic!("RequestAndResponse needs a future handler")
            }
            (AsyncPart::OwnedRequest, _) => {
                black_box(owned);
            }
        }
    };
    for _ in 0..WARM_UP {
        turn();
    }
    let before = counters();
    for _ in 0..n {
        turn();
    }
    let after = counters();
    (after.0 - before.0, after.1 - before.1)
}

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_N)
        .max(16);
    let mut rows = Vec::new();
    let table = conformance_routes(UsersBody::Format).table();
    sync_rows(&table, &mut rows, n);
    // The same /users/:id route with a handler that builds its body on the
    // stack: what is left is the server's own share.
    let stack = conformance_routes(UsersBody::Stack).table();
    let mut stack_rows = Vec::new();
    sync_rows(&stack, &mut stack_rows, n);
    let mut user = stack_rows.swap_remove(1);
    user.what = "GET /users/12345 (handler body on the stack, no format!)".to_owned();
    rows.insert(2, user);
    for (what, req, part, path) in [
        (
            "GET /async/hello: Ctx::to_request",
            ASYNC_HELLO,
            AsyncPart::OwnedRequest,
            "async: owned Request only",
        ),
        (
            "GET /async/hello, browser headers: Ctx::to_request",
            BROWSER_ASYNC,
            AsyncPart::OwnedRequest,
            "async: owned Request only",
        ),
        (
            "GET /async/future: to_request + future + Response",
            ASYNC_FUTURE,
            AsyncPart::RequestAndResponse,
            "async: owned Request, boxed handler future, Response",
        ),
    ] {
        let (allocs, bytes) = async_row(&table, req, part, n);
        rows.push(Row {
            what: what.to_owned(),
            path,
            requests: n,
            allocs,
            bytes,
        });
    }
    rows.push(learning_row());
    print_table(&rows, n);
}

/// A learning route while it learns: each run inline and timed. Only 255
/// requests (the 256th fast run in a row settles it), on a connection
/// warmed by the same route in another table.
fn learning_row() -> Row {
    const RUNS: u64 = 255;
    let date = DateCache::new(SystemTime::now());
    let warm = conformance_routes(UsersBody::Format).table();
    let fresh = conformance_routes(UsersBody::Format).table();
    let mut conn = Turns::new();
    let mut resp = Response::new();
    let mut out = Vec::new();
    let mut turn = |table: &RouteTable| {
        out.clear();
        let mut env = Env {
            table,
            date: &date,
            resp: &mut resp,
            info: inline_info(),
        };
        let p = conn.turn(black_box(LEARN_HELLO), &mut env, Some(&mut out));
        assert_eq!(p.outcome, Outcome::Open, "{p:?}");
    };
    for _ in 0..WARM_UP {
        turn(&warm);
    }
    let before = counters();
    for _ in 0..RUNS {
        turn(&fresh);
    }
    let after = counters();
    let state = fresh.learning_routes()[0].state;
    assert_eq!(
        state,
        LearnState::Learning,
        "every counted run was a timed one"
    );
    Row {
        what: "GET /learn/hello (learning route, learning: timed)".to_owned(),
        path: "sync: H1Session::process, Inline, timed",
        requests: RUNS,
        allocs: after.0 - before.0,
        bytes: after.1 - before.1,
    }
}

/// Prints the rows as a markdown table.
fn print_table(rows: &[Row], n: u64) {
    println!(
        "allocations per request after {WARM_UP} warm-up requests, {n} requests counted per row"
    );
    println!();
    println!("| request | code path | allocs/req | bytes/req |");
    println!("| --- | --- | ---: | ---: |");
    for r in rows {
        let per = |x: u64| x as f64 / r.requests as f64;
        println!(
            "| {} | {} | {:.2} | {:.1} |",
            r.what,
            r.path,
            per(r.allocs),
            per(r.bytes)
        );
    }
    println!();
    println!(
        "async rows count only the owned data a promoted request builds; the dispatch \
actor, its mailbox messages and the task that awaits a future handler are not included."
    );
}
