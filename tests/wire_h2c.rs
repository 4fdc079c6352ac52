//! h2c over real sockets against the conformance app, one body per engine:
//! every contract route, per-stream dispatch, flow control, the upgrade from
//! HTTP/1.1, abuse (rapid reset, oversized header lists), a preface split
//! over many writes, and graceful shutdown with a stream in flight.

#[allow(unused_macros)]
#[macro_use]
mod common;
mod h2c_support;

use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;
use h2c_support::{fetch, h2_client, App};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The client preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

async fn every_contract_route_answers_over_h2c(engine: &str) {
    let app = App::on(engine, &[]);
    let mut c = h2_client(app.addr).await;
    let cases: &[(&str, &str, u16, &str, &str)] = &[
        ("GET", "/hello", 200, "inline", "Hello, World!"),
        (
            "GET",
            "/json",
            200,
            "inline",
            r#"{"message":"Hello, World!"}"#,
        ),
        ("GET", "/users/42", 200, "inline", "user:42"),
        ("GET", "/files/a/b.txt", 200, "inline", "file:a/b.txt"),
        ("GET", "/sync/sleep?ms=1", 200, "inline", "slept:1"),
        ("GET", "/async/hello", 200, "async", "Hello, async!"),
        ("GET", "/async/sleep?ms=1", 200, "async", "slept:1"),
        ("GET", "/async/future?ms=1", 200, "async", "awaited:1"),
        ("GET", "/api/items", 200, "async", "items"),
        ("GET", "/api/cached", 200, "inline", "cached"),
        ("GET", "/api/v2/items", 200, "async", "items-v2"),
        ("GET", "/default", 200, "inline", "default"),
        (
            "GET",
            "/stream?n=3",
            200,
            "inline",
            "chunk 0\nchunk 1\nchunk 2\n",
        ),
        ("GET", "/panic", 500, "", ""),
        ("GET", "/error", 418, "inline", "teapot"),
    ];
    for &(method, path, status, dispatch, body) in cases {
        let a = fetch(&mut c, method, path, None).await.expect(path);
        assert_eq!(a.head.status.as_u16(), status, "{path}");
        assert_eq!(a.header("x-engine"), engine, "{path}");
        if !dispatch.is_empty() {
            assert_eq!(a.header("x-dispatch"), dispatch, "{path}");
        }
        if !body.is_empty() {
            assert_eq!(&a.body[..], body.as_bytes(), "{path}");
        }
    }
    // A body the handler wrote whole is one run of DATA frames, not one
    // tiny frame per chunk (h2 clients count those as abuse: 2,000 of them
    // made h2's own client answer GOAWAY ENHANCE_YOUR_CALM).
    let stream = fetch(&mut c, "GET", "/stream?n=2000", None).await.unwrap();
    assert_eq!(
        stream.body.len(),
        (0..2000)
            .map(|i| format!("chunk {i}\n").len())
            .sum::<usize>()
    );
    assert_eq!(
        stream.frames,
        2,
        "{} bytes in 16 KiB frames",
        stream.body.len()
    );
    let echo = fetch(&mut c, "POST", "/echo", Some(Bytes::from_static(b"ping")))
        .await
        .unwrap();
    assert_eq!(&echo.body[..], b"ping");
    assert_eq!(echo.header("content-type"), "application/octet-stream");
    let head = fetch(&mut c, "HEAD", "/hello", None).await.unwrap();
    assert_eq!(head.head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), "13");
    let missing = fetch(&mut c, "GET", "/nope", None).await.unwrap();
    assert_eq!(missing.head.status, 404);
    let wrong = fetch(&mut c, "POST", "/hello", Some(Bytes::new()))
        .await
        .unwrap();
    assert_eq!(wrong.head.status, 405);
    assert!(wrong.header("allow").contains("GET"));
    let reg = fetch(
        &mut c,
        "POST",
        "/routes?path=/dyn/h2&mode=async",
        Some(Bytes::new()),
    )
    .await
    .unwrap();
    assert_eq!(reg.head.status, 201);
    let dynamic = fetch(&mut c, "GET", "/dyn/h2", None).await.unwrap();
    assert_eq!(&dynamic.body[..], b"dyn:h2");
    assert_eq!(dynamic.header("x-dispatch"), "async");
    let metrics = fetch(&mut c, "GET", "/metrics", None).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&metrics.body).unwrap();
    assert_eq!(json["engine"], engine);
    assert!(json["requests_total"].as_u64().unwrap() > 10);
}

