//! h2c abuse limits over the wire (issue #12, CVE-2023-44487 and
//! CVE-2024-27316 among them): each flood is cut or bounded by a limit of
//! `H2Settings` or of the connection (write timeout), the server's memory
//! and descriptors come back, and other connections are served meanwhile.
//! Run on every engine that serves h2c.

#[macro_use]
mod common;
mod h2c_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use h2c_support::raw::{
    code, flag, frame, get, headers, kind, setting, u32_payload, Block, Client, Seen,
};
use h2c_support::{fds, fds_settle, rss_kib};

/// One worker, and a write timeout short enough for a test.
const FLAGS: &[&str] = &[
    "--protocol",
    "h2c",
    "--workers",
    "1",
    "--write-timeout-ms",
    "1000",
];

/// Memory a flood may leave the server holding (KiB): far below what any
/// of these floods would cost a server that buffered it.
const RSS_SLACK_KIB: u64 = 24 * 1024;

/// Samples a process's resident memory every 20 ms until dropped; the
/// highest seen.
struct RssPeak {
    /// Set to stop the sampler.
    stop: Arc<AtomicBool>,
    /// The highest VmRSS seen, in KiB.
    peak: Arc<AtomicU64>,
    /// The sampler.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssPeak {
    fn start(pid: u32) -> RssPeak {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        RssPeak {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the peak in KiB.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the sampler");
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// Reads (briefly) what the server sent so far; the GOAWAY code if one came,
/// and whether the connection is closed.
fn poll_goaway(c: &mut Client) -> (Option<u32>, bool) {
    loop {
        match c.read(Duration::from_millis(1)) {
            Seen::Frame(f) if f.kind == kind::GOAWAY => return (Some(f.code()), false),
            Seen::Frame(_) => {}
            Seen::Closed => return (None, true),
            Seen::Timeout => return (None, false),
        }
    }
}

/// Reads until a GOAWAY or the close (at most 5 s); the GOAWAY's code.
fn final_goaway(c: &mut Client) -> Option<u32> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match c.read_until(until) {
            Seen::Frame(f) if f.kind == kind::GOAWAY => return Some(f.code()),
            Seen::Frame(_) => {}
            Seen::Closed | Seen::Timeout => return None,
        }
    }
}

/// A RST_STREAM(CANCEL).
fn cancel(stream: u32) -> Vec<u8> {
    frame(kind::RST_STREAM, 0, stream, &u32_payload(code::CANCEL))
}

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");

    fn rapid_reset_ends_in_enhance_your_calm_and_others_are_served(engine) {
        let app = app!(engine, FLAGS);
        let (addr, pid) = (app.addr(), app.pid());
        Client::open(addr).serves(1).expect("warm-up");
        let (rss0, fds0) = (rss_kib(pid), fds(pid));
        let peak = RssPeak::start(pid);
        let mut most = 0;
        for round in 0..5 {
            let mut c = Client::open(addr);
            let (mut pairs, mut calm) = (0u32, None);
            while pairs < 10_000 && calm.is_none() {
                let mut batch = Vec::new();
                for _ in 0..50 {
                    let id = 1 + 2 * pairs;
                    batch.extend(get(id, "/hello"));
                    batch.extend(cancel(id));
                    pairs += 1;
                }
                let took = c.try_send(&batch);
                let (code, closed) = poll_goaway(&mut c);
                calm = code;
                if !took || closed {
                    break;
                }
            }
            let calm = calm.or_else(|| final_goaway(&mut c));
            assert_eq!(
                calm,
                Some(code::ENHANCE_YOUR_CALM),
                "round {round}: {pairs} HEADERS+RST_STREAM pairs, then {calm:?}"
            );
            most = most.max(pairs);
            // Meanwhile another client is served.
            Client::open(addr).serves(1).expect("another client during the floods");
        }
        let peak = peak.finish();
        let fds1 = fds_settle(pid, fds0, Duration::from_secs(5));
        println!(
            "{engine}: rapid reset: GOAWAY(ENHANCE_YOUR_CALM) within {most} pairs each of 5 \
             connections; VmRSS {rss0} KiB, peak {peak} KiB, after {} KiB; fds {fds0} -> {fds1}",
            rss_kib(pid)
        );
        assert!(peak < rss0 + RSS_SLACK_KIB, "VmRSS {rss0} -> peak {peak} KiB");
        assert!(fds1 <= fds0, "descriptors {fds0} -> {fds1}");
    }

