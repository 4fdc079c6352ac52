//! Faults on every engine: a worker that crashes outside any handler
//! (`POST /faults/worker-panic`, `--enable-faults`) is rebuilt and serves
//! again, the restart is counted, connections of the other worker are not
//! disturbed, a crash loop stops the server with its reason, clients that
//! reset mid-request or mid-response leave no connection behind, a task
//! serving one connection that crashes (`POST /faults/connection-panic`: a
//! dispatch actor's on the loop engines, the connection's own on std) ends
//! that connection only, handler panics under load answer 500 and disturb
//! nothing, and the fault routes do not exist without the flag.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::App;

/// Keep-alive connections held across the crash: with two workers, the
/// chance that all of them land on one worker is 2^-15.
const HELD: usize = 16;

/// A GET of `/hello` on `conn`; whether it was answered 200.
fn hello_on(conn: &mut TcpStream) -> bool {
    get_on(conn, "/hello", "Hello, World!")
}

/// A GET of `path` on `conn`; whether it was answered 200 with a body
/// ending in `body`.
fn get_on(conn: &mut TcpStream, path: &str, body: &str) -> bool {
    if conn
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.ends_with(body.as_bytes()) {
        match conn.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return false,
        }
    }
    got.starts_with(b"HTTP/1.1 200")
}

/// A keep-alive connection with a read timeout.
fn open(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    c
}