async fn hundred_concurrent_streams_report_their_own_dispatch(engine: &str) {
    let app = App::on(engine, &[]);
    let c = h2_client(app.addr).await;
    let paths = [
        "/hello",
        "/async/hello",
        "/async/future?ms=20",
        "/sync/sleep?ms=2",
        "/async/sleep?ms=20",
    ];
    let mut tasks = Vec::new();
    for i in 0..100 {
        let path = paths[i % paths.len()];
        let mut c = c.clone();
        tasks.push(tokio::spawn(async move {
            (path, fetch(&mut c, "GET", path, None).await.expect(path))
        }));
    }
    for t in tasks {
        let (path, a) = t.await.unwrap();
        assert_eq!(a.head.status, 200, "{path}");
        let want = if path.starts_with("/async") {
            "async"
        } else {
            "inline"
        };
        assert_eq!(a.header("x-dispatch"), want, "{path}");
    }
}

async fn a_one_mebibyte_post_is_echoed_exactly(engine: &str) {
    let app = App::on(engine, &[]);
    let mut c = h2_client(app.addr).await;
    let body: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let a = fetch(&mut c, "POST", "/echo", Some(Bytes::from(body.clone())))
        .await
        .unwrap();
    assert_eq!(a.head.status, 200);
    assert_eq!(a.body.len(), body.len());
    assert!(a.body[..] == body[..], "echoed body differs");
    let too_big = fetch(
        &mut c,
        "POST",
        "/echo",
        Some(Bytes::from(vec![0u8; 1024 * 1024 + 1])),
    )
    .await;
    if let Ok(a) = too_big {
        assert_eq!(a.head.status, 413);
    }
    let after = fetch(&mut c, "GET", "/hello", None).await.unwrap();
    assert_eq!(after.head.status, 200);
}

/// One frame read raw: (type, flags, stream, payload).
async fn read_frame(s: &mut tokio::net::TcpStream) -> (u8, u8, u32, Vec<u8>) {
    let mut h = [0u8; 9];
    s.read_exact(&mut h).await.expect("frame header");
    let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
    let id = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.expect("frame payload");
    (h[3], h[4], id, payload)
}

/// Sends an upgrade request (`method path`, with `body` when not empty) and
/// returns stream 1's status byte and body.
async fn upgrade(app: &App, method: &str, path: &str, body: &str) -> (u8, Vec<u8>) {
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n\
         Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(head.to_ascii_lowercase().contains("upgrade: h2c"), "{head}");
    s.write_all(PREFACE).await.unwrap();
    s.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    let (mut status, mut body) = (0u8, Vec::new());
    loop {
        let (kind, flags, id, payload) =
            tokio::time::timeout(Duration::from_secs(5), read_frame(&mut s))
                .await
                .expect("frames in time");
        match (kind, id) {
            (0x4, 0) if flags & 1 == 0 => s.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap(),
            (0x1, 1) => status = payload[0],
            (0x0, 1) => body.extend_from_slice(&payload),
            (0x7, _) | (0x3, 1) => panic!("stream 1 failed: frame type {kind}"),
            _ => {}
        }
        if id == 1 && flags & 1 == 1 {
            return (status, body);
        }
    }
}

async fn upgrade_h2c_answers_the_original_request_on_stream_one(engine: &str) {
    let app = App::on(engine, &[]);
    // 0x88 is HPACK's indexed `:status: 200`.
    let ok = |body: &[u8]| (0x88, body.to_vec());
    assert_eq!(
        upgrade(&app, "GET", "/hello", "").await,
        ok(b"Hello, World!")
    );
    assert_eq!(
        upgrade(&app, "GET", "/async/hello", "").await,
        ok(b"Hello, async!")
    );
    assert_eq!(
        upgrade(&app, "POST", "/echo", "carried").await,
        ok(b"carried")
    );
}

async fn upgrade_is_ignored_on_http1_only(engine: &str) {
    let app = App::on(engine, &["--protocol", "http1"]);
    let mut s = std::net::TcpStream::connect(app.addr).unwrap();
    s.write_all(
        b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\n\
          Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("Hello, World!"), "{out}");
}

async fn h2c_only_requires_the_preface(engine: &str) {
    let app = App::on(engine, &["--protocol", "h2c"]);
    let mut s = std::net::TcpStream::connect(app.addr).unwrap();
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(out.is_empty(), "HTTP/1.1 answered on h2c-only");
    let mut c = h2_client(app.addr).await;
    let a = fetch(&mut c, "GET", "/hello", None).await.unwrap();
    assert_eq!(&a.body[..], b"Hello, World!");
}

