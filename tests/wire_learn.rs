//! Learning routes over the wire, on every engine: `GET /learn/sleep` starts
//! inline, a slow run promotes it to async (seen in `x-dispatch`, in the
//! metrics, and in that another connection of the same single worker is
//! not stalled by it), fast runs settle it inline for good; h2c streams
//! follow the same decision; `--learn-default` makes unset routes learn.

#[allow(unused_macros)]
#[macro_use]
mod common;
mod h2c_support;

use std::time::{Duration, Instant};

use common::{assert_ok, App, Conn};
use h2c_support::{fetch, h2_client};

/// The learning route's entry in the `/metrics` snapshot.
fn learning(app: &App, route: &str) -> serde_json::Value {
    let m = app.metrics();
    m["learning_routes"]
        .as_array()
        .expect("learning_routes is a list")
        .iter()
        .find(|r| r["route"] == route)
        .unwrap_or_else(|| panic!("{route} is not a learning route in {m}"))
        .clone()
}

/// Fast runs on one connection until the route reports `settled`, checking
/// every 256, for at most a minute; returns the runs made. On a busy
/// machine a fast run preempted for more than 2 ms promotes the route (as
/// it would in production); then this waits for the promotion to end and
/// goes on.
fn settle(app: &App, conn: &mut Conn) -> usize {
    let until = Instant::now() + Duration::from_secs(60);
    let mut runs = 0;
    while Instant::now() < until {
        let state = learning(app, "/learn/sleep")["state"].clone();
        if state == "settled" {
            return runs;
        }
        if state == "promoted" {
            std::thread::sleep(Duration::from_millis(250));
            continue;
        }
        for _ in 0..256 {
            let resp = conn.get("/learn/sleep?ms=0");
            assert_eq!(resp.text(), "slept:0", "{resp:?}");
            runs += 1;
        }
    }
    panic!(
        "not settled after {runs} fast runs: {}",
        learning(app, "/learn/sleep")
    );
}

for_each_engine! {
    fn one_slow_run_promotes_a_learning_route_to_async(engine) {
        let app = app!(engine);
        let before = learning(&app, "/learn/sleep");
        assert_eq!(before["state"], "learning", "{before}");
        assert_eq!(before["promotions"], 0, "{before}");
        // 5 ms > 2 ms: this run is inline, and promotes the route.
        assert_ok(&app.get("/learn/sleep?ms=5"), "slept:5", "inline", engine);
        assert_ok(&app.get("/learn/sleep?ms=0"), "slept:0", "async", engine);
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        let after = learning(&app, "/learn/sleep");
        assert_eq!(after["state"], "promoted", "{after}");
        assert_eq!(after["promotions"], 1, "{after}");
        assert_eq!(after["requests_inline"], 1, "{after}");
        assert_eq!(after["requests_async"], 1, "{after}");
        let timed: u64 = after["handler_time_buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap())
            .sum();
        assert_eq!(timed, 1, "only the inline run is timed: {after}");
        let prom = app.get("/metrics/prometheus");
        let state = format!(
            "switchyard_route_dispatch_state{{engine=\"{engine}\",method=\"GET\",route=\"/learn/sleep\",state=\"promoted\"}} 1"
        );
        assert!(prom.text().lines().any(|l| l == state), "{state} missing in\n{}", prom.text());
        assert!(!prom.text().contains("ms=5"), "labelled by pattern, never by request path");
    }

    fn a_promoted_learning_route_no_longer_stalls_the_worker(engine) {
        let app = app!(engine, &["--workers", "1"]);
        assert_ok(&app.get("/learn/sleep?ms=5"), "slept:5", "inline", engine);
        // Promoted now: a long run goes off the only worker...
        let mut sleeper = app.connect();
        sleeper.send(common::get("/learn/sleep?ms=1500"));
        std::thread::sleep(Duration::from_millis(200));
        // ...so another connection is answered while it sleeps. Were it
        // inline, /hello would wait the remaining 1.3 s.
        let mut other = app.connect();
        other.send(common::get("/hello"));
        let hello = other.read_response_within(Duration::from_millis(1000), false);
        assert_ok(&hello, "Hello, World!", "inline", engine);
        let slept = sleeper.read_response();
        assert_ok(&slept, "slept:1500", "async", engine);
    }

    fn fast_runs_settle_a_learning_route_inline_for_good(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let runs = settle(&app, &mut conn);
        let settled = learning(&app, "/learn/sleep");
        println!("settled after {runs} fast runs: {settled}");
        // Settled: a slow run no longer promotes it, and is not timed.
        for _ in 0..2 {
            assert_ok(&app.get("/learn/sleep?ms=5"), "slept:5", "inline", engine);
        }
        let after = learning(&app, "/learn/sleep");
        assert_eq!(after["state"], "settled", "{after}");
        assert_eq!(after["promotions"], settled["promotions"], "{after}");
        assert_eq!(after["requests_async"], settled["requests_async"], "{after}");
        assert_eq!(
            after["requests_inline"].as_u64().unwrap(),
            settled["requests_inline"].as_u64().unwrap() + 2,
            "{after}"
        );
        assert_eq!(
            after["handler_time_buckets"], settled["handler_time_buckets"],
            "settled runs are not timed"
        );
    }

    fn learn_default_makes_unset_routes_learn(engine) {
        let app = app!(engine, &["--async-default", "--learn-default"]);
        assert_ok(&app.get("/default"), "default", "inline", engine);
        assert_eq!(learning(&app, "/default")["requests_inline"], 1);
        // Routes with a setting of their own or of their group keep it.
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        assert_ok(&app.get("/api/items"), "items", "async", engine);
        let routes = app.metrics()["learning_routes"].as_array().unwrap().len();
        assert_eq!(routes, 2, "/learn/sleep and /default learn");
    }
}

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn h2c_streams_follow_the_learnt_dispatch(engine) {
        let app = app!(engine);
        let addr = app.addr();
        h2c_support::block_on(async move {
            let mut c = h2_client(addr).await;
            let slow = fetch(&mut c, "GET", "/learn/sleep?ms=5", None).await.unwrap();
            assert_eq!(&slow.body[..], b"slept:5");
            assert_eq!(slow.header("x-dispatch"), "inline", "learning: inline");
            let next = fetch(&mut c, "GET", "/learn/sleep?ms=0", None).await.unwrap();
            assert_eq!(next.header("x-dispatch"), "async", "promoted: async");
            let hello = fetch(&mut c, "GET", "/hello", None).await.unwrap();
            assert_eq!(hello.header("x-dispatch"), "inline", "same connection, per stream");
            let again = fetch(&mut c, "GET", "/learn/sleep?ms=0", None).await.unwrap();
            assert_eq!(again.header("x-dispatch"), "async");
        });
        let after = learning(&app, "/learn/sleep");
        assert_eq!(after["state"], "promoted", "{after}");
        assert_eq!(after["requests_async"], 2, "{after}");
    }
}