    fn a_continuation_flood_is_cut_with_the_header_block_bounded(engine) {
        let app = app!(engine, FLAGS);
        let (addr, pid) = (app.addr(), app.pid());
        Client::open(addr).serves(1).expect("warm-up");
        let (rss0, fds0) = (rss_kib(pid), fds(pid));
        let peak = RssPeak::start(pid);
        let mut c = Client::open(addr);
        // Valid fields, so that only the block's size can stop it.
        let mut fields = Block::new();
        while fields.0.len() < 16_000 {
            fields = fields.lit("x-flood", &"v".repeat(100));
        }
        c.send(&headers(1, flag::END_STREAM, &Block::get("/hello")));
        let piece = frame(kind::CONTINUATION, 0, 1, fields.bytes());
        let (mut sent, mut goaway, mut closed) = (0usize, None, false);
        // An endless block: 64 MiB at most, unless the server ends it.
        while sent < 64 << 20 && goaway.is_none() && !closed {
            if !c.try_send(&piece) {
                break;
            }
            sent += piece.len();
            if sent % (1 << 20) < piece.len() {
                (goaway, closed) = poll_goaway(&mut c);
            }
        }
        let goaway = goaway.or_else(|| final_goaway(&mut c));
        let peak = peak.finish();
        let fds1 = fds_settle(pid, fds0, Duration::from_secs(5));
        println!(
            "{engine}: CONTINUATION flood: {goaway:?} after {} KiB of header block sent; \
             VmRSS {rss0} KiB, peak {peak} KiB; fds {fds0} -> {fds1}",
            sent >> 10
        );
        assert!(
            matches!(goaway, Some(code::ENHANCE_YOUR_CALM | code::COMPRESSION_ERROR)),
            "the flood ends in a connection error: {goaway:?} after {sent} bytes"
        );
        assert!(sent < 64 << 20, "the server took all {sent} bytes");
        assert!(peak < rss0 + RSS_SLACK_KIB, "VmRSS {rss0} -> peak {peak} KiB");
        assert!(fds1 <= fds0, "descriptors {fds0} -> {fds1}");
        Client::open(addr).serves(1).expect("a fresh connection after the flood");
    }

    fn streams_over_the_concurrency_limit_are_refused(engine) {
        let app = app!(engine, FLAGS);
        let mut c = Client::open(app.addr());
        let limit = c
            .server_settings
            .iter()
            .rev()
            .find(|(id, _)| *id == setting::MAX_CONCURRENT_STREAMS)
            .map(|&(_, v)| v)
            .expect("SETTINGS_MAX_CONCURRENT_STREAMS is advertised");
        assert_eq!(limit, 100, "the default limit");
        let mut bytes = Vec::new();
        for i in 0..limit + 5 {
            bytes.extend(headers(1 + 2 * i, flag::END_HEADERS, &Block::get("/hello")));
        }
        c.send(&bytes);
        let mut refused = Vec::new();
        while refused.len() < 5 {
            match c.read(Duration::from_secs(3)) {
                Seen::Frame(f) if f.kind == kind::RST_STREAM => {
                    assert_eq!(f.code(), code::REFUSED_STREAM, "{f}");
                    refused.push(f.stream);
                }
                Seen::Frame(f) if f.kind == kind::GOAWAY => panic!("{f}"),
                Seen::Frame(_) => {}
                other => panic!("{other:?} with {} streams refused", refused.len()),
            }
        }
        let over: Vec<u32> = (limit..limit + 5).map(|i| 1 + 2 * i).collect();
        assert_eq!(refused, over, "exactly the streams over the limit are refused");
        // The admitted streams end and are answered; the connection serves on.
        let mut ends = Vec::new();
        for i in 0..limit {
            ends.extend(frame(kind::DATA, flag::END_STREAM, 1 + 2 * i, b""));
        }
        c.send(&ends);
        let admitted: Vec<u32> = (0..limit).map(|i| 1 + 2 * i).collect();
        c.responses(&admitted).expect("the admitted streams are answered");
        c.serves(1001).expect("the connection serves on");
    }

