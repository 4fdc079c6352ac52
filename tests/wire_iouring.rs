//! What is particular to the io_uring engine, over real sockets, on each
//! capability tier it has: the best this kernel offers (multishot accept and
//! receive on a provided-buffer ring) and the base tier forced through
//! `SWITCHYARD_IOURING=base,coop` (single-shot receives into each
//! connection's own buffer, no `DEFER_TASKRUN`). Every other wire test runs
//! on io-uring too, through `for_each_engine!`.

#[macro_use]
#[allow(unused_macros)]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{App, Launch};

/// The tiers tested: a name, and what `SWITCHYARD_IOURING` forces.
const TIERS: [(&str, &str); 2] = [("best", ""), ("base", "base,coop")];

/// The app on io-uring in `tier` (forced through the environment), or a
/// printed skip where io_uring is refused.
fn start(tier: &'static str, extra: &[&str]) -> Option<App> {
    let launch = Launch {
        env: vec![("SWITCHYARD_IOURING", tier)],
        ..Default::default()
    };
    common::start_or_skip_with("io-uring", extra, &launch)
}

/// A body whose every byte says where it is, so a byte from elsewhere
/// (another connection, a reused buffer) shows.
fn pattern(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| b'a' + ((i * 7 + seed * 13) % 26) as u8)
        .collect()
}

#[test]
fn the_forced_base_tier_is_the_one_that_runs() {
    let launch = Launch {
        env: vec![("SWITCHYARD_IOURING", "base,coop"), ("RUST_LOG", "info")],
        ..Default::default()
    };
    let Some(app) = common::start_or_skip_with("io-uring", &[], &launch) else {
        return;
    };
    common::assert_ok(&app.get("/hello"), "Hello, World!", "inline", "io-uring");
    let until = Instant::now() + Duration::from_secs(5);
    while !app.stderr().contains("io_uring engine") && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = app.stderr();
    assert!(
        err.contains("single-shot accept and receive (base tier)"),
        "{err}"
    );
    assert!(err.contains("ring setup coop-taskrun"), "{err}");
}

