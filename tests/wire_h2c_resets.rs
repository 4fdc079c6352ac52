//! h2c streams the client resets: their work is dropped (a blocking job not
//! yet started never starts) and a connection never has more blocking jobs
//! in flight than its stream limit, so a flood of resets neither grows the
//! server's threads without bound nor delays other clients. Run on every
//! engine that serves h2c; the others print why they skip.

#[macro_use]
mod common;
mod h2c_support;

use std::time::{Duration, Instant};

use h2c_support::{block_on, fetch, get_headers, h2_client, rst_cancel, threads, PREFACE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The slow async route the resets target: a plain handler that blocks its
/// thread for 3 s.
const SLOW: &str = "/async/sleep?ms=3000";

/// The server's SETTINGS_MAX_CONCURRENT_STREAMS (`H2Settings` default).
const STREAM_LIMIT: usize = 100;

/// How long `/async/hello` may take on a fresh connection after the flood
/// (a server whose blocking pool is full of abandoned jobs takes the 3 s of
/// a job, or more).
const PROMPT: Duration = Duration::from_secs(2);

/// A raw h2c connection whose incoming frames are read and dropped by a
/// task (so the server never waits on us), which ends at EOF or error.
struct Raw {
    /// Where frames are written.
    tx: tokio::net::tcp::OwnedWriteHalf,
    /// The draining task; finished once the server closed the connection.
    drain: tokio::task::JoinHandle<()>,
    /// The next client stream id.
    next: u32,
}

impl Raw {
    async fn open(addr: std::net::SocketAddr) -> Raw {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (mut rx, mut tx) = tcp.into_split();
        let mut hello = PREFACE.to_vec();
        hello.extend_from_slice(&h2c_support::frame(0x4, 0, 0, &[]));
        tx.write_all(&hello).await.expect("preface");
        let drain = tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while matches!(rx.read(&mut buf).await, Ok(n) if n > 0) {}
        });
        Raw { tx, drain, next: 1 }
    }

    /// Writes `pairs` HEADERS + RST_STREAM(CANCEL) pairs for `path` in one
    /// write; false when the connection is gone.
    async fn reset_pairs(&mut self, path: &str, pairs: usize) -> bool {
        let mut bytes = Vec::new();
        for _ in 0..pairs {
            bytes.extend(get_headers(self.next, path));
            bytes.extend(rst_cancel(self.next));
            self.next += 2;
        }
        !self.drain.is_finished() && self.tx.write_all(&bytes).await.is_ok()
    }
}

/// `GET /async/hello` on a fresh connection; how long it took.
async fn hello_latency(addr: std::net::SocketAddr) -> Duration {
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        let mut c = h2_client(addr).await;
        fetch(&mut c, "GET", "/async/hello", None).await
    })
    .await
    .expect("/async/hello answered within 30 s")
    .expect("/async/hello");
    assert_eq!(&answer.body[..], b"Hello, async!");
    started.elapsed()
}

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn a_flood_of_reset_streams_starts_no_blocking_job(engine) {
        let app = app!(engine, &["--protocol", "h2c"]);
        let (addr, pid) = (app.addr(), app.pid());
        let before = threads(pid);
        block_on(async move {
            // 1,200 streams in writes of 10 pairs (never more than 10 open
            // at once); a connection the server ends (rapid-reset guard)
            // is replaced.
            let mut raw = Raw::open(addr).await;
            let mut sent = 0;
            while sent < 1200 {
                if raw.reset_pairs(SLOW, 10).await {
                    sent += 10;
                } else {
                    raw = Raw::open(addr).await;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let after_flood = threads(pid);
            let took = hello_latency(addr).await;
            let peak = after_flood.max(threads(pid));
            println!("threads: {before} before, {peak} after; /async/hello took {took:?}");
            assert!(peak < 64, "{peak} threads after 1,200 reset streams ({before} before)");
            assert!(took < PROMPT, "/async/hello took {took:?} after the flood");
            drop(raw);
        });
    }

    fn blocking_jobs_of_reset_streams_stay_within_the_stream_limit(engine) {
        let app = app!(engine, &["--protocol", "h2c"]);
        let (addr, pid) = (app.addr(), app.pid());
        let before = threads(pid);
        block_on(async move {
            // 10 streams open at a time, each reset 30 ms after its HEADERS:
            // long enough for its blocking job to start, which then blocks
            // for 3 s after the stream is gone. 300 streams in about 1 s.
            let client = h2_client(addr).await;
            let mut tasks = Vec::new();
            for _ in 0..10 {
                let client = client.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..30 {
                        let mut ready = client.clone().ready().await.expect("capacity");
                        let req = http::Request::get(format!("http://localhost{SLOW}"))
                            .body(())
                            .unwrap();
                        let (_resp, mut stream) = ready.send_request(req, true).expect("send");
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        stream.send_reset(h2::Reason::CANCEL);
                    }
                }));
            }
            for t in tasks {
                t.await.expect("reset task");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let after_resets = threads(pid);
            let took = hello_latency(addr).await;
            let peak = after_resets.max(threads(pid));
            println!("threads: {before} before, {peak} after; /async/hello took {took:?}");
            let bound = before + STREAM_LIMIT + 16;
            assert!(
                peak < bound,
                "{peak} threads after 300 late resets ({before} before, bound {bound})"
            );
            assert!(took < PROMPT, "/async/hello took {took:?} after the resets");
        });
    }
}