    fn an_oversized_header_list_is_refused_and_the_server_serves_on(engine) {
        let app = app!(engine, FLAGS);
        let addr = app.addr();
        // Just under the 64 KiB default: served.
        let mut c = Client::open(addr);
        send_big_get(&mut c, 1, 60_000);
        let a = c.response(1).expect("a 60 KB header list is served");
        assert_eq!(a.status, 200);
        // Over it: refused (431, or the stream or connection reset).
        let mut c = Client::open(addr);
        send_big_get(&mut c, 1, 70_000);
        let outcome = refusal(&mut c, 1);
        println!("{engine}: a 70 KB header list: {outcome}");
        assert_ne!(outcome, "served", "a 70 KB header list is refused");
        if !outcome.starts_with("GOAWAY") {
            c.serves(3).expect("the connection serves on");
        }
        // Far over it (1 MiB): the connection is cut.
        let mut c = Client::open(addr);
        send_big_get(&mut c, 1, 1 << 20);
        let outcome = refusal(&mut c, 1);
        println!("{engine}: a 1 MiB header list: {outcome}");
        assert!(outcome.starts_with("GOAWAY") || outcome == "closed", "{outcome}");
        Client::open(addr).serves(1).expect("a fresh connection after them");
    }

    fn a_settings_flood_from_a_client_that_never_reads_is_bounded_and_cut(engine) {
        flood_without_reading(engine, &frame(kind::SETTINGS, 0, 0, &[]), "SETTINGS");
    }

    fn a_ping_flood_from_a_client_that_never_reads_is_bounded_and_cut(engine) {
        flood_without_reading(engine, &frame(kind::PING, 0, 0, b"floodpin"), "PING");
    }

    fn a_client_that_never_reads_is_cut_at_the_write_timeout(engine) {
        let app = app!(engine, FLAGS);
        let (addr, pid) = (app.addr(), app.pid());
        Client::open(addr).serves(1).expect("warm-up");
        let rss0 = rss_kib(pid);
        let peak = RssPeak::start(pid);
        // Windows wide open, so only the socket holds the server back.
        let mut c = Client::open_with(addr, &[(setting::INITIAL_WINDOW_SIZE, 0x7fff_ffff)]);
        c.send(&frame(kind::WINDOW_UPDATE, 0, 0, &u32_payload(0x7fff_ffff - 65_535)));
        // The connection window the server opens (65,535 until then).
        let until = Instant::now() + Duration::from_secs(3);
        while c.conn_window_added == 0 && Instant::now() < until {
            let _ = c.read(Duration::from_millis(50));
        }
        let window = 65_535 + c.conn_window_added as usize;
        // Uploads within the server's windows: echoes of 1,000,000 bytes
        // (each within a stream's 1 MiB), then two streamed answers of
        // 50,000 lines: about 6 MB of answers that the client never reads.
        let body = vec![b'e'; 1_000_000];
        let mut req = Vec::new();
        let echoes = (window / body.len()).min(4) as u32;
        for i in 0..echoes {
            let s = 1 + 2 * i;
            req.extend(headers(s, flag::END_HEADERS, &Block::request("POST", "/echo")));
            let mut pieces = body.chunks(16_384).peekable();
            while let Some(piece) = pieces.next() {
                let end = if pieces.peek().is_none() { flag::END_STREAM } else { 0 };
                req.extend(frame(kind::DATA, end, s, piece));
            }
        }
        req.extend(get(1 + 2 * echoes, "/stream?n=50000"));
        req.extend(get(3 + 2 * echoes, "/stream?n=50000"));
        let asked = echoes as usize + 2;
        c.send(&req);
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(200));
        let fds_open = fds(pid);
        let fds1 = fds_settle(pid, fds_open - 1, Duration::from_secs(10));
        let cut_after = started.elapsed();
        let peak = peak.finish();
        // What reached the client, read now: the close comes before the
        // 32 responses end.
        let (mut got, mut ended) = (0usize, 0);
        let closed = loop {
            match c.read(Duration::from_secs(3)) {
                Seen::Frame(f) => {
                    got += f.payload.len() + 9;
                    ended += usize::from(f.kind == kind::DATA && f.flags & flag::END_STREAM != 0);
                }
                Seen::Closed => break true,
                Seen::Timeout => break false,
            }
        };
        println!(
            "{engine}: a client that never reads: cut {cut_after:?} after its requests \
             (write timeout 1 s), {} KiB and {ended} of {asked} responses delivered; \
             VmRSS {rss0} KiB, peak {peak} KiB; fds {fds_open} -> {fds1}",
            got >> 10
        );
        assert!(fds1 < fds_open, "the connection was not cut: fds {fds_open} -> {fds1}");
        assert!(closed, "the client sees the close");
        assert!(ended < asked, "all {asked} responses were delivered: the client was not held back");
        assert!(peak < rss0 + 64 * 1024, "VmRSS {rss0} -> peak {peak} KiB");
        Client::open(addr).serves(1).expect("a fresh connection after it");
    }
}

