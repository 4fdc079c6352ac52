//! A worker that panics is rebuilt on every engine: it serves again on the
//! same port, keeps a pause it was told before the crash, and its counters
//! stay true.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::{actor, ServerHandle};
use crate::config::{Config, EngineChoice};
use crate::engine::Control;
use crate::Server;

/// A two-worker server with one route.
fn start(engine: EngineChoice) -> ServerHandle {
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine,
        workers: 2,
        ..Config::default()
    };
    Server::new(config)
        .get("/hello", |ctx| {
            ctx.text("Hello, World!");
            Ok(())
        })
        .start()
        .expect("server starts")
}

/// Every worker panics now.
fn crash(handle: &ServerHandle) {
    actor::tell_workers(&handle.core, &|| Control::Crash).expect("workers told");
}

/// One request on `conn`; true when it was answered 200.
fn hello_on(conn: &mut TcpStream) -> bool {
    let sent = conn.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut buf = [0u8; 256];
    let mut got = Vec::new();
    while sent.is_ok() && !got.ends_with(b"Hello, World!") {
        match conn.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    got.starts_with(b"HTTP/1.1 200")
}

/// A fresh connection's request is answered 200.
fn hello(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).is_ok_and(|mut c| {
        c.set_read_timeout(Some(Duration::from_secs(5))).is_ok() && hello_on(&mut c)
    })
}

/// Waits until `cond` holds, at most 5 s.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn crashed_workers_are_rebuilt(engine: EngineChoice) {
    let handle = start(engine);
    let addr = handle.local_addr();
    assert!(hello(addr));

    // Paused, then crashed: the rebuilt workers stay paused.
    handle.pause_accept().expect("paused");
    crash(&handle);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        TcpStream::connect(addr).is_err(),
        "a worker rebuilt while paused does not listen"
    );
    handle.resume_accept().expect("resumed");
    for _ in 0..8 {
        assert!(hello(addr), "served after resume");
    }

    // Crashed while accepting: every rebuilt worker binds the port again.
    crash(&handle);
    assert!(
        eventually(|| (0..8).all(|_| hello(addr))),
        "served again after a crash"
    );
    // A worker counts an event's requests once the event is served, just
    // after its response was written: a snapshot taken the instant the
    // client read the last one may not have it yet.
    let counted = || handle.snapshot().expect("snapshot").requests_total >= 17;
    assert!(
        eventually(counted),
        "{:?}",
        handle.snapshot().expect("snapshot")
    );
    assert_eq!(
        handle.snapshot().expect("snapshot").worker_restarts,
        4,
        "two crashes of two workers counted"
    );
    handle.shutdown(Duration::from_secs(1)).expect("shut down");
}

#[cfg(target_os = "linux")]
#[test]
fn epoll_workers_are_rebuilt_after_a_crash() {
    crashed_workers_are_rebuilt(EngineChoice::Epoll);
}

/// Whether the io_uring tests must skip here (printed).
#[cfg(target_os = "linux")]
fn io_uring_refused() -> bool {
    let why = crate::engine::iouring::refusal();
    if let Some(why) = &why {
        println!("skipped: io-uring: {why}");
    }
    why.is_some()
}

#[cfg(target_os = "linux")]
#[test]
fn io_uring_workers_are_rebuilt_after_a_crash() {
    if !io_uring_refused() {
        crashed_workers_are_rebuilt(EngineChoice::IoUring);
    }
}

#[test]
fn std_workers_are_rebuilt_after_a_crash() {
    crashed_workers_are_rebuilt(EngineChoice::Std);
}

/// On the std engine a connection is a task of its own: the accept loop's
/// crash does not end it.
#[test]
fn std_connections_outlive_their_workers_crash() {
    let handle = start(EngineChoice::Std);
    let mut conn = TcpStream::connect(handle.local_addr()).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    assert!(hello_on(&mut conn));
    crash(&handle);
    std::thread::sleep(Duration::from_millis(100));
    assert!(hello_on(&mut conn), "the open connection is still served");
    handle.shutdown(Duration::from_secs(1)).expect("shut down");
}

/// A worker that keeps crashing past its restart policy (five restarts a
/// minute) stops the server with a clear error, instead of a server that
/// limps on with a worker missing.
fn a_crash_loop_stops_the_server_with_its_reason(engine: EngineChoice) {
    let handle = start(engine);
    let addr = handle.local_addr();
    for _ in 0..6 {
        crash(&handle);
    }
    assert!(
        eventually(|| handle.failure().is_some()),
        "the supervisor gave up"
    );
    let reason = handle.failure().expect("a reason");
    assert!(
        reason.contains("-worker-") && reason.contains("crashed too often"),
        "{reason}"
    );
    assert!(
        eventually(|| TcpStream::connect(addr).is_err()),
        "the server stopped listening"
    );
    assert_eq!(handle.failures().try_recv().ok(), Some(reason));
    handle
        .shutdown(Duration::from_secs(1))
        .expect("shutdown returns");
}

#[cfg(target_os = "linux")]
#[test]
fn an_epoll_crash_loop_stops_the_server() {
    a_crash_loop_stops_the_server_with_its_reason(EngineChoice::Epoll);
}

#[cfg(target_os = "linux")]
#[test]
fn an_io_uring_crash_loop_stops_the_server() {
    if !io_uring_refused() {
        a_crash_loop_stops_the_server_with_its_reason(EngineChoice::IoUring);
    }
}

#[test]
fn a_std_crash_loop_stops_the_server() {
    a_crash_loop_stops_the_server_with_its_reason(EngineChoice::Std);
}

/// The supervisor's tick has the metrics actor sample the counters: the
/// snapshot carries rates over the last second.
#[test]
fn snapshots_carry_rates_from_the_tick() {
    let handle = start(EngineChoice::Std);
    let addr = handle.local_addr();
    let until = Instant::now() + Duration::from_millis(2500);
    let mut served = 0;
    while Instant::now() < until {
        served += u32::from(hello(addr));
    }
    let rates = handle
        .snapshot()
        .expect("snapshot")
        .rates
        .expect("rates after two ticks");
    assert!(served > 0);
    assert!(rates.requests_per_sec > 0.0, "{rates:?}");
    assert!(rates.accepts_per_sec > 0.0, "{rates:?}");
    assert!(rates.bytes_in_per_request > 0.0, "{rates:?}");
    assert_eq!(rates.conns_per_worker.len(), 2);
    assert!((0.5..2.0).contains(&rates.period_secs), "{rates:?}");
    handle.shutdown(Duration::from_secs(1)).expect("shut down");
}
