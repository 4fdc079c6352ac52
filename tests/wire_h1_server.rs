//! Server-level behaviour over the wire, on every engine: handler panics,
//! run-time route registration, graceful shutdown, metrics, and many
//! concurrent connections without cross-talk.

#[macro_use]
mod common;

use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{assert_ok, get, post, App, Closed};

/// Polls `snapshot` on `probe` until `ok` holds, failing after 3 s.
#[track_caller]
fn eventually(
    probe: &mut common::Conn,
    snapshot: &dyn Fn(&mut common::Conn) -> serde_json::Value,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let m = snapshot(probe);
        if ok(&m) {
            return;
        }
        assert!(
            Instant::now() < until,
            "{what}: not within 3 s; last snapshot {m}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Registers `GET /dyn/NAME` with `mode` and expects 201.
#[track_caller]
fn register(app: &App, name: &str, mode: &str) {
    let mut conn = app.connect();
    conn.send(post(
        &format!("/routes?path=/dyn/{name}&mode={mode}"),
        None,
        b"",
    ));
    let resp = conn.read_response();
    assert_eq!(resp.status, 201, "registering /dyn/{name}: {resp:?}");
}

for_each_engine! {
    fn handler_panic_answers_500_and_server_keeps_serving(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let resp = conn.get("/panic");
        assert_eq!(resp.status, 500, "{resp:?}");
        assert_eq!(resp.dispatch(), "inline", "{resp:?}");
        assert_eq!(resp.header("x-engine"), Some(engine), "{resp:?}");
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
        for _ in 0..4 {
            assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        }
    }

    fn registered_sync_route_is_served_inline_on_every_worker(engine) {
        let app = app!(engine);
        assert_eq!(app.get("/dyn/alpha").status, 404, "not there before registration");
        register(&app, "alpha", "sync");
        // Fresh connections spread over the workers (SO_REUSEPORT hashing).
        for _ in 0..24 {
            assert_ok(&app.get("/dyn/alpha"), "dyn:alpha", "inline", engine);
        }
    }

    fn registered_async_route_is_served_async(engine) {
        let app = app!(engine);
        register(&app, "beta", "async");
        for _ in 0..24 {
            assert_ok(&app.get("/dyn/beta"), "dyn:beta", "async", engine);
        }
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
    }

    fn sigterm_lets_in_flight_request_finish_then_exits_zero(engine) {
        let mut app = app!(engine);
        let mut busy = app.connect();
        busy.send(get("/sync/sleep?ms=300"));
        let mut idle = app.connect();
        assert_ok(&idle.get("/hello"), "Hello, World!", "inline", engine);
        // The server gives no sign that a handler started: leave the request
        // a head start well inside its 300 ms.
        std::thread::sleep(Duration::from_millis(100));
        app.terminate();
        let resp = busy.read_response();
        assert_ok(&resp, "slept:300", "inline", engine);
        busy.assert_closed("in-flight connection after shutdown");
        idle.assert_closed("idle connection at shutdown");
        let status = app.wait_exit(Duration::from_secs(10)).expect("exited after SIGTERM");
        assert!(status.success(), "exit status {status}; stderr:\n{}", app.stderr());
        assert!(TcpStream::connect(app.addr()).is_err(), "new connections are refused");
    }

    fn metrics_count_requests_connections_and_async_routes(engine) {
        let app = app!(engine);
        let mut probe = app.connect();
        let snapshot = |probe: &mut common::Conn| -> serde_json::Value {
            let resp = probe.get("/metrics");
            assert_eq!(resp.status, 200, "{resp:?}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            serde_json::from_slice(&resp.body).expect("JSON")
        };
        let m0 = snapshot(&mut probe);
        assert_eq!(m0["engine"], engine, "{m0}");
        assert!(m0["async_routes"].as_u64().expect("async_routes") > 0, "{m0}");
        for key in ["requests_total", "errors_total", "active_conns", "async_promoted_conns"] {
            assert!(m0[key].is_u64(), "{key} missing from {m0}");
        }
        let base_requests = m0["requests_total"].as_u64().unwrap_or(0);
        let base_active = m0["active_conns"].as_u64().unwrap_or(0);

        let mut idle = app.connect();
        for i in 0..10 {
            assert_eq!(idle.get(&format!("/users/{i}")).status, 200);
        }
        // A worker adds an event's counts once the event is done, just after
        // its responses left: the snapshot may trail the last answer briefly.
        eventually(&mut probe, &snapshot, "requests_total grows by the 10 requests", |m| {
            m["requests_total"].as_u64().unwrap_or(0) >= base_requests + 10
        });
        eventually(&mut probe, &snapshot, "the open idle connection is active", |m| {
            m["active_conns"].as_u64() == Some(base_active + 1)
        });

        assert_eq!(idle.get("/panic").status, 500);
        let base_errors = m0["errors_total"].as_u64().unwrap_or(0);
        eventually(&mut probe, &snapshot, "a 500 counts as an error", |m| {
            m["errors_total"].as_u64().unwrap_or(0) > base_errors
        });

        drop(idle);
        eventually(&mut probe, &snapshot, "active_conns drops after the close", |m| {
            m["active_conns"].as_u64() == Some(base_active)
        });
    }

    fn concurrent_connections_never_see_each_others_responses(engine) {
        let app = app!(engine);
        const CONNS: usize = 200;
        const REQUESTS: usize = 20;
        let addr = app.addr();
        let start = Arc::new(Barrier::new(CONNS));
        let started = Instant::now();
        let clients: Vec<_> = (0..CONNS)
            .map(|c| {
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut conn = common::Conn::open(addr);
                    start.wait();
                    for i in 0..REQUESTS {
                        let resp = conn.get(&format!("/users/{c}-{i}"));
                        assert_eq!(resp.status, 200, "conn {c} request {i}: {resp:?}");
                        assert_eq!(resp.text(), format!("user:{c}-{i}"), "conn {c} request {i}");
                    }
                    match conn.read_until_closed(Duration::from_millis(1)) {
                        Closed::StillOpen(rest) => assert!(rest.is_empty(), "stray bytes"),
                        Closed::Yes(_) => panic!("conn {c} closed by the server"),
                    }
                })
            })
            .collect();
        for (c, client) in clients.into_iter().enumerate() {
            client.join().unwrap_or_else(|_| panic!("client {c} failed"));
        }
        println!("{CONNS} x {REQUESTS} requests in {:?}", started.elapsed());
    }
}