/// Waits until `cond` holds, at most 5 s.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Fresh-connection requests in a loop until stopped: (served, failed).
fn load(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(u64, u64)> {
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    std::thread::spawn(move || {
        while !stop.load(Relaxed) {
            let served = TcpStream::connect(addr).is_ok_and(|mut c| {
                c.set_read_timeout(Some(Duration::from_secs(3))).is_ok() && hello_on(&mut c)
            });
            if served { &ok } else { &failed }.fetch_add(1, Relaxed);
        }
        (ok.load(Relaxed), failed.load(Relaxed))
    })
}

/// Keep-alive connections, each promoted by an async request (on std, each
/// is its own task anyway), repeating `/async/hello` until stopped:
/// (served, failed).
fn promoted_load(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(u64, u64)> {
    std::thread::spawn(move || {
        let (mut ok, mut failed) = (0, 0);
        let mut conn = open(addr);
        while !stop.load(Relaxed) {
            if get_on(&mut conn, "/async/hello", "Hello, async!") {
                ok += 1;
            } else {
                failed += 1;
                conn = open(addr);
            }
        }
        (ok, failed)
    })
}

/// Sends `request` on `conn` and reads until the peer closes: whatever came
/// back, or `None` when the connection was still open after 3 s.
fn send_and_read_to_close(conn: &mut TcpStream, request: &str) -> Option<Vec<u8>> {
    conn.write_all(request.as_bytes()).expect("send");
    let mut got = Vec::new();
    match conn.read_to_end(&mut got) {
        Ok(_) => Some(got),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(got),
        Err(_) => None,
    }
}

/// Asks the worker owning `conn` to crash; the answer comes first.
fn crash_owner(conn: &mut TcpStream) {
    conn.write_all(b"POST /faults/worker-panic HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        .expect("send the fault request");
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.ends_with(b"crashing") {
        match conn.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            other => panic!("no answer to the fault request: {other:?}"),
        }
    }
    assert!(got.starts_with(b"HTTP/1.1 200"), "{got:?}");
}

for_each_engine! {
    fn a_crashed_worker_is_rebuilt_and_the_other_is_undisturbed(engine) {
        let app = app!(engine, &["--enable-faults"]);
        let addr = app.addr();
        let mut held: Vec<TcpStream> = (0..HELD).map(|_| open(addr)).collect();
        for c in &mut held {
            assert!(hello_on(c), "served before the crash");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let background = load(addr, stop.clone());
        std::thread::sleep(Duration::from_millis(200));

        let mut victim = open(addr);
        crash_owner(&mut victim);
        assert!(
            eventually(|| app.metric("worker_restarts") == 1),
            "the restart is counted"
        );
        // Every new connection is served again (each worker listens).
        assert!(eventually(|| (0..8).all(|_| hello_on(&mut open(addr)))));
        stop.store(true, Relaxed);
        let (served, failed) = background.join().expect("load thread");

        let alive = held.iter_mut().map(hello_on).filter(|&ok| ok).count();
        println!(
            "{engine}: {alive}/{HELD} held connections alive after the crash; \
             background load {served} served, {failed} failed"
        );
        assert!(served > 0, "the load ran");
        if engine == "std" {
            // A std worker's connections are tasks of their own: its
            // accept loop's crash ends none of them.
            assert_eq!(alive, HELD);
            assert!(hello_on(&mut victim), "the crashed worker's connection too");
        } else {
            // The crashed worker's connections are closed; the other
            // worker's are untouched.
            assert!(alive >= 1, "the other worker's connections survive");
            assert!(!hello_on(&mut victim), "the crashed worker's connection is closed");
        }
        let m = app.metrics();
        assert_eq!(m["worker_restarts"], 1, "{m}");
    }

    fn a_crash_loop_stops_the_server_with_its_reason(engine) {
        let mut app = app!(engine, &["--enable-faults"]);
        let addr = app.addr();
        // Each crash rebuilds one worker; the sixth of one worker within a
        // minute exhausts its restart policy.
        for _ in 0..40 {
            let Ok(mut c) = TcpStream::connect(addr) else {
                break;
            };
            let _ = c.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = c.write_all(b"POST /faults/worker-panic HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
            let _ = c.read(&mut [0u8; 256]);
            if app.wait_exit(Duration::from_millis(300)).is_some() {
                break;
            }
        }
        let status = app.wait_exit(Duration::from_secs(10)).expect("the server stopped by itself");
        assert_eq!(status.code(), Some(1), "{}", app.stderr());
        let stderr = app.stderr();
        assert!(
            stderr.contains("crashed too often") && stderr.contains("the server stopped"),
            "{stderr}"
        );
    }

    fn clients_that_reset_leave_nothing_behind(engine) {
        let app = app!(engine);
        let addr = app.addr();
        let cases: [(&str, &[u8], bool); 5] = [
            ("mid-head", b"GET /hello HTTP/1.1\r\nHo", false),
            ("mid-body", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nabc", false),
            ("mid-response", b"GET /stream?n=200000 HTTP/1.1\r\nHost: t\r\n\r\n", true),
            ("mid-async-response", b"GET /async/stream?n=100&delay_ms=20 HTTP/1.1\r\nHost: t\r\n\r\n", true),
            ("promoted, mid-head", b"GET /async/hello HTTP/1.1\r\nHost: t\r\n\r\nGET /hel", true),
        ];
        for _ in 0..5 {
            for (what, bytes, read_some) in cases {
                let mut c = TcpStream::connect(addr).expect("connect");
                c.write_all(bytes).expect("send");
                if read_some {
                    let mut buf = [0u8; 1024];
                    let _ = c.set_read_timeout(Some(Duration::from_secs(3)));
                    assert!(c.read(&mut buf).is_ok_and(|n| n > 0), "{what}: some response first");
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                }
                // An RST, not a FIN: linger zero, then close.
                socket2::SockRef::from(&c)
                    .set_linger(Some(Duration::ZERO))
                    .expect("linger");
                drop(c);
            }
        }
        // Every reset connection is closed and counted; only the metrics
        // request's own connection is open.
        assert!(
            eventually(|| app.metric("active_conns") == 1),
            "connections left open: {}",
            app.metrics()
        );
        assert!(hello_on(&mut open(addr)), "the server serves on");
    }

    fn fault_routes_exist_only_with_the_flag(engine) {
        let app: App = app!(engine);
        let mut conn = app.connect();
        conn.send("POST /faults/worker-panic HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(conn.read_response().status, 404);
        assert_eq!(app.metric("worker_restarts"), 0);
    }

    fn a_crashed_connection_task_ends_that_connection_only(engine) {
        let app = app!(engine, &["--enable-faults"]);
        let addr = app.addr();
        // Promoted keep-alive connections held across the crash.
        let mut held: Vec<TcpStream> = (0..HELD).map(|_| open(addr)).collect();
        for c in &mut held {
            assert!(get_on(c, "/async/hello", "Hello, async!"), "served before the crash");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let loads: Vec<_> = (0..4).map(|_| promoted_load(addr, stop.clone())).collect();
        std::thread::sleep(Duration::from_millis(200));

        // A loop worker's own connection has no task of its own to crash.
        let mut inline = open(addr);
        let mut conn = common::Conn::from_stream(inline.try_clone().expect("clone"));
        conn.send("POST /faults/connection-panic HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
        let first = conn.read_response();
        if engine == "std" {
            assert_eq!(first.status, 200, "std: every connection is a task: {first:?}");
            assert!(!hello_on(&mut inline), "the crashed task's connection is closed");
        } else {
            assert_eq!(first.status, 409, "{first:?}");
            assert!(hello_on(&mut inline), "the worker's own connection serves on");
        }

        let mut victim = open(addr);
        assert!(get_on(&mut victim, "/async/hello", "Hello, async!"), "promoted");
        let got = send_and_read_to_close(
            &mut victim,
            "POST /faults/connection-panic HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
        )
        .expect("the crashed task's connection is closed");
        let got = String::from_utf8_lossy(&got);
        assert!(got.is_empty() || got.starts_with("HTTP/1.1 200"), "{got}");

        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Relaxed);
        let (mut served, mut failed) = (0, 0);
        for l in loads {
            let (s, f) = l.join().expect("load thread");
            served += s;
            failed += f;
        }
        println!("{engine}: load around the crash: {served} served, {failed} failed");
        assert!(served > 0, "the load ran");
        assert_eq!(failed, 0, "no other connection was disturbed");
        for c in &mut held {
            assert!(get_on(c, "/async/hello", "Hello, async!"), "held connections serve on");
        }
        // The crashed connection is counted closed: open are the held ones,
        // the inline one (on the loop engines) and the metrics request's.
        let open_now = HELD as u64 + u64::from(engine != "std") + 1;
        assert!(
            eventually(|| app.metric("active_conns") == open_now),
            "expected {open_now} open: {}",
            app.metrics()
        );
        assert_eq!(app.metric("worker_restarts"), 0, "no worker crashed");
        // Every crashed task is counted (on std the inline one was a task too).
        let crashed = if engine == "std" { 2 } else { 1 };
        assert_eq!(app.metric("connection_crashes"), crashed, "{}", app.metrics());
    }

    fn handler_panics_under_load_answer_500_and_disturb_nothing(engine) {
        let app = app!(engine);
        let addr = app.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let loads: Vec<_> = (0..2)
            .map(|_| promoted_load(addr, stop.clone()))
            .chain([load(addr, stop.clone())])
            .collect();
        let mut conn = app.connect();
        for _ in 0..100 {
            conn.send("GET /panic HTTP/1.1\r\nHost: t\r\n\r\n");
            assert_eq!(conn.read_response().status, 500);
        }
        stop.store(true, Relaxed);
        for l in loads {
            let (served, failed) = l.join().expect("load thread");
            assert!(served > 0 && failed == 0, "{served} served, {failed} failed");
        }
        assert_eq!(app.metric("worker_restarts"), 0);
    }
}
