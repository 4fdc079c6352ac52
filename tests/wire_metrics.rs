//! The `/metrics` snapshot on every engine: every request, whichever driver
//! answered it (a loop worker, a dispatch actor, the blocking pool, a future
//! handler), is counted once and has its latency recorded once.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::Conn;

/// Reads `/metrics` until every request sent before it is counted (each
/// earlier read is one of them), then returns that snapshot.
fn settled(app: &common::App, sent: u64) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(5);
    let mut reads = 0;
    loop {
        let m = app.metrics();
        let total = m["requests_total"].as_u64().expect("requests_total");
        if total >= sent + reads {
            return m;
        }
        assert!(Instant::now() < until, "only {total} requests counted: {m}");
        reads += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}

for_each_engine! {
    fn latency_histogram_counts_every_request_of_every_kind(engine) {
        let app = app!(engine);
        let paths = [
            "/hello",
            "/async/hello",
            "/json",
            "/async/future?ms=1",
            "/async/sleep?ms=1",
            "/api/items",
            "/users/7",
        ];
        let mut sent = 0u64;
        // Fresh connections (sync inline, or promoted by their first request)
        // and one keep-alive connection that is promoted midway.
        for path in paths {
            let resp = app.get(path);
            assert_eq!(resp.status, 200, "{path}: {resp:?}");
            sent += 1;
        }
        let mut conn = Conn::open(app.addr());
        for path in paths.iter().chain(&paths) {
            let resp = conn.get(path);
            assert_eq!(resp.status, 200, "{path}: {resp:?}");
            sent += 1;
        }
        let m = settled(&app, sent);
        let total = m["requests_total"].as_u64().expect("requests_total");
        let buckets: u64 = m["latency_buckets"]
            .as_array()
            .expect("latency_buckets")
            .iter()
            .map(|b| b.as_u64().expect("a bucket count"))
            .sum();
        assert_eq!(buckets, total, "every request has its latency recorded: {m}");
    }
}
