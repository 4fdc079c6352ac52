//! tower interoperability on the wire, on every engine: the conformance
//! app's axum router mounted at `/tower` (`Router::service`), driven over
//! HTTP/1.1 and h2c — its own statuses and headers come back, request
//! bodies reach it whole, bodies of unknown length stream out.

#[allow(unused_macros)]
#[macro_use]
mod common;
mod h2c_support;

use bytes::Bytes;
use h2c_support::{block_on, fetch, h2_client};

/// A request body of about a mebibyte with no repeating period.
fn blob() -> Vec<u8> {
    (0..1_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// The body of `GET /tower/pieces?n=N`.
fn pieces(n: u32) -> String {
    (0..n).map(|i| format!("piece {i}\n")).collect()
}

for_each_engine! {
    fn an_axum_router_serves_under_its_prefix_over_http1(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let resp = conn.get("/tower/hello");
        common::assert_ok(&resp, "Hello from tower", "async", app.engine());
        assert_eq!(resp.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(resp.header("content-length"), Some("16"), "a known length is kept");

        // The service sees the path below its mount point, query kept.
        let resp = conn.get("/tower/whoami?x=1&y=two");
        assert_eq!(resp.text(), "/whoami?x=1&y=two");

        // Its own statuses come back, and the connection serves on.
        assert_eq!(conn.get("/tower/nope").status, 404);
        assert_eq!(conn.get("/hello").text(), "Hello, World!");

        // A body of unknown length streams out chunked, whole.
        let resp = conn.get("/tower/pieces?n=500");
        assert_eq!(resp.status, 200);
        assert!(resp.chunked, "streamed: {:?}", resp.headers);
        assert_eq!(resp.text(), pieces(500));

        // A request body reaches it whole.
        let body = blob();
        conn.send(format!(
            "POST /tower/echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ));
        conn.send(&body);
        let resp = conn.read_response();
        assert_eq!(resp.status, 200);
        assert!(resp.body == body, "echo of {} bytes came back as {}", body.len(), resp.body.len());
    }

    fn an_axum_router_serves_under_its_prefix_over_h2c(engine) {
        let app = h2c_support::App::on(engine, &[]);
        block_on(async move {
            let mut c = h2_client(app.addr).await;
            let a = fetch(&mut c, "GET", "/tower/hello", None).await.expect("hello");
            assert_eq!(a.head.status, 200);
            assert_eq!(&a.body[..], b"Hello from tower");
            assert_eq!(a.header("x-dispatch"), "async");
            assert_eq!(a.header("x-engine"), engine.replace('_', "-"));

            let a = fetch(&mut c, "GET", "/tower/pieces?n=2000", None).await.expect("pieces");
            assert_eq!(a.head.status, 200);
            assert_eq!(a.body, Bytes::from(pieces(2000)));

            let body = Bytes::from(blob());
            let a = fetch(&mut c, "POST", "/tower/echo", Some(body.clone())).await.expect("echo");
            assert_eq!(a.head.status, 200);
            assert!(a.body == body, "echo of {} bytes came back as {}", body.len(), a.body.len());

            let a = fetch(&mut c, "GET", "/tower/nope", None).await.expect("nope");
            assert_eq!(a.head.status, 404);
        });
    }
}
