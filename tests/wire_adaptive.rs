//! The adaptive engine over real sockets: forced switches back and forth
//! under steady load fail no request and lose no connection (established
//! connections finish on the engine that accepted them, new ones go to the
//! engine switched to), lowered thresholds make the controller switch on
//! its own, and `POST /engine/switch` is refused off the adaptive engine.
//! Where io_uring is refused, the tests that need it skip, saying so.

#[macro_use]
mod common;
mod h2c_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::App;

/// `GET /hello` on `conn`: the `x-engine` that answered it, or what went
/// wrong.
fn hello(conn: &mut TcpStream) -> Result<String, String> {
    conn.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) => return Err("closed before the response".into()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(format!("not a 200: {head}"));
    }
    let field = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    let length: usize = field("content-length:")
        .and_then(|v| v.parse().ok())
        .ok_or("no content-length")?;
    while got.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) => return Err("closed inside the body".into()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    if &got[head_end..] != b"Hello, World!" {
        return Err(format!(
            "body {:?}",
            String::from_utf8_lossy(&got[head_end..])
        ));
    }
    field("x-engine:").ok_or_else(|| "no x-engine".into())
}

/// A keep-alive connection with a read timeout.
fn open(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    c
}

/// `POST /engine/switch` on a fresh connection: status and body.
fn switch(app: &App) -> (u16, String) {
    let mut c = app.connect();
    c.send("POST /engine/switch HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    let resp = c.read_response_within(Duration::from_secs(15), false);
    (
        resp.status,
        String::from_utf8_lossy(&resp.body).into_owned(),
    )
}

/// Whether io_uring serves under this adaptive app; prints the skip when not.
fn io_uring_serves(app: &App) -> bool {
    let serves = app.metrics()["adaptive"]["io_uring"] == serde_json::json!(true);
    if !serves {
        println!("skipped: adaptive: io_uring is refused here, the engine stays on epoll");
    }
    serves
}

/// Waits until `cond` holds, at most `limit`.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    /// Requests answered, by engine.
    by_engine: std::collections::BTreeMap<String, u64>,
    /// Every failure, in words.
    failures: Vec<String>,
    /// Connections whose answers came from more than one engine.
    moved: Vec<String>,
}

impl Seen {
    /// Records one answer (or failure) on a connection that `first`
    /// answered first.
    fn record(&mut self, outcome: &Result<String, String>, first: &mut Option<String>) {
        match outcome {
            Ok(engine) => {
                *self.by_engine.entry(engine.clone()).or_default() += 1;
                match first {
                    None => *first = Some(engine.clone()),
                    Some(f) if f != engine => self.moved.push(format!("{f} then {engine}")),
                    Some(_) => {}
                }
            }
            Err(e) => self.failures.push(e.clone()),
        }
    }
}

