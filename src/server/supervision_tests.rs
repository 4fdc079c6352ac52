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
    let snap = handle.snapshot().expect("snapshot");
    assert!(snap.requests_total >= 17, "{snap:?}");
    assert_eq!(
        snap.worker_restarts, 4,
        "two crashes of two workers counted"
    );
    handle.shutdown(Duration::from_secs(1)).expect("shut down");
}

#[cfg(target_os = "linux")]
#[test]
fn epoll_workers_are_rebuilt_after_a_crash() {
    crashed_workers_are_rebuilt(EngineChoice::Epoll);
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
