//! Response bodies read from a `Stream` (`Response::stream_from`), on every
//! engine, from a future handler and from a plain one (which on the loop
//! engines runs on no runtime): every piece arrives, in order, chunked.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use switchyard::{Config, EngineChoice, Request, Response, Server};

/// Yields `"piece I\n"` for I in 0..n.
struct Pieces {
    next: u32,
    n: u32,
}

impl futures_core::Stream for Pieces {
    type Item = String;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<String>> {
        let i = self.next;
        self.next += 1;
        Poll::Ready((i < self.n).then(|| format!("piece {i}\n")))
    }
}

/// The body of `GET path` (de-chunked) and whether it was chunked.
fn get(addr: SocketAddr, path: &str) -> (String, bool) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, mut rest) = text.split_once("\r\n\r\n").expect("a head");
    let chunked = head.to_lowercase().contains("transfer-encoding: chunked");
    let mut body = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size, 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        body.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    (body, chunked)
}

fn streams_every_piece(engine: EngineChoice) {
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine,
        workers: 1,
        ..Config::default()
    };
    let handle = Server::new(config)
        .get("/plain", |ctx| {
            ctx.response()
                .stream_from("text/plain", Pieces { next: 0, n: 3000 });
            Ok(())
        })
        .get_future("/future", |_req: Request| async move {
            let mut resp = Response::new();
            resp.stream_from("text/plain", Pieces { next: 0, n: 3000 });
            Ok(resp)
        })
        .start()
        .expect("start");
    let want: String = (0..3000).map(|i| format!("piece {i}\n")).collect();
    for path in ["/plain", "/future"] {
        let (body, chunked) = get(handle.local_addr(), path);
        assert!(chunked, "{engine:?} {path}");
        assert_eq!(body.len(), want.len(), "{engine:?} {path}");
        assert_eq!(body, want, "{engine:?} {path}");
    }
    handle.shutdown(Duration::from_secs(2)).expect("shutdown");
}

#[cfg(target_os = "linux")]
#[test]
fn on_epoll() {
    streams_every_piece(EngineChoice::Epoll);
}

#[test]
fn on_std() {
    streams_every_piece(EngineChoice::Std);
}
