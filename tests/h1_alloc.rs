//! The HTTP/1.1 hot path allocates nothing per request once warm: parse a
//! GET (and a chunked POST), encode a response, with a counting allocator.

// A global allocator cannot be written without `unsafe`; this test binary's
// only unsafe code forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, UNIX_EPOCH};

use switchyard::proto::h1::{
    empty_headers, encode_response, DateCache, EncodeOpts, H1Conn, Limits, Poll,
};
use switchyard::Response;

/// Counts allocations made by the current thread, so tests running in
/// parallel do not disturb each other.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Serves every request in `input` once, the way an engine does.
fn serve(
    conn: &mut H1Conn,
    input: &[u8],
    resp: &mut Response,
    date: &DateCache,
    out: &mut Vec<u8>,
) {
    let mut at = 0;
    while at < input.len() {
        let mut headers = empty_headers();
        let Poll::Request(req) = conn.poll(&input[at..], &mut headers) else {
            panic!("expected a complete request");
        };
        resp.reset();
        resp.text(req.head.path);
        let opts = EncodeOpts {
            head_request: false,
            close: !req.head.keep_alive,
        };
        encode_response(resp, opts, date, out);
        at += req.len;
    }
}

#[test]
fn get_and_chunked_post_allocate_nothing_after_warm_up() {
    let input: &[u8] =
        b"GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n\
POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nT: 1\r\n\r\n";
    let mut conn = H1Conn::new(Limits::default());
    let mut resp = Response::new();
    let date = DateCache::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let mut out = Vec::new();
    for _ in 0..3 {
        out.clear();
        serve(&mut conn, input, &mut resp, &date, &mut out);
    }
    let before = allocations();
    for _ in 0..100 {
        out.clear();
        serve(&mut conn, input, &mut resp, &date, &mut out);
    }
    assert_eq!(allocations() - before, 0, "allocations in 100 warm rounds");
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\n"));
}
