//! Serving an inherited listening socket, on every engine: `--listen-fd N`,
//! systemd socket activation (`LISTEN_FDS`/`LISTEN_PID`), a descriptor that
//! is not a listener refused with its reason, and a handover — a second
//! process starts on the socket the first serves, the first shuts down —
//! under steady load with zero failed requests and zero refused
//! connections.
#![cfg(unix)]

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use common::{binary, App};

/// A listening socket the test holds, as a supervisor would, inheritable by
/// the processes it starts.
fn inheritable_listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    socket2::SockRef::from(&l)
        .set_cloexec(false)
        .expect("inheritable");
    l
}

/// One GET of /hello on a fresh connection; whether it was answered 200.
fn hello(addr: SocketAddr) -> Result<bool, std::io::Error> {
    let mut c = TcpStream::connect(addr)?;
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    c.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")?;
    let mut got = Vec::new();
    c.read_to_end(&mut got)?;
    Ok(got.starts_with(b"HTTP/1.1 200") && got.ends_with(b"Hello, World!"))
}

/// Starts the app through `bash -c script` and waits for its address line.
fn spawn_sh(script: &str) -> (Child, String) {
    // bash, not sh: dash takes single-digit descriptors only in `3<&N`.
    let mut child = Command::new("bash")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bash");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    (child, line)
}

for_each_engine! {
    fn serves_the_descriptor_it_is_given(engine) {
        let l = inheritable_listener();
        let addr = l.local_addr().unwrap();
        let fd = l.as_raw_fd().to_string();
        let app: App = app!(engine, &["--listen-fd", &fd]);
        assert_eq!(app.addr(), addr, "it listens where the socket is");
        for _ in 0..4 {
            assert!(hello(addr).expect("served"));
        }
    }

    fn systemd_socket_activation(engine) {
        let l = inheritable_listener();
        let addr = l.local_addr().unwrap();
        let script = format!(
            "exec 3<&{fd}; export LISTEN_PID=$$ LISTEN_FDS=1; exec {bin} --engine {engine} --workers 2",
            fd = l.as_raw_fd(),
            bin = binary().display(),
        );
        let (mut child, line) = spawn_sh(&script);
        if line.is_empty() {
            // It exited: a refused engine is a skip, as in `app!`.
            let mut stderr = String::new();
            let _ = child.stderr.take().expect("stderr").read_to_string(&mut stderr);
            let _ = child.wait();
            assert!(stderr.contains("is not available"), "the app did not start: {stderr}");
            println!("skipped: {engine}: {}", stderr.trim());
            return;
        }
        assert_eq!(line.trim(), format!("listening on {addr}"));
        assert!(hello(addr).expect("served"));
        let _ = child.kill();
        let _ = child.wait();
    }

    fn a_descriptor_that_is_not_a_listener_is_refused(engine) {
        let l = inheritable_listener();
        let conn = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        socket2::SockRef::from(&conn).set_cloexec(false).unwrap();
        let out = Command::new(binary())
            .args(["--engine", engine, "--listen-fd", &conn.as_raw_fd().to_string()])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("is not available") {
            println!("skipped: {engine}: {}", stderr.trim());
            return;
        }
        assert!(stderr.contains("not a listening socket"), "{stderr}");
        let out = Command::new(binary())
            .args(["--engine", engine, "--listen-fd", "999"])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
    }

    fn a_handover_under_load_fails_nothing(engine) {
        let l = inheritable_listener();
        let addr = l.local_addr().unwrap();
        let fd = l.as_raw_fd().to_string();
        let Some(first) = common::start_or_skip(engine, &["--listen-fd", &fd]) else {
            return;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let load: Vec<_> = (0..4)
            .map(|_| {
                let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
                std::thread::spawn(move || {
                    while !stop.load(Relaxed) {
                        match hello(addr) {
                            Ok(true) => ok.fetch_add(1, Relaxed),
                            _ => failed.fetch_add(1, Relaxed),
                        };
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        // The second process starts on the same socket, then the first is
        // told to stop; the socket never closes, so no client is refused.
        let Some(second) = common::start_or_skip(engine, &["--listen-fd", &fd]) else {
            return;
        };
        std::thread::sleep(Duration::from_millis(300));
        let before = ok.load(Relaxed);
        first.terminate();
        let mut first = first;
        assert!(first.wait_exit(Duration::from_secs(15)).is_some_and(|s| s.success()));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Relaxed);
        for t in load {
            t.join().unwrap();
        }
        let (ok, failed) = (ok.load(Relaxed), failed.load(Relaxed));
        println!("{engine}: handover under load: {ok} served, {failed} failed or refused");
        assert_eq!(failed, 0);
        assert!(ok > before, "served after the first process left");
        assert!(second.metric("requests_total") > 0, "the second process served");
    }
}