async fn rapid_resets_do_not_bring_the_server_down(engine: &str) {
    let app = App::on(engine, &[]);
    let c = h2_client(app.addr).await;
    for _ in 0..1000 {
        let Ok(mut ready) = c.clone().ready().await else {
            break;
        };
        let req = http::Request::get("http://localhost/async/sleep?ms=50")
            .body(())
            .unwrap();
        match ready.send_request(req, false) {
            Ok((_, mut stream)) => stream.send_reset(h2::Reason::CANCEL),
            Err(_) => break,
        }
    }
    let mut other = h2_client(app.addr).await;
    let a = fetch(&mut other, "GET", "/hello", None).await.unwrap();
    assert_eq!(&a.body[..], b"Hello, World!");
}

async fn an_oversized_header_list_is_refused_and_the_server_lives(engine: &str) {
    let app = App::on(engine, &[]);
    let mut c = h2_client(app.addr).await;
    let req = http::Request::get("http://localhost/hello")
        .header("x-big", "a".repeat(100 * 1024))
        .body(())
        .unwrap();
    let result = async {
        let mut ready = c.clone().ready().await?;
        let (resp, _) = ready.send_request(req, true)?;
        resp.await
    }
    .await;
    if let Ok(resp) = result {
        assert_eq!(resp.status(), 431);
    }
    let mut other = h2_client(app.addr).await;
    assert_eq!(
        fetch(&mut other, "GET", "/hello", None)
            .await
            .unwrap()
            .head
            .status,
        200
    );
    let _ = fetch(&mut c, "GET", "/hello", None).await;
}

