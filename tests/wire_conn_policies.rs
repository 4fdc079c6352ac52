//! The connection policies every driver shares, seen from outside: large
//! responses arrive whole, a close never destroys a response, the write
//! deadline follows progress, output stays bounded for a client that never
//! reads, live bodies leave piece by piece, request bodies have a total
//! deadline. Each runs on every engine, and on a promoted connection.

#[macro_use]
mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::App;

/// A request line with `Connection: close`.
fn get_close(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

/// A connection, promoted first when asked (an async route, answered).
fn open(app: &App, promote: bool) -> TcpStream {
    let mut conn = app.connect();
    if promote {
        let resp = conn.get("/async/hello");
        assert_eq!(resp.status, 200);
    }
    let s = conn.stream().try_clone().expect("clone");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    s
}

/// Reads until EOF, an error or `deadline`; returns the bytes and the error.
fn read_all(
    s: &mut TcpStream,
    deadline: Duration,
    pace: Option<Duration>,
) -> (Vec<u8>, Option<ErrorKind>) {
    let until = Instant::now() + deadline;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while Instant::now() < until {
        match s.read(&mut buf) {
            Ok(0) => return (got, None),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return (got, Some(e.kind())),
        }
        if let Some(p) = pace {
            std::thread::sleep(p);
        }
    }
    (got, Some(ErrorKind::TimedOut))
}

/// The body of a chunked response, with its last chunk required.
fn dechunk(resp: &[u8]) -> Vec<u8> {
    let head_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&resp[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut at = head_end;
    let mut body = Vec::new();
    loop {
        let line_end = at
            + resp[at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .unwrap_or_else(|| panic!("chunk size line cut at byte {at} of {}", resp.len()));
        let size = usize::from_str_radix(std::str::from_utf8(&resp[at..line_end]).unwrap(), 16)
            .expect("hex chunk size");
        at = line_end + 2;
        if size == 0 {
            assert!(resp[at..].starts_with(b"\r\n"), "the body's end");
            return body;
        }
        assert!(
            at + size + 2 <= resp.len(),
            "chunk cut at byte {at} of {}",
            resp.len()
        );
        body.extend_from_slice(&resp[at..at + size]);
        at += size + 2;
    }
}

/// The body `/stream?n=K` sends.
fn stream_body_len(k: usize) -> usize {
    (0..k).map(|i| format!("chunk {i}\n").len()).sum()
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    proc_status_bytes(pid, "VmRSS:")
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    proc_status_bytes(pid, "VmHWM:")
}

/// A size line of `/proc/PID/status`, in bytes.
fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

for_each_engine! {
    fn a_reading_client_gets_a_response_four_times_the_output_cap(engine) {
        let app = app!(engine);
        for promote in [false, true] {
            let mut s = open(&app, promote);
            s.write_all(get_close("/stream?n=1000000").as_bytes()).unwrap();
            let (got, err) = read_all(&mut s, Duration::from_secs(60), None);
            assert_eq!(err, None, "promoted={promote}: clean EOF after {} bytes", got.len());
            let body = dechunk(&got);
            assert_eq!(body.len(), stream_body_len(1_000_000), "promoted={promote}");
            assert!(body.ends_with(b"chunk 999999\n"));
        }
    }

    fn a_close_with_unread_input_never_destroys_the_response(engine) {
        let app = app!(engine);
        for promote in [false, true] {
            let mut s = open(&app, promote);
            let mut req = get_close("/stream?n=200000").into_bytes();
            req.extend(std::iter::repeat_n(b'j', 100 * 1024));
            s.write_all(&req).unwrap();
            std::thread::sleep(Duration::from_millis(500));
            let (got, err) = read_all(&mut s, Duration::from_secs(30), None);
            assert_eq!(err, None, "promoted={promote}: clean EOF after {} bytes", got.len());
            assert_eq!(dechunk(&got).len(), stream_body_len(200_000));
        }
    }

    fn write_progress_renews_the_write_deadline_and_a_stalled_reader_is_cut(engine) {
        // 2 s: well past a test thread's scheduling stalls on a busy machine.
        let app = app!(engine, &["--write-timeout-ms", "2000"]);
        for promote in [false, true] {
            // 17.9 MB read at ~3 MB/s: well past the write timeout in all.
            let mut s = open(&app, promote);
            s.write_all(get_close("/stream?n=1000000").as_bytes()).unwrap();
            let pace = Some(Duration::from_millis(20));
            let (got, err) = read_all(&mut s, Duration::from_secs(60), pace);
            assert_eq!(err, None, "promoted={promote}: cut after {} bytes", got.len());
            assert_eq!(dechunk(&got).len(), stream_body_len(1_000_000));
            // A client that stops reading is cut once the timeout passes.
            let mut s = open(&app, promote);
            s.write_all(get_close("/stream?n=1000000").as_bytes()).unwrap();
            std::thread::sleep(Duration::from_secs(5));
            let (got, _) = read_all(&mut s, Duration::from_secs(20), None);
            assert!(
                got.len() < stream_body_len(1_000_000),
                "promoted={promote}: a stalled reader still got all {} bytes",
                got.len()
            );
        }
    }

    fn output_stays_bounded_for_a_pipelining_client_that_never_reads(engine) {
        let app = app!(engine);
        for promote in [false, true] {
            let mut s = open(&app, promote);
            let before = rss(app.pid());
            let one = "GET /stream?n=20000 HTTP/1.1\r\nHost: x\r\n\r\n";
            let batch = one.repeat(16 * 1024 / one.len());
            s.write_all(batch.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            let grew = rss(app.pid()).saturating_sub(before);
            assert!(
                grew < 48 << 20,
                "promoted={promote}: {} requests of ~350 KB grew the server by {} MiB",
                16 * 1024 / one.len(),
                grew >> 20
            );
            // Still answering, in order, once the client reads.
            let (got, _) = read_all(&mut s, Duration::from_millis(300), None);
            assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "promoted={promote}");
        }
    }

    fn a_live_body_leaves_piece_by_piece(engine) {
        let app = app!(engine);
        for promote in [false, true] {
            let mut s = open(&app, promote);
            // The second piece is produced 4 s after the first: the first
            // must arrive long before it.
            s.write_all(get_close("/async/stream?n=2&delay_ms=4000").as_bytes()).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(2500))).unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(8).any(|w| w == b"chunk 0\n") {
                match s.read(&mut buf) {
                    Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                    other => panic!(
                        "promoted={promote}: the first piece did not leave on its own: {other:?} after {:?}",
                        String::from_utf8_lossy(&got)
                    ),
                }
            }
            assert!(!got.windows(8).any(|w| w == b"chunk 1\n"));
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let (rest, err) = read_all(&mut s, Duration::from_secs(10), None);
            assert_eq!(err, None);
            got.extend_from_slice(&rest);
            assert_eq!(dechunk(&got), b"chunk 0\nchunk 1\n");
        }
    }

    fn a_request_body_trickling_past_the_body_timeout_is_cut(engine) {
        let app = app!(engine, &["--body-timeout-ms", "1000", "--idle-timeout-ms", "5000"]);
        for promote in [false, true] {
        let mut s = open(&app, promote);
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n").unwrap();
        let started = Instant::now();
        let mut closed = false;
        // One byte every 200 ms renews the 5 s inactivity clock, but the
        // body's 1 s total runs out; 100 bytes would take 20 s.
        while started.elapsed() < Duration::from_secs(8) {
            if s.write_all(b"x").is_err() {
                closed = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            s.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 64];
            let r = s.read(&mut buf);
            s.set_nonblocking(false).unwrap();
            match r {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Err(e) if e.kind() != ErrorKind::WouldBlock => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
        assert!(closed, "promoted={promote}: the trickling upload was still open after {:?}", started.elapsed());
        }
    }

    fn a_large_upload_is_held_once(engine) {
        // Each case on a fresh server: the peak resident size only grows.
        for promote in [false, true] {
            // Content-Length: the buffer grows to the body, not past it
            // (doubling held 128 MiB for 90).
            let app = app!(engine, &["--max-body", "200000000"]);
            let mut s = open(&app, promote);
            let before = peak_rss(app.pid());
            let n = 90 << 20;
            let head = format!("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n");
            s.write_all(head.as_bytes()).unwrap();
            let piece = vec![b'u'; 1 << 20];
            for _ in 0..90 {
                s.write_all(&piece).unwrap();
            }
            assert_eq!(common::Conn::from_stream(s).read_response().status, 405);
            let grew = peak_rss(app.pid()).saturating_sub(before);
            println!("{engine} promoted={promote}: 90 MiB Content-Length body: peak +{} MiB", grew >> 20);
            assert!(grew < 100 << 20, "promoted={promote}: peak grew {} MiB", grew >> 20);
            drop(app);
            // Chunked: raw bytes are dropped once decoded (raw and decoded
            // copies held 109 MiB for 45).
            let app = app!(engine, &["--max-body", "200000000"]);
            let mut s = open(&app, promote);
            let before = peak_rss(app.pid());
            s.write_all(b"POST /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap();
            let size_line = format!("{:x}\r\n", 1 << 20).into_bytes();
            let chunk = [size_line, vec![b'c'; 1 << 20], b"\r\n".to_vec()].concat();
            for _ in 0..45 {
                s.write_all(&chunk).unwrap();
            }
            s.write_all(b"0\r\n\r\n").unwrap();
            assert_eq!(common::Conn::from_stream(s).read_response().status, 405);
            let grew = peak_rss(app.pid()).saturating_sub(before);
            println!("{engine} promoted={promote}: 45 MiB chunked body: peak +{} MiB", grew >> 20);
            assert!(grew < 80 << 20, "promoted={promote}: peak grew {} MiB", grew >> 20);
        }
    }

    fn a_sync_route_pipelined_behind_an_async_one_runs_where_it_should(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(format!(
            "{}{}",
            common::get("/async/sleep?ms=200"),
            common::get("/users/2")
        ));
        let first = conn.read_response();
        assert_eq!(first.text(), "slept:200");
        assert_eq!(first.dispatch(), "async");
        let second = conn.read_response();
        assert_eq!(second.text(), "user:2");
        // std serves each request where its route says; epoll promoted the
        // connection for good.
        let expected = if engine == "std" { "inline" } else { "async" };
        assert_eq!(second.dispatch(), expected);
    }
}
