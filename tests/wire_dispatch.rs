//! Async dispatch over the wire, on every engine: promotion of an HTTP/1.1
//! connection to its dispatch actor (sticky, counted once, in order), group
//! and default precedence, overlap of async handlers, isolation of the loop
//! workers, run-time async routes, shutdown and panics on promoted connections.

#[macro_use]
mod common;

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_ok, get, post, App, Conn};

/// A request in a pipelined sequence, with the body its answer must carry.
struct Step {
    /// The raw request.
    request: Vec<u8>,
    /// Expected body.
    body: String,
    /// Whether its route is async.
    is_async: bool,
}

/// A sync request with a unique answer.
fn sync_step(i: usize) -> Step {
    Step {
        request: get(&format!("/users/s{i}")).into_bytes(),
        body: format!("user:s{i}"),
        is_async: false,
    }
}

/// An async request (a future handler) with a unique answer.
fn async_step(i: usize) -> Step {
    Step {
        request: get(&format!("/async/future?ms={i}")).into_bytes(),
        body: format!("awaited:{i}"),
        is_async: true,
    }
}

/// Sends every step in one write, then checks answers, order and dispatch:
/// inline until the first async request, async from then on.
fn pipeline_in_one_write(app: &App, steps: &[Step]) {
    let mut conn = app.connect();
    conn.send(
        steps
            .iter()
            .flat_map(|s| s.request.clone())
            .collect::<Vec<u8>>(),
    );
    let mut promoted = false;
    for (i, step) in steps.iter().enumerate() {
        promoted |= step.is_async;
        let dispatch = if promoted { "async" } else { "inline" };
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "request {i}: {resp:?}");
        assert_eq!(resp.text(), step.body, "request {i} out of order: {resp:?}");
        assert_eq!(resp.dispatch(), dispatch, "request {i}: {resp:?}");
    }
}