async fn a_preface_split_one_byte_per_write_is_detected(engine: &str) {
    let app = App::on(engine, &[]);
    let mut tcp = std::net::TcpStream::connect(app.addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    for b in PREFACE {
        tcp.write_all(&[*b]).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    tcp.set_nonblocking(true).unwrap();
    let tcp = tokio::net::TcpStream::from_std(tcp).unwrap();
    // The preface went out by hand: the client's own is dropped.
    let (mut client, conn) = h2::client::Builder::new()
        .handshake::<_, Bytes>(SkipPreface::new(tcp))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let a = fetch(&mut client, "GET", "/hello", None).await.unwrap();
    assert_eq!(&a.body[..], b"Hello, World!");
}

/// Drops the first 24 bytes the h2 client writes (its preface, already sent
/// by hand).
struct SkipPreface<T> {
    /// The socket.
    inner: T,
    /// Preface bytes still to drop.
    skip: usize,
}

impl<T> SkipPreface<T> {
    fn new(inner: T) -> Self {
        SkipPreface {
            inner,
            skip: PREFACE.len(),
        }
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for SkipPreface<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for SkipPreface<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.skip > 0 {
            let n = self.skip.min(buf.len());
            self.skip -= n;
            return std::task::Poll::Ready(Ok(n));
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

async fn sigterm_lets_an_in_flight_stream_finish_then_exits_zero(engine: &str) {
    let mut app = App::on(engine, &[]);
    let mut c = h2_client(app.addr).await;
    let inflight = {
        let mut c = c.clone();
        tokio::spawn(async move { fetch(&mut c, "GET", "/async/sleep?ms=400", None).await })
    };
    // The stream is open before the signal.
    assert_eq!(
        fetch(&mut c, "GET", "/hello", None)
            .await
            .unwrap()
            .head
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.terminate();
    let a = inflight
        .await
        .unwrap()
        .expect("the in-flight stream completes");
    assert_eq!(&a.body[..], b"slept:400");
    drop(c);
    let status = tokio::task::spawn_blocking(move || app.wait_exit(Duration::from_secs(15)))
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

async fn an_idle_h2_connection_is_closed_after_the_idle_timeout(engine: &str) {
    let app = App::on(engine, &["--idle-timeout-ms", "200"]);
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut client, conn) = h2::client::handshake(tcp).await.unwrap();
    let driver = tokio::spawn(conn);
    assert_eq!(
        fetch(&mut client, "GET", "/hello", None)
            .await
            .unwrap()
            .head
            .status,
        200
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), driver).await;
    assert!(ended.is_ok(), "the idle connection was not closed");
}

async fn a_stalled_request_body_loses_its_stream(engine: &str) {
    let app = App::on(engine, &["--idle-timeout-ms", "200"]);
    let client = h2_client(app.addr).await;
    let mut ready = client.ready().await.unwrap();
    let req = http::Request::post("http://localhost/echo")
        .body(())
        .unwrap();
    let (resp, _body_never_sent) = ready.send_request(req, false).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), resp)
        .await
        .expect("the server gave up on the stream");
    let err = outcome.expect_err("no response without a body");
    assert_eq!(err.reason(), Some(h2::Reason::CANCEL), "{err}");
}

/// One round of issue 17 over h2c: SIGTERM while a sync handler blocks its
/// arbiter and two h2c connections (a future handler, a blocking-pool
/// handler) have sent their requests.
async fn shutdown_round(engine: &str, n: usize) {
    let mut app = App::on(engine, &[]);
    let mut sync = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    sync.write_all(b"GET /sync/sleep?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut asked = Vec::new();
    for path in ["/async/future?ms=800", "/async/sleep?ms=800"] {
        let mut c = h2_client(app.addr).await;
        asked.push((
            path,
            tokio::spawn(async move { fetch(&mut c, "GET", path, None).await }),
        ));
    }
    // The server gives no sign that a handler started: leave the requests a
    // head start well inside their 800 ms.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.terminate();
    let mut text = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), sync.read_to_end(&mut text))
        .await
        .unwrap_or_else(|_| panic!("round {n}: /sync/sleep not closed"))
        .unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(text.ends_with("slept:800"), "round {n}: {text:?}");
    for (path, answer) in asked {
        let a = answer
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("round {n}: {path}: {e}"));
        assert_eq!(a.head.status, 200, "round {n}: {path}");
        let want = if path.contains("future") {
            "awaited:800"
        } else {
            "slept:800"
        };
        assert_eq!(&a.body[..], want.as_bytes(), "round {n}: {path}");
    }
    drop(sync);
    let status = tokio::task::spawn_blocking(move || app.wait_exit(Duration::from_secs(15)))
        .await
        .unwrap();
    assert!(status.success(), "round {n}: exit status {status:?}");
}

async fn in_flight_h2c_streams_finish_at_shutdown_every_time(engine: &str) {
    for n in 0..20 {
        shutdown_round(engine, n).await;
    }
}

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn every_contract_route_answers_over_h2c(engine) {
        h2c_support::block_on(super::every_contract_route_answers_over_h2c(engine));
    }

    fn hundred_concurrent_streams_report_their_own_dispatch(engine) {
        h2c_support::block_on(super::hundred_concurrent_streams_report_their_own_dispatch(engine));
    }

    fn a_one_mebibyte_post_is_echoed_exactly(engine) {
        h2c_support::block_on(super::a_one_mebibyte_post_is_echoed_exactly(engine));
    }

    fn upgrade_h2c_answers_the_original_request_on_stream_one(engine) {
        h2c_support::block_on(super::upgrade_h2c_answers_the_original_request_on_stream_one(engine));
    }

    fn upgrade_is_ignored_on_http1_only(engine) {
        h2c_support::block_on(super::upgrade_is_ignored_on_http1_only(engine));
    }

    fn h2c_only_requires_the_preface(engine) {
        h2c_support::block_on(super::h2c_only_requires_the_preface(engine));
    }

    fn rapid_resets_do_not_bring_the_server_down(engine) {
        h2c_support::block_on(super::rapid_resets_do_not_bring_the_server_down(engine));
    }

    fn an_oversized_header_list_is_refused_and_the_server_lives(engine) {
        h2c_support::block_on(super::an_oversized_header_list_is_refused_and_the_server_lives(engine));
    }

    fn a_preface_split_one_byte_per_write_is_detected(engine) {
        h2c_support::block_on(super::a_preface_split_one_byte_per_write_is_detected(engine));
    }

    fn sigterm_lets_an_in_flight_stream_finish_then_exits_zero(engine) {
        h2c_support::block_on(super::sigterm_lets_an_in_flight_stream_finish_then_exits_zero(engine));
    }

    fn an_idle_h2_connection_is_closed_after_the_idle_timeout(engine) {
        h2c_support::block_on(super::an_idle_h2_connection_is_closed_after_the_idle_timeout(engine));
    }

    fn a_stalled_request_body_loses_its_stream(engine) {
        h2c_support::block_on(super::a_stalled_request_body_loses_its_stream(engine));
    }

    fn in_flight_h2c_streams_finish_at_shutdown_every_time(engine) {
        h2c_support::block_on(super::in_flight_h2c_streams_finish_at_shutdown_every_time(engine));
    }
}
