//! Per-stream dispatch on one h2c connection, on every engine: sync and
//! async streams interleaved keep their own `x-dispatch`, a blocked async
//! stream does not hold up a sync one, and a connection that opens and
//! resets a thousand streams is cut off by the rapid-reset guard while the
//! worker serves everyone else.

#[allow(unused_macros)]
#[macro_use]
mod common;
mod h2c_support;

use std::time::Duration;

use bytes::Bytes;
use h2c_support::{block_on, fetch, frame, get_headers, h2_client, rst_cancel, App, PREFACE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request and what must answer it: method, path, body, `x-dispatch`,
/// response body.
type Case = (
    &'static str,
    &'static str,
    Option<&'static [u8]>,
    &'static str,
    &'static [u8],
);

/// GOAWAY's frame type.
const GOAWAY: u8 = 0x7;

/// ENHANCE_YOUR_CALM (RFC 9113 §7).
const ENHANCE_YOUR_CALM: u32 = 0xb;

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn interleaved_sync_and_async_streams_keep_their_own_dispatch(engine) {
        let app = App::on(engine, &["--workers", "1"]);
        block_on(async move {
            let c = h2_client(app.addr).await;
            // Sync with and without a body (read on the worker first), a
            // blocking async handler, a future handler, an async group.
            let cases: [Case; 6] = [
                ("GET", "/hello", None, "inline", b"Hello, World!"),
                ("GET", "/async/sleep?ms=30", None, "async", b"slept:30"),
                ("POST", "/echo", Some(b"inline body"), "inline", b"inline body"),
                ("GET", "/async/future?ms=10", None, "async", b"awaited:10"),
                ("GET", "/users/7", None, "inline", b"user:7"),
                ("GET", "/api/items", None, "async", b"items"),
            ];
            let mut tasks = Vec::new();
            for round in 0..10 {
                for (i, &(method, path, body, want, answer)) in cases.iter().enumerate() {
                    let mut c = c.clone();
                    tasks.push(tokio::spawn(async move {
                        let a = fetch(&mut c, method, path, body.map(Bytes::from_static))
                            .await
                            .unwrap_or_else(|e| panic!("round {round} #{i} {path}: {e}"));
                        assert_eq!(a.head.status, 200, "{path}");
                        assert_eq!(a.header("x-dispatch"), want, "{path}");
                        assert_eq!(&a.body[..], answer, "{path}");
                    }));
                }
            }
            for t in tasks {
                t.await.expect("stream task");
            }
        });
    }

    fn a_blocked_async_stream_does_not_delay_a_sync_one(engine) {
        let app = App::on(engine, &["--workers", "1"]);
        block_on(async move {
            let c = h2_client(app.addr).await;
            let blocked = {
                let mut c = c.clone();
                tokio::spawn(async move { fetch(&mut c, "GET", "/async/sleep?ms=2000", None).await })
            };
            // Let the blocked stream reach its handler.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut sync = c.clone();
            for path in ["/hello", "/users/1", "/sync/sleep?ms=1"] {
                let a = fetch(&mut sync, "GET", path, None).await.expect(path);
                assert_eq!(a.header("x-dispatch"), "inline", "{path}");
                assert!(
                    !blocked.is_finished(),
                    "{path} was answered only after the blocked async stream"
                );
            }
            let echoed = fetch(&mut sync, "POST", "/echo", Some(Bytes::from_static(b"x")))
                .await
                .expect("/echo");
            assert_eq!(&echoed.body[..], b"x");
            assert!(!blocked.is_finished(), "/echo waited for the blocked stream");
            let slow = blocked.await.unwrap().expect("the blocked stream completes");
            assert_eq!(&slow.body[..], b"slept:2000");
            assert_eq!(slow.header("x-dispatch"), "async");
        });
    }

    fn a_thousand_reset_streams_end_their_connection_not_the_worker(engine) {
        let app = App::on(engine, &["--workers", "1", "--protocol", "h2c"]);
        block_on(async move {
            let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
            let mut hello = PREFACE.to_vec();
            hello.extend(frame(0x4, 0, 0, &[]));
            for i in 0..1000u32 {
                let id = 2 * i + 1;
                hello.extend(get_headers(id, "/hello"));
                hello.extend(rst_cancel(id));
            }
            // The server may stop reading once it sent GOAWAY.
            let _ = tcp.write_all(&hello).await;
            let code = tokio::time::timeout(Duration::from_secs(10), goaway_code(&mut tcp))
                .await
                .expect("a GOAWAY within 10 s");
            assert_eq!(code, Some(ENHANCE_YOUR_CALM), "rapid-reset guard");
            // The same (only) worker serves a fresh connection at once.
            let mut other = h2_client(app.addr).await;
            for path in ["/hello", "/async/hello"] {
                let a = tokio::time::timeout(
                    Duration::from_secs(5),
                    fetch(&mut other, "GET", path, None),
                )
                .await
                .expect("served in time")
                .expect(path);
                assert_eq!(a.head.status, 200, "{path}");
            }
        });
    }
}

/// Reads frames until a GOAWAY; its error code (none if the connection
/// ended without one).
async fn goaway_code(s: &mut TcpStream) -> Option<u32> {
    loop {
        let mut h = [0u8; 9];
        s.read_exact(&mut h).await.ok()?;
        let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await.ok()?;
        if h[3] == GOAWAY && payload.len() >= 8 {
            return Some(u32::from_be_bytes([
                payload[4], payload[5], payload[6], payload[7],
            ]));
        }
    }
}
