//! Live response bodies over h2c: each piece leaves as a DATA frame when the
//! handler sends it, the body ends with a clean END_STREAM, and a client
//! that resets the stream mid-body closes the handler's `BodySender` and
//! frees the stream. Run on every engine that serves h2c; the others print
//! why they skip.

#[macro_use]
mod common;
mod h2c_support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2c_support::{block_on, fetch};
use switchyard::{Config, EngineChoice, Protocol, Response, Router, ServerActor};
use tokio::net::TcpStream;

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn a_live_body_leaves_each_piece_as_it_is_sent(engine) {
        let app = app!(engine, &["--protocol", "h2c"]);
        let addr = app.addr();
        block_on(async move {
            let mut c = h2c_support::h2_client(addr).await;
            let started = Instant::now();
            let req = http::Request::get("http://localhost/async/stream?n=2&delay_ms=4000")
                .body(())
                .unwrap();
            let mut ready = c.clone().ready().await.expect("capacity");
            let (resp, _) = ready.send_request(req, true).expect("send");
            let (head, mut body) = resp.await.expect("response head").into_parts();
            assert_eq!(head.status, 200);
            let first = next_piece(&mut body).await.expect("a first DATA frame");
            let first_at = started.elapsed();
            // The second piece is produced 4 s after the first.
            assert!(first_at < Duration::from_millis(2500), "first piece after {first_at:?}");
            assert_eq!(&first[..], b"chunk 0\n");
            let mut rest = Vec::new();
            while let Some(piece) = next_piece(&mut body).await {
                rest.extend_from_slice(&piece);
            }
            assert_eq!(&rest[..], b"chunk 1\n");
            assert!(body.is_end_stream(), "the body ends with END_STREAM");
            assert!(body.trailers().await.expect("a clean end").is_none());
            // The connection serves on.
            let after = fetch(&mut c, "GET", "/hello", None).await.expect("/hello");
            assert_eq!(after.head.status, 200);
        });
    }
}

/// The next non-empty DATA frame of a body, its capacity released; `None` at
/// a clean end of stream (an error fails the test).
async fn next_piece(body: &mut h2::RecvStream) -> Option<Bytes> {
    loop {
        let piece = tokio::time::timeout(Duration::from_secs(10), body.data())
            .await
            .expect("a DATA frame or the end within 10 s")?
            .expect("a clean DATA frame");
        let _ = body.flow_control().release_capacity(piece.len());
        if !piece.is_empty() {
            return Some(piece);
        }
    }
}

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn a_reset_live_stream_closes_its_body_sender(engine) {
        reset_mid_body(engine);
    }
}

/// A `/live` route whose producer (a thread) sends one piece, waits for the
/// test's go, then sends another and reports whether it was refused: the
/// client reads the first piece, resets the stream, and says go once the
/// server has taken the reset.
fn reset_mid_body(name: &str) {
    let engine: EngineChoice = name.parse().expect("an engine name");
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Arc::new(Mutex::new(go_rx));
    let (report_tx, report_rx) = mpsc::channel::<bool>();
    let mut router = Router::new();
    router.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    });
    router.get_future("/live", move |_req| {
        let (go_rx, report_tx) = (go_rx.clone(), report_tx.clone());
        async move {
            let mut resp = Response::new();
            let body = resp.live("text/plain");
            std::thread::spawn(move || {
                if body.send("piece 0\n").is_err() {
                    return;
                }
                let go = go_rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
                assert!(go.is_ok(), "the test never said go");
                let _ = report_tx.send(body.send("piece 1\n").is_err());
            });
            Ok(resp)
        }
    });
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine,
        protocol: Protocol::H2c,
        workers: 1,
        ..Config::default()
    };
    let handle = match ServerActor::spawn(config, router) {
        Ok(h) => h,
        Err(e) if e.to_string().contains("not available") => {
            println!("skipped: {name}: {e}");
            return;
        }
        Err(e) => panic!("the server did not start on {name}: {e}"),
    };
    let addr = handle.local_addr();
    block_on(async move {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let (client, mut conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
        let mut pings = conn.ping_pong().expect("ping-pong");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = http::Request::get("http://localhost/live")
            .body(())
            .unwrap();
        let mut ready = client.clone().ready().await.expect("capacity");
        let (resp, mut stream) = ready.send_request(req, true).expect("send");
        let (head, mut body) = resp.await.expect("response head").into_parts();
        assert_eq!(head.status, 200);
        let first = next_piece(&mut body).await.expect("the first piece");
        assert_eq!(&first[..], b"piece 0\n");
        stream.send_reset(h2::Reason::CANCEL);
        // The server handles frames in order: once the PING is answered it
        // has taken the reset, which wakes the stream's task.
        pings.ping(h2::Ping::opaque()).await.expect("pong");
        tokio::time::sleep(Duration::from_millis(200)).await;
        go_tx.send(()).expect("the producer waits");
        let refused =
            tokio::task::spawn_blocking(move || report_rx.recv_timeout(Duration::from_secs(10)))
                .await
                .unwrap()
                .expect("the producer reports");
        assert!(refused, "the first piece sent after the reset was accepted");
        // The connection serves on.
        let mut c = client;
        let after = fetch(&mut c, "GET", "/hello", None).await.expect("/hello");
        assert_eq!(&after.body[..], b"Hello, World!");
    });
    handle.shutdown(Duration::from_secs(1)).expect("shutdown");
}
