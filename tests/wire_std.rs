//! HTTP/1.1 over real sockets against the conformance app on the std engine:
//! where handlers run, pipelining order, keep-alive, and a malformed request.

#[allow(unused_macros)]
#[macro_use]
mod common;
mod h2c_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use h2c_support::App;

/// One parsed response.
struct Reply {
    /// Status code.
    status: u16,
    /// Header lines, lower-cased names.
    headers: Vec<(String, String)>,
    /// Body.
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one `content-length` framed response from `s`, keeping extra bytes
/// in `buf`.
fn read_reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Reply> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..head_end + len].to_vec();
    buf.drain(..head_end + len);
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn connect(app: &App) -> TcpStream {
    let s = TcpStream::connect(app.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

#[test]
fn sync_routes_run_inline_and_async_routes_off_the_arbiter() {
    let app = App::std(&[]);
    let mut s = connect(&app);
    let mut buf = Vec::new();
    for (path, dispatch, body) in [
        ("/hello", "inline", "Hello, World!"),
        ("/async/hello", "async", "Hello, async!"),
        ("/async/future?ms=5", "async", "awaited:5"),
        // Not sticky on the std engine: the next sync route is inline again.
        ("/hello", "inline", "Hello, World!"),
    ] {
        s.write_all(get(path).as_bytes()).unwrap();
        let r = read_reply(&mut s, &mut buf).expect(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("x-dispatch"), Some(dispatch), "{path}");
        assert_eq!(r.header("x-engine"), Some("std"), "{path}");
        assert_eq!(r.body, body.as_bytes(), "{path}");
    }
}

#[test]
fn pipelined_mix_comes_back_in_order() {
    let app = App::std(&[]);
    let mut s = connect(&app);
    let paths = [
        "/async/sleep?ms=30",
        "/hello",
        "/async/future?ms=10",
        "/users/7",
        "/async/hello",
        "/json",
    ];
    let all: String = paths.iter().map(|p| get(p)).collect();
    s.write_all(all.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let want: [&[u8]; 6] = [
        b"slept:30",
        b"Hello, World!",
        b"awaited:10",
        b"user:7",
        b"Hello, async!",
        br#"{"message":"Hello, World!"}"#,
    ];
    for (path, body) in paths.iter().zip(want) {
        let r = read_reply(&mut s, &mut buf).expect(path);
        assert_eq!(r.body, body, "{path}");
    }
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let app = App::std(&[]);
    let mut s = connect(&app);
    let mut buf = Vec::new();
    for i in 0..50 {
        s.write_all(get(&format!("/users/{i}")).as_bytes()).unwrap();
        let r = read_reply(&mut s, &mut buf).unwrap();
        assert_eq!(r.body, format!("user:{i}").as_bytes());
        assert_ne!(r.header("connection"), Some("close"));
    }
}

#[test]
fn a_malformed_request_gets_400_and_the_connection_closes() {
    let app = App::std(&[]);
    let mut s = connect(&app);
    s.write_all(b"GET /hello HTTP/1.1\r\nHost localhost\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let r = read_reply(&mut s, &mut buf).unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.header("connection"), Some("close"));
    let mut rest = Vec::new();
    let n = s.read_to_end(&mut rest).unwrap();
    assert_eq!(n, 0, "the connection closes after the 400");
}

#[test]
fn garbage_first_bytes_get_400_and_a_close_on_auto() {
    let app = App::std(&[]);
    let mut s = connect(&app);
    s.write_all(b"\x16\x03\x01\x00\x05hello\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        rest.starts_with(b"HTTP/1.1 400 "),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
}