/// Promotion while a receive is armed: every connection sends, in one
/// write, a sync request, an async one, and more requests with bodies
/// behind it. The bytes that arrive before the receive's cancel completes
/// go with the connection; no body may be cut, doubled or mixed with
/// another connection's.
fn promotions_with_pipelined_bytes(tier: &'static str) {
    let Some(app) = start(tier, &[]) else {
        return;
    };
    let before = app.metric("async_promoted_conns");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let addr = app.addr();
            std::thread::spawn(move || {
                for round in 0..25 {
                    let seed = t * 100 + round;
                    let small = pattern(seed, 100 + round);
                    let large = pattern(seed + 1, 9000 + 37 * round);
                    let mut batch = common::post("/echo", None, &small);
                    batch.extend_from_slice(common::get("/async/hello").as_bytes());
                    batch.extend_from_slice(&common::post("/echo", None, &large));
                    batch.extend_from_slice(common::get("/hello").as_bytes());
                    let mut conn = common::Conn::open(addr);
                    conn.send(&batch);
                    let r = conn.read_response();
                    assert_eq!(
                        (r.status, r.body.as_slice()),
                        (200, small.as_slice()),
                        "seed {seed}"
                    );
                    assert_eq!(r.dispatch(), "inline");
                    common::assert_ok(&conn.read_response(), "Hello, async!", "async", "io-uring");
                    let r = conn.read_response();
                    assert_eq!(r.status, 200, "seed {seed}");
                    assert!(
                        r.body == large,
                        "seed {seed}: the large body came back altered"
                    );
                    assert_eq!(r.dispatch(), "async", "promotion is sticky");
                    common::assert_ok(&conn.read_response(), "Hello, World!", "async", "io-uring");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread failed");
    }
    assert_eq!(app.metric("async_promoted_conns"), before + 100);
}

#[test]
fn promotions_with_pipelined_bytes_keep_every_body_intact() {
    for (_, tier) in TIERS {
        promotions_with_pipelined_bytes(tier);
    }
}

/// More connections than the provided-buffer ring has buffers, all sending
/// at once: a receive that finds no buffer is armed again, and every
/// connection is answered.
fn more_connections_than_buffers(tier: &'static str) {
    let Some(app) = start(tier, &[]) else {
        return;
    };
    let n = 1500;
    let mut conns: Vec<TcpStream> = (0..n)
        .map(|_| TcpStream::connect(app.addr()).expect("connect"))
        .collect();
    let body = pattern(7, 3000);
    let req = common::post("/echo", None, &body);
    for c in &mut conns {
        c.write_all(&req).expect("send");
    }
    for (i, c) in conns.into_iter().enumerate() {
        let mut conn = common::Conn::from_stream(c);
        let r = conn.read_response();
        assert_eq!(r.status, 200, "connection {i}");
        assert!(r.body == body, "connection {i}: body altered");
    }
}

#[test]
fn more_connections_than_provided_buffers_are_all_answered() {
    for (_, tier) in TIERS {
        more_connections_than_buffers(tier);
    }
}

/// A peer that closes while a large response is still being sent: the send
/// fails, the connection closes, and the server goes on.
fn peer_closes_during_send(tier: &'static str) {
    let Some(app) = start(tier, &["--max-body", "20000000"]) else {
        return;
    };
    for _ in 0..5 {
        let mut s = TcpStream::connect(app.addr()).expect("connect");
        let body = pattern(3, 8 << 20);
        s.write_all(&common::post("/echo", None, &body))
            .expect("send");
        // Read a little of the 8 MiB echo, then go away with the rest unread.
        let mut some = [0u8; 1024];
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read(&mut some).expect("the response starts");
        drop(s);
    }
    common::assert_ok(&app.get("/hello"), "Hello, World!", "inline", "io-uring");
    // Every connection is closed and counted: only the metrics one is open.
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let m = app.metrics();
        let open = m["accepts"].as_u64().unwrap() - m["closes"].as_u64().unwrap();
        if open <= 1 {
            break;
        }
        assert!(Instant::now() < until, "connections left open: {m}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_peer_closing_while_a_send_is_in_flight_is_closed_and_counted() {
    for (_, tier) in TIERS {
        peer_closes_during_send(tier);
    }
}

/// The resident size of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// 10,000 idle keep-alive connections are held, and served when they speak.
fn many_idle_connections(tier: &'static str) {
    let Some(app) = start(tier, &[]) else {
        return;
    };
    common::assert_ok(&app.get("/hello"), "Hello, World!", "inline", "io-uring");
    let before = rss(app.pid());
    let n = 10_000;
    let mut idle: Vec<TcpStream> = Vec::with_capacity(n);
    for i in 0..n {
        match TcpStream::connect(app.addr()) {
            Ok(s) => idle.push(s),
            Err(e) => panic!("connection {i}: {e}"),
        }
    }
    let until = Instant::now() + Duration::from_secs(20);
    while app.metric("accepts") < n as u64 + 2 {
        assert!(Instant::now() < until, "not every connection was accepted");
        std::thread::sleep(Duration::from_millis(50));
    }
    let grew = rss(app.pid()).saturating_sub(before);
    println!(
        "io-uring {tier:?}: {n} idle connections: +{} B RSS each",
        grew / n as u64
    );
    common::assert_ok(&app.get("/hello"), "Hello, World!", "inline", "io-uring");
    for s in idle.iter_mut().step_by(997) {
        let mut conn = common::Conn::from_stream(s.try_clone().unwrap());
        common::assert_ok(&conn.get("/hello"), "Hello, World!", "inline", "io-uring");
    }
}

#[test]
fn ten_thousand_idle_connections_are_held_and_served() {
    for (_, tier) in TIERS {
        many_idle_connections(tier);
    }
}

/// With 8 provided buffers per worker, bursts of requests leave receives
/// without a buffer (ENOBUFS ends a multishot receive): each is armed again
/// once buffers are given back, and every connection is answered.
#[test]
fn receives_that_find_no_provided_buffer_are_armed_again() {
    let launch = Launch {
        env: vec![
            ("SWITCHYARD_IOURING", "few-buffers"),
            ("RUST_LOG", "switchyard::engine::iouring=debug"),
        ],
        ..Default::default()
    };
    let Some(app) = common::start_or_skip_with("io-uring", &[], &launch) else {
        return;
    };
    let body = pattern(11, 3000);
    let req = common::post("/echo", None, &body);
    let needle = "a receive found no provided buffer";
    for round in 0..20 {
        let mut conns: Vec<TcpStream> = (0..200)
            .map(|_| TcpStream::connect(app.addr()).expect("connect"))
            .collect();
        for c in &mut conns {
            c.write_all(&req).expect("send");
        }
        for (i, c) in conns.into_iter().enumerate() {
            let r = common::Conn::from_stream(c).read_response();
            assert_eq!(r.status, 200, "round {round}, connection {i}");
            assert!(
                r.body == body,
                "round {round}, connection {i}: body altered"
            );
        }
        if app.stderr().contains(needle) {
            break;
        }
    }
    assert!(
        app.stderr().contains(needle),
        "no receive ran out of buffers in 20 bursts of 200; the re-arm path went untested"
    );
}