/// `GET /hello` with one `x-big` field of `size` bytes, in a HEADERS frame
/// and as many CONTINUATIONs as it takes (16 KB frames).
fn send_big_get(c: &mut Client, stream: u32, size: usize) {
    let block = Block::get("/hello").lit("x-big", &"b".repeat(size));
    let mut pieces = block.0.chunks(16_000).peekable();
    let first = pieces.next().expect("a first piece");
    let end = if pieces.peek().is_none() {
        flag::END_HEADERS
    } else {
        0
    };
    let mut bytes = frame(kind::HEADERS, flag::END_STREAM | end, stream, first);
    while let Some(p) = pieces.next() {
        let end = if pieces.peek().is_none() {
            flag::END_HEADERS
        } else {
            0
        };
        bytes.extend(frame(kind::CONTINUATION, end, stream, p));
    }
    // A server that cuts the connection early makes the write fail: fine.
    let _ = c.try_send(&bytes);
}

/// How the server answered a request on `stream` that it should refuse.
fn refusal(c: &mut Client, stream: u32) -> String {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match c.read_until(until) {
            Seen::Frame(f) if f.kind == kind::GOAWAY => return format!("GOAWAY({:#x})", f.code()),
            Seen::Frame(f) if f.kind == kind::RST_STREAM && f.stream == stream => {
                return format!("RST_STREAM({:#x})", f.code())
            }
            Seen::Frame(f) if f.kind == kind::HEADERS && f.stream == stream => {
                let status = f
                    .fields
                    .unwrap_or_default()
                    .into_iter()
                    .find(|(n, _)| n == ":status")
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                return if status == "200" {
                    "served".into()
                } else {
                    format!("status {status}")
                };
            }
            Seen::Frame(_) => {}
            Seen::Closed => return "closed".into(),
            Seen::Timeout => return "no answer".into(),
        }
    }
}

/// Writes `one` (a control frame the server must answer) over and over
/// without reading: the server's memory stays bounded and the connection is
/// cut once its answers wait longer than the write timeout.
fn flood_without_reading(engine: &str, one: &[u8], what: &str) {
    let app = app!(engine, FLAGS);
    let (addr, pid) = (app.addr(), app.pid());
    Client::open(addr).serves(1).expect("warm-up");
    let rss0 = rss_kib(pid);
    let peak = RssPeak::start(pid);
    let mut c = Client::open(addr);
    std::thread::sleep(Duration::from_millis(100));
    let fds0 = fds(pid);
    let batch: Vec<u8> = one.repeat(1000);
    let started = Instant::now();
    let mut sent = 0usize;
    // 64 MiB at most; a write the server does not take within 2 s fails.
    while sent < 64 << 20 && started.elapsed() < Duration::from_secs(20) {
        if !c.try_send(&batch) {
            break;
        }
        sent += batch.len();
    }
    let stopped = started.elapsed();
    let fds1 = fds_settle(pid, fds0 - 1, Duration::from_secs(10));
    let cut = started.elapsed();
    let peak = peak.finish();
    println!(
        "{engine}: {what} flood without reading: the server stopped taking it after {} KiB \
         ({stopped:?}), cut after {cut:?}; VmRSS {rss0} KiB, peak {peak} KiB; \
         fds {fds0} -> {fds1}",
        sent >> 10
    );
    assert!(
        sent < 64 << 20,
        "the server answered all {sent} bytes of {what}"
    );
    assert!(
        peak < rss0 + RSS_SLACK_KIB,
        "VmRSS {rss0} -> peak {peak} KiB"
    );
    assert!(
        fds1 < fds0,
        "the connection was not cut: fds {fds0} -> {fds1}"
    );
    Client::open(addr)
        .serves(1)
        .expect("a fresh connection after the flood");
}