// Promotion moves a connection off a loop worker; only loop engines have one.
// The std engine decides per request (see tests/wire_std.rs).
for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring");
    fn promotion_is_sticky_for_the_connection_and_counted_once(engine) {
        let app = app!(engine);
        let before = app.metric("async_promoted_conns");
        let mut conn = app.connect();
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        for i in 0..10 {
            assert_ok(&conn.get(&format!("/users/{i}")), &format!("user:{i}"), "async", engine);
            assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        }
        assert_ok(&conn.get("/api/cached"), "cached", "async", engine);
        assert_eq!(app.metric("async_promoted_conns"), before + 1, "one promotion");
        // A new connection starts inline again.
        let mut fresh = app.connect();
        assert_ok(&fresh.get("/hello"), "Hello, World!", "inline", engine);
        assert_ok(&fresh.get("/async/sleep?ms=1"), "slept:1", "async", engine);
        assert_ok(&fresh.get("/hello"), "Hello, World!", "async", engine);
        assert_eq!(app.metric("async_promoted_conns"), before + 2, "one per connection");
        // The first connection is still served.
        assert_ok(&conn.get("/hello"), "Hello, World!", "async", engine);
    }

    fn pipelined_async_after_sync_keeps_order(engine) {
        let app = app!(engine);
        // sync, sync, async, sync, async, sync, async, ...
        let steps: Vec<Step> = (0..20)
            .map(|i| if i >= 2 && i % 2 == 0 { async_step(i) } else { sync_step(i) })
            .collect();
        pipeline_in_one_write(&app, &steps);
    }

    fn pipelined_with_async_first_is_async_throughout(engine) {
        let app = app!(engine);
        let steps: Vec<Step> = (0..20)
            .map(|i| if i % 3 == 0 { async_step(i) } else { sync_step(i) })
            .collect();
        pipeline_in_one_write(&app, &steps);
    }

    fn promoted_connection_reads_request_bodies(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let mut batch = get("/async/hello").into_bytes();
        batch.extend(post("/echo", Some("text/x-after"), b"body read by the actor"));
        batch.extend(get("/users/tail").into_bytes());
        conn.send(batch);
        assert_ok(&conn.read_response(), "Hello, async!", "async", engine);
        let echo = conn.read_response();
        assert_ok(&echo, "body read by the actor", "async", engine);
        assert_eq!(echo.header("content-type"), Some("text/x-after"));
        assert_ok(&conn.read_response(), "user:tail", "async", engine);
        // A chunked body in pieces, on the promoted connection.
        conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab");
        conn.send("cd\r\n0\r\n\r\n");
        assert_ok(&conn.read_response(), "abcd", "async", engine);
    }

    fn async_request_whose_head_arrives_in_two_writes_is_async(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(format!("{}GET /async/hel", get("/users/first")));
        assert_ok(&conn.read_response(), "user:first", "inline", engine);
        conn.send("lo HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_ok(&conn.read_response(), "Hello, async!", "async", engine);
        assert_ok(&conn.get("/hello"), "Hello, World!", "async", engine);
    }

    fn async_request_whose_body_arrives_later_is_async(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("GET /async/hello HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nab");
        // Pacing the client so the worker sees the head without its body.
        std::thread::sleep(Duration::from_millis(50));
        conn.send("cde");
        assert_ok(&conn.read_response(), "Hello, async!", "async", engine);
        assert_ok(&conn.get("/users/after"), "user:after", "async", engine);
    }

    fn group_route_and_default_precedence(engine) {
        let app = app!(engine);
        assert_ok(&app.get("/api/items"), "items", "async", engine);
        assert_ok(&app.get("/api/cached"), "cached", "inline", engine);
        assert_ok(&app.get("/api/v2/items"), "items-v2", "async", engine);
        assert_ok(&app.get("/default"), "default", "inline", engine);
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        assert_ok(&app.get("/async/hello"), "Hello, async!", "async", engine);
    }

    fn async_default_flips_only_routes_without_a_setting(engine) {
        let app = app!(engine, &["--async-default"]);
        assert_ok(&app.get("/default"), "default", "async", engine);
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        assert_ok(&app.get("/users/1"), "user:1", "inline", engine);
        assert_ok(&app.get("/api/items"), "items", "async", engine);
        assert_ok(&app.get("/api/cached"), "cached", "inline", engine);
        assert_ok(&app.get("/api/v2/items"), "items-v2", "async", engine);
        let mut conn = app.connect();
        conn.send(post("/echo", None, b"still sync"));
        assert_ok(&conn.read_response(), "still sync", "inline", engine);
    }

    fn hundred_awaiting_handlers_overlap(engine) {
        let app = app!(engine);
        let addr = app.addr();
        let started = Instant::now();
        let clients: Vec<_> = (0..100)
            .map(|_| {
                std::thread::spawn(move || {
                    let resp = Conn::open(addr).get("/async/future?ms=50");
                    assert_eq!(resp.status, 200, "{resp:?}");
                    assert_eq!(resp.text(), "awaited:50");
                    assert_eq!(resp.dispatch(), "async");
                })
            })
            .collect();
        for c in clients {
            c.join().expect("client");
        }
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2500), "100 x 50 ms awaits took {took:?}: not overlapping");
    }

    fn blocking_async_handlers_do_not_stall_sync_routes(engine) {
        let app = app!(engine);
        let addr = app.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let (running, sleepers_in) = std::sync::mpsc::channel();
        let busy: Vec<_> = (0..16)
            .map(|_| {
                let (stop, running) = (stop.clone(), running.clone());
                std::thread::spawn(move || {
                    let mut conn = Conn::open(addr);
                    let mut served = 0u32;
                    while !stop.load(Ordering::Relaxed) {
                        let resp = conn.get("/async/sleep?ms=100");
                        assert_eq!(resp.text(), "slept:100", "{resp:?}");
                        served += 1;
                        if served == 1 {
                            let _ = running.send(());
                        }
                    }
                    served
                })
            })
            .collect();
        // Every sleeper's connection is promoted and busy before measuring.
        for _ in 0..16 {
            sleepers_in
                .recv_timeout(Duration::from_secs(5))
                .expect("a sleeper got its first answer");
        }
        let mut latencies = Vec::new();
        let measuring = Instant::now();
        // Across several rounds of the 100 ms sleeps, and at least 100 requests.
        for i in 0.. {
            if i >= 100 && measuring.elapsed() >= Duration::from_millis(500) {
                break;
            }
            let t = Instant::now();
            let resp = Conn::open(addr).read_hello_within(Duration::from_secs(2));
            let took = t.elapsed();
            assert_ok(&resp, "Hello, World!", "inline", engine);
            assert!(took < Duration::from_secs(2), "/hello {i} took {took:?}");
            latencies.push(took);
        }
        stop.store(true, Ordering::Relaxed);
        let served: u32 = busy.into_iter().map(|b| b.join().expect("sleeper")).sum();
        latencies.sort();
        println!(
            "/hello beside 16 blocking async handlers: p50 {:?}, p99 {:?} ({served} sleeps served)",
            latencies[latencies.len() / 2],
            latencies[latencies.len() * 99 / 100],
        );
        assert!(served >= 16 * 4, "the sleepers were running: {served} sleeps");
    }

    fn registered_async_route_is_async_on_every_worker(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(post("/routes?path=/dyn/gamma&mode=async", None, b""));
        let resp = conn.read_response();
        assert_eq!(resp.status, 201, "{resp:?}");
        for _ in 0..24 {
            let mut fresh = app.connect();
            assert_ok(&fresh.get("/dyn/gamma"), "dyn:gamma", "async", engine);
            assert_ok(&fresh.get("/hello"), "Hello, World!", "async", engine);
        }
    }

    fn sigterm_lets_dispatch_actors_finish_then_exits_zero(engine) {
        let mut app = app!(engine);
        let mut busy: Vec<Conn> = (0..4).map(|_| app.connect()).collect();
        for conn in &mut busy {
            conn.send(get("/async/sleep?ms=300"));
        }
        let mut promoted_idle = app.connect();
        assert_ok(&promoted_idle.get("/async/hello"), "Hello, async!", "async", engine);
        // The server gives no sign that a handler started: leave the requests
        // a head start well inside their 300 ms.
        std::thread::sleep(Duration::from_millis(100));
        app.terminate();
        // Accepting stops while the dispatch actors are still busy.
        let until = Instant::now() + Duration::from_millis(150);
        while TcpStream::connect(app.addr()).is_ok() {
            assert!(Instant::now() < until, "still accepting after SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
        for (i, conn) in busy.iter_mut().enumerate() {
            let resp = conn.read_response();
            assert_ok(&resp, "slept:300", "async", engine);
            conn.assert_closed(&format!("in-flight promoted connection {i} after shutdown"));
        }
        promoted_idle.assert_closed("idle promoted connection at shutdown");
        let status = app.wait_exit(Duration::from_secs(10)).expect("exited after SIGTERM");
        assert!(status.success(), "exit status {status}; stderr:\n{}", app.stderr());
    }

    fn promoted_connection_obeys_connection_close_and_http10(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        conn.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let resp = conn.read_response();
        assert_ok(&resp, "Hello, World!", "async", engine);
        assert!(resp.closes(), "{resp:?}");
        conn.assert_closed("promoted connection after Connection: close");

        let mut conn = app.connect();
        conn.send("GET /async/hello HTTP/1.0\r\n\r\n");
        let resp = conn.read_response();
        assert_ok(&resp, "Hello, async!", "async", engine);
        assert!(resp.closes(), "{resp:?}");
        conn.assert_closed("promoted HTTP/1.0 connection");
    }

    fn malformed_request_on_promoted_connection_is_answered_and_closed(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        conn.send("GET /hello HTTP/1.1\r\n\r\n");
        let resp = conn.read_response();
        assert_eq!(resp.status, 400, "missing Host on a promoted connection: {resp:?}");
        conn.assert_closed("promoted connection after a bad request");
    }

    fn expect_continue_on_async_route_gets_interim_100(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(
            "GET /async/hello HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\
             Expect: 100-continue\r\n\r\n",
        );
        let interim = conn.read_response();
        assert_eq!(interim.status, 100, "{interim:?}");
        conn.send("body");
        assert_ok(&conn.read_response(), "Hello, async!", "async", engine);
        // And on the now promoted connection, a sync route with a body.
        conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
        assert_eq!(conn.read_response().status, 100);
        conn.send("ok");
        assert_ok(&conn.read_response(), "ok", "async", engine);
    }

    fn promoted_idle_connection_closes_after_idle_timeout(engine) {
        let app = app!(engine, &["--idle-timeout-ms", "500"]);
        let mut conn = app.connect();
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        conn.assert_open_for(Duration::from_millis(100), "100 ms into a 500 ms idle timeout");
        match conn.read_until_closed(Duration::from_secs(2)) {
            common::Closed::Yes(rest) => assert!(rest.is_empty(), "{rest:?}"),
            common::Closed::StillOpen(_) => panic!("promoted idle connection open after 2 s"),
        }
    }

    fn promoted_slowloris_head_is_closed_at_header_timeout(engine) {
        let app = app!(engine, &["--header-timeout-ms", "1000"]);
        let mut conn = app.connect();
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        let started = Instant::now();
        let mut closed = false;
        for byte in b"GET /hello HTTP/1.1\r\nX-Slow: ".iter().chain([b'a'; 64].iter()) {
            if started.elapsed() > Duration::from_secs(2) {
                break;
            }
            if conn.try_send([*byte]).is_err() {
                closed = true;
                break;
            }
            // Pacing the client: one byte every 200 ms.
            if let common::Closed::Yes(_) = conn.read_until_closed(Duration::from_millis(200)) {
                closed = true;
                break;
            }
        }
        assert!(closed, "a head trickling into a promoted connection was not cut off within 2 s");
    }

    fn metrics_count_promoted_connections_and_their_requests(engine) {
        let app = app!(engine);
        let mut probe = app.connect();
        let mut snapshot = || -> serde_json::Value {
            serde_json::from_slice(&probe.get("/metrics").body).expect("JSON")
        };
        let m0 = snapshot();
        let mut conn = app.connect();
        for _ in 0..10 {
            assert_eq!(conn.get("/async/hello").status, 200);
        }
        let m1 = snapshot();
        let n = |m: &serde_json::Value, k: &str| m[k].as_u64().unwrap_or_else(|| panic!("{k}"));
        assert!(n(&m1, "requests_total") >= n(&m0, "requests_total") + 10, "{m0} -> {m1}");
        assert_eq!(n(&m1, "active_conns"), n(&m0, "active_conns") + 1, "{m0} -> {m1}");
        assert_eq!(n(&m1, "async_promoted_conns"), n(&m0, "async_promoted_conns") + 1);
    }

    fn async_requests_before_client_half_close_are_answered(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(format!("{}{}{}", get("/users/1"), get("/async/sleep?ms=50"), get("/users/2")));
        conn.shutdown_write();
        assert_ok(&conn.read_response(), "user:1", "inline", engine);
        assert_ok(&conn.read_response(), "slept:50", "async", engine);
        assert_ok(&conn.read_response(), "user:2", "async", engine);
        conn.assert_closed("after the client's FIN");
    }

    fn panic_on_promoted_connection_is_500_and_serving_goes_on(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        let resp = conn.get("/panic");
        assert_eq!(resp.status, 500, "{resp:?}");
        assert_eq!(resp.dispatch(), "async", "{resp:?}");
        assert_ok(&conn.get("/async/hello"), "Hello, async!", "async", engine);
        assert_ok(&conn.get("/hello"), "Hello, World!", "async", engine);
        let mut other = app.connect();
        assert_ok(&other.get("/async/hello"), "Hello, async!", "async", engine);
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
    }
}

/// `GET /hello` on a connection, read within `timeout`.
trait ReadHello {
    /// Sends `GET /hello` and reads its answer within `timeout`.
    fn read_hello_within(self, timeout: Duration) -> common::Resp;
}

impl ReadHello for Conn {
    fn read_hello_within(mut self, timeout: Duration) -> common::Resp {
        self.send(get("/hello"));
        self.read_response_within(timeout, false)
    }
}
