//! HTTP/1.1 sans-IO costs: head parsing (`H1Conn::poll`) of a browser-like and a minimal request, and response encoding (`encode_response`) of a text and a JSON response.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, Throughput};
use switchyard::proto::h1::{
    empty_headers, encode_response, DateCache, EncodeOpts, H1Conn, Limits, Poll,
};
use switchyard::Response;

#[path = "support/mod.rs"]
mod support;

use support::{Message, BROWSER_REQUEST, MINIMAL_REQUEST};

/// Parses `req` once with a fresh header array, as `H1Session::process` does.
fn parse_once(conn: &mut H1Conn, req: &[u8]) -> usize {
    let mut headers = empty_headers();
    match conn.poll(black_box(req), &mut headers) {
        Poll::Request(r) => r.head.headers.len() + r.len,
        other => panic!("expected a complete request, got {other:?}"),
    }
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("h1/parse");
    for (name, req) in [("browser", BROWSER_REQUEST), ("minimal", MINIMAL_REQUEST)] {
        let mut conn = H1Conn::new(Limits::default());
        group.throughput(Throughput::Bytes(req.len() as u64));
        group.bench_function(name, |b| b.iter(|| parse_once(&mut conn, req)));
    }
    // The header array alone: `process` builds one (100 empty fields) per poll.
    group.throughput(Throughput::Elements(1));
    group.bench_function("empty_headers", |b| {
        b.iter(|| {
            let h = empty_headers();
            black_box(&h);
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let date = DateCache::new(SystemTime::now());
    let mut text = Response::new();
    text.text("Hello, World!")
        .header("x-dispatch", "inline")
        .header("x-engine", "epoll");
    let mut json = Response::new();
    json.json(&Message {
        message: "Hello, World!",
    })
    .expect("serializable");
    json.header("x-dispatch", "inline")
        .header("x-engine", "epoll");
    let opts = EncodeOpts::default();
    let mut out = Vec::with_capacity(4096);
    let mut group = c.benchmark_group("h1/encode");
    for (name, resp) in [("text", &text), ("json", &json)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                encode_response(black_box(resp), opts, &date, &mut out);
                out.len()
            })
        });
    }
    // Filling the response as the handler does, then encoding it.
    let mut resp = Response::new();
    group.bench_function("json_build_and_encode", |b| {
        b.iter(|| {
            resp.reset();
            resp.json(black_box(&Message {
                message: "Hello, World!",
            }))
            .expect("serializable");
            out.clear();
            encode_response(&resp, opts, &date, &mut out);
            out.len()
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    parse(&mut c);
    encode(&mut c);
    c.final_summary();
}