#[test]
fn forced_switches_back_and_forth_under_load_fail_nothing_and_lose_no_connection() {
    let app = app!("adaptive");
    if !io_uring_serves(&app) {
        return;
    }
    let addr = app.addr();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut load = Vec::new();
    // Held connections: opened before the first switch, used until the end.
    for _ in 0..4 {
        let (stop, seen) = (stop.clone(), seen.clone());
        let mut conn = open(addr);
        load.push(std::thread::spawn(move || {
            let mut first = None;
            let mut answered = 0u64;
            while !stop.load(Relaxed) {
                let outcome = hello(&mut conn);
                let failed = outcome.is_err();
                seen.lock().unwrap().record(&outcome, &mut first);
                if failed {
                    return 0;
                }
                answered += 1;
            }
            answered
        }));
    }
    // Churn: a fresh connection every few requests, so new connections
    // keep arriving while the switches happen.
    for _ in 0..4 {
        let (stop, seen) = (stop.clone(), seen.clone());
        load.push(std::thread::spawn(move || {
            let mut answered = 0u64;
            while !stop.load(Relaxed) {
                let mut conn = open(addr);
                let mut first = None;
                for _ in 0..5 {
                    let outcome = hello(&mut conn);
                    seen.lock().unwrap().record(&outcome, &mut first);
                    answered += u64::from(outcome.is_ok());
                }
            }
            answered
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut expected = "epoll";
    for _ in 0..6 {
        expected = if expected == "epoll" {
            "io-uring"
        } else {
            "epoll"
        };
        assert_eq!(switch(&app), (200, expected.to_owned()));
        // Once the switch answered, new connections go to the new engine.
        let mut fresh = open(addr);
        assert_eq!(
            hello(&mut fresh).as_deref(),
            Ok(expected),
            "after the switch"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    stop.store(true, Relaxed);
    let answered: Vec<u64> = load.into_iter().map(|t| t.join().unwrap()).collect();
    let seen = seen.lock().unwrap();
    assert!(
        seen.failures.is_empty(),
        "failed requests: {:?}",
        seen.failures
    );
    assert!(
        seen.moved.is_empty(),
        "connections that moved: {:?}",
        seen.moved
    );
    assert!(
        answered[..4].iter().all(|&n| n > 0),
        "a held connection was lost: {answered:?}"
    );
    for engine in ["epoll", "io-uring"] {
        assert!(
            seen.by_engine.get(engine).copied().unwrap_or(0) > 0,
            "{engine} served nothing: {:?}",
            seen.by_engine
        );
    }
    let m = app.metrics();
    assert_eq!(m["engine"], "adaptive");
    assert_eq!(m["active_engine"], "epoll");
    assert_eq!(m["engine_switches"], 6);
    println!(
        "answered per load thread: {answered:?}; by engine: {:?}",
        seen.by_engine
    );
}

/// `connections` keep-alive connections, each answered once (so each was
/// accepted), and the engine that answered.
fn hold(addr: SocketAddr, connections: usize) -> Vec<(TcpStream, String)> {
    (0..connections)
        .map(|_| {
            let mut c = open(addr);
            let engine = hello(&mut c).expect("a held connection is answered");
            (c, engine)
        })
        .collect()
}

#[test]
fn lowered_thresholds_make_the_controller_switch_on_its_own() {
    // 12 connections on 2 workers: 6 per worker. With the engine's own
    // thresholds that is light load and nothing moves ...
    let app = app!("adaptive", &["--protocol", "http1"]);
    if !io_uring_serves(&app) {
        return;
    }
    let held = hold(app.addr(), 12);
    std::thread::sleep(Duration::from_millis(3200));
    let m = app.metrics();
    assert_eq!(m["active_engine"], "epoll", "{m}");
    assert_eq!(
        m["adaptive"]["last_reason"], "load under the up threshold",
        "{m}"
    );
    drop((held, app));

    // ... with the up threshold lowered to 2 (so 4 is heavy), the next
    // tick moves new connections to io_uring.
    let app = app!(
        "adaptive",
        &[
            "--protocol",
            "http1",
            "--adaptive-up",
            "2",
            "--adaptive-down",
            "1"
        ]
    );
    let mut held = hold(app.addr(), 12);
    assert!(held.iter().all(|(_, e)| e == "epoll"));
    assert!(
        eventually(Duration::from_secs(6), || app.metrics()["active_engine"]
            == "io-uring"),
        "no switch: {}",
        app.metrics()
    );
    let m = app.metrics();
    assert_eq!(m["engine_switches"], 1, "{m}");
    assert_eq!(m["adaptive"]["last_decision"], "io-uring", "{m}");
    assert_eq!(
        m["adaptive"]["last_reason"], "load over the high threshold",
        "{m}"
    );
    // New connections go to io_uring; the held ones stay on epoll.
    assert_eq!(hello(&mut open(app.addr())).as_deref(), Ok("io-uring"));
    for (c, _) in &mut held {
        assert_eq!(hello(c).as_deref(), Ok("epoll"));
    }
}

#[test]
fn under_auto_the_controller_switches_and_h2c_is_served_on_io_uring() {
    // Both engines speak HTTP/1.1 and h2c, so `auto` switches on its own
    // like `http1`; an h2c client that arrives after the switch is served
    // by io_uring.
    let app = app!("adaptive", &["--adaptive-up", "2", "--adaptive-down", "1"]);
    if !io_uring_serves(&app) {
        return;
    }
    let _held = hold(app.addr(), 12);
    assert!(
        eventually(Duration::from_secs(6), || app.metrics()["active_engine"]
            == "io-uring"),
        "no switch: {}",
        app.metrics()
    );
    let addr = app.addr();
    h2c_support::block_on(async move {
        let mut c = h2c_support::h2_client(addr).await;
        let a = h2c_support::fetch(&mut c, "GET", "/hello", None)
            .await
            .expect("h2c /hello");
        assert_eq!(a.head.status, 200);
        assert_eq!(a.header("x-engine"), "io-uring");
    });
    assert_eq!(switch(&app), (200, "epoll".to_owned()));
}

for_each_engine! {
    fn the_switch_is_refused_off_the_adaptive_engine(engine) {
        let app = app!(engine);
        let (status, body) = switch(&app);
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("not the adaptive one"), "{body}");
        let m = app.metrics();
        assert_eq!(m["active_engine"], engine);
        assert_eq!(m["engine_switches"], 0);
    }
}

#[test]
fn where_io_uring_is_refused_adaptive_says_so_once_and_stays_on_epoll() {
    let launch = common::Launch {
        env: vec![("SWITCHYARD_IOURING", "refuse")],
        ..Default::default()
    };
    let Some(app) = common::start_or_skip_with("adaptive", &[], &launch) else {
        return;
    };
    let needle = "adaptive engine: io_uring is not available";
    assert!(eventually(Duration::from_secs(5), || app
        .stderr()
        .contains(needle)));
    let (status, body) = switch(&app);
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("io_uring cannot serve here"), "{body}");
    assert_eq!(app.get("/hello").header("x-engine"), Some("epoll"));
    let err = app.stderr();
    assert_eq!(err.matches(needle).count(), 1, "stderr:\n{err}");
    assert!(err.contains("WARN"), "stderr:\n{err}");
    let m = app.metrics();
    assert_eq!(m["adaptive"]["io_uring"], false);
    assert_eq!(m["engine_switches"], 0);
}

#[test]
fn a_crashed_io_uring_worker_is_rebuilt_on_the_shared_port_and_switches_on() {
    let app = app!("adaptive", &["--enable-faults"]);
    if !io_uring_serves(&app) {
        return;
    }
    assert_eq!(switch(&app), (200, "io-uring".to_owned()));
    // Each crash rebuilds the io_uring worker that took the request, on its
    // socket of the port (the one it kept, or a descriptor the port gives).
    // The next crash is asked once the last one's restart is counted: a
    // connection accepted by a worker while it is torn down is served on
    // the dispatch side, where nothing crashes a worker.
    for crashes in 1..=4 {
        let mut c = app.connect();
        c.send("POST /faults/worker-panic HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(c.read_response().status, 200);
        assert!(
            eventually(Duration::from_secs(5), || app.metric("worker_restarts")
                == crashes),
            "restart {crashes}: {}",
            app.metrics()
        );
    }
    for _ in 0..8 {
        assert_eq!(hello(&mut open(app.addr())).as_deref(), Ok("io-uring"));
    }
    assert_eq!(switch(&app), (200, "epoll".to_owned()));
    for _ in 0..8 {
        assert_eq!(hello(&mut open(app.addr())).as_deref(), Ok("epoll"));
    }
    assert_eq!(switch(&app), (200, "io-uring".to_owned()));
    assert_eq!(hello(&mut open(app.addr())).as_deref(), Ok("io-uring"));
}
