//! Graceful shutdown on every engine, repeated: requests in flight when
//! SIGTERM arrives — a sync handler, a future handler, a plain handler on the
//! blocking pool — are answered, idle connections are closed, and the
//! process exits 0 (issue 17: on std, a request whose bytes had arrived while
//! its arbiter was busy in another handler was closed unanswered).

#[macro_use]
mod common;

use std::time::Duration;

use common::{assert_ok, get, Conn};

/// How many times the sequence runs per engine: the loss was a race, seen
/// in one run out of two to eight.
const ROUNDS: usize = 20;

/// One round: an idle keep-alive connection, a sync sleeper, a future
/// handler and a blocking-pool handler, then SIGTERM while they sleep.
fn round(engine: &str, n: usize) {
    let mut app = app!(engine);
    let mut idle = app.connect();
    let mut sync = app.connect();
    let mut future = app.connect();
    let mut blocking = app.connect();
    idle.send(get("/hello"));
    sync.send(get("/sync/sleep?ms=800"));
    future.send(get("/async/future?ms=800"));
    blocking.send(get("/async/sleep?ms=800"));
    let resp = idle.read_response();
    assert_eq!(resp.status, 200, "round {n}: /hello: {resp:?}");
    // The server gives no sign that a handler started: leave the requests a
    // head start well inside their 800 ms.
    std::thread::sleep(Duration::from_millis(300));
    app.terminate();
    let expect = |conn: &mut Conn, body: &str, dispatch: &str, what: &str| {
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "round {n}: {what}: {resp:?}");
        assert_ok(&resp, body, dispatch, engine);
        conn.assert_closed(&format!("round {n}: {what} after shutdown"));
    };
    expect(&mut sync, "slept:800", "inline", "/sync/sleep");
    expect(&mut future, "awaited:800", "async", "/async/future");
    expect(&mut blocking, "slept:800", "async", "/async/sleep");
    idle.assert_closed(&format!("round {n}: idle connection at shutdown"));
    // Closing our side ends the server's lingering closes at once.
    drop((idle, sync, future, blocking));
    let status = app
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("round {n}: no exit after SIGTERM"));
    assert!(
        status.success(),
        "round {n}: exit status {status}; stderr:\n{}",
        app.stderr()
    );
}

for_each_engine! {
    fn in_flight_handlers_of_every_kind_finish_at_shutdown_every_time(engine) {
        for n in 0..ROUNDS {
            round(engine, n);
        }
    }
}
