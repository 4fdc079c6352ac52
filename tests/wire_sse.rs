//! Server-sent events over HTTP/1.1 on every engine (`GET /sse`): the
//! `text/event-stream` head comes first, each event leaves when it is sent
//! (not when the stream ends), `Last-Event-ID` resumes after the given id,
//! and a client that leaves stops the stream without hurting the server.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// `GET path` (with `extra` header lines) on a fresh raw connection.
fn open(app: &common::App, path: &str, extra: &str) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(app.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n"
    )
    .expect("send");
    s
}

/// Reads until `needle` has arrived; what arrived, and when.
fn until(s: &mut std::net::TcpStream, got: &mut Vec<u8>, needle: &str) -> Instant {
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(got).contains(needle) {
        let n = s.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "closed before {needle:?}: {:?}",
            String::from_utf8_lossy(got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    Instant::now()
}

for_each_engine! {
    fn events_leave_as_they_are_sent(engine) {
        let app = app!(engine);
        let started = Instant::now();
        let mut s = open(&app, "/sse?n=3&delay_ms=400", "");
        let mut got = Vec::new();
        until(&mut s, &mut got, "data: event 0\n\n");
        let head = String::from_utf8_lossy(&got).to_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("content-type: text/event-stream\r\n"), "{head}");
        assert!(head.contains("cache-control: no-cache\r\n"), "{head}");
        assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
        let first = started.elapsed();
        until(&mut s, &mut got, "data: event 2\n\n");
        let last = started.elapsed();
        assert!(
            first < Duration::from_millis(350) && last >= Duration::from_millis(800),
            "events spaced as sent: first after {first:?}, last after {last:?}"
        );
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        got.extend_from_slice(&rest);
        let text = String::from_utf8_lossy(&got);
        for i in 0..3 {
            assert!(text.contains(&format!("id: {i}\ndata: event {i}\n\n")), "{text}");
        }
        assert!(text.ends_with("0\r\n\r\n"), "the stream ends with the last chunk: {text:?}");
    }

    fn last_event_id_resumes_after_it(engine) {
        let app = app!(engine);
        let mut s = open(&app, "/sse?n=4&delay_ms=10", "Last-Event-ID: 1\r\n");
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let text = String::from_utf8_lossy(&got);
        assert!(text.contains("id: 2\ndata: event 2\n\n"), "{text}");
        assert!(text.contains("id: 3\ndata: event 3\n\n"), "{text}");
        assert!(!text.contains("event 1"), "{text}");
        assert!(!text.contains("event 0"), "{text}");
    }

    fn a_client_that_leaves_stops_the_stream(engine) {
        let app = app!(engine);
        let mut s = open(&app, "/sse?n=1000&delay_ms=5", "");
        let mut got = Vec::new();
        until(&mut s, &mut got, "data: event 3\n\n");
        drop(s);
        // The stream notices at its next event; the connection is counted
        // closed and the server serves on.
        let closed = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            app.metric("active_conns") <= 1
        });
        assert!(closed, "the abandoned stream's connection is closed");
        assert_eq!(app.get("/hello").status, 200);
    }
}
