//! Bad HTTP/1.1 input over the wire, on every engine: each case is answered
//! with its status, then the connection is closed, and the server goes on
//! serving other connections.

#[macro_use]
mod common;

use common::{App, Conn};

/// Sends `request` on a fresh connection, expects `status` and then the close.
#[track_caller]
fn rejects(app: &App, request: impl AsRef<[u8]>, status: u16, what: &str) {
    let mut conn = app.connect();
    conn.send(request);
    answered_then_closed(&mut conn, status, what);
    // A bad client hurts nobody else.
    let ok = app.get("/hello");
    assert_eq!(ok.status, 200, "after {what}: {ok:?}");
}

/// Reads the error response and asserts the connection closes after it.
#[track_caller]
fn answered_then_closed(conn: &mut Conn, status: u16, what: &str) {
    let resp = conn.read_response();
    assert_eq!(resp.status, status, "{what}: {resp:?}");
    assert!(
        resp.closes(),
        "{what}: error response says connection: close: {resp:?}"
    );
    conn.assert_closed(what);
}

for_each_engine! {
    fn request_line_over_8k_is_414(engine) {
        let app = app!(engine);
        let path = format!("/{}", "a".repeat(9 * 1024));
        rejects(&app, format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n"), 414, "long request line");
    }

    fn request_line_over_8k_without_newline_yet_is_414(engine) {
        let app = app!(engine);
        let path = format!("/{}", "a".repeat(9 * 1024));
        rejects(&app, format!("GET {path}"), 414, "long unfinished request line");
    }

    fn header_block_over_16k_is_431(engine) {
        let app = app!(engine);
        let mut req = String::from("GET /hello HTTP/1.1\r\nHost: t\r\n");
        for i in 0..20 {
            req.push_str(&format!("X-Big-{i}: {}\r\n", "v".repeat(1000)));
        }
        req.push_str("\r\n");
        rejects(&app, req, 431, "20 KiB header block");
    }

    fn more_than_100_header_fields_is_431(engine) {
        let app = app!(engine);
        let mut req = String::from("GET /hello HTTP/1.1\r\nHost: t\r\n");
        for i in 0..101 {
            req.push_str(&format!("X-H{i}: v\r\n"));
        }
        req.push_str("\r\n");
        rejects(&app, req, 431, "102 header fields");
    }

    fn exactly_100_header_fields_are_served(engine) {
        let app = app!(engine);
        let mut req = String::from("GET /hello HTTP/1.1\r\nHost: t\r\n");
        for i in 0..99 {
            req.push_str(&format!("X-H{i}: v\r\n"));
        }
        req.push_str("\r\n");
        let mut conn = app.connect();
        conn.send(req);
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "100 header fields are within the limit: {resp:?}");
    }

    fn http_2_0_version_is_505(engine) {
        let app = app!(engine);
        rejects(&app, "GET /hello HTTP/2.0\r\nHost: t\r\n\r\n", 505, "HTTP/2.0");
    }

    fn http_1_2_version_is_505(engine) {
        let app = app!(engine);
        rejects(&app, "GET /hello HTTP/1.2\r\nHost: t\r\n\r\n", 505, "HTTP/1.2");
    }

    fn garbage_is_400(engine) {
        let app = app!(engine);
        rejects(&app, "\x01\x02 this is not http \x7f\r\n\r\n", 400, "garbage");
        rejects(&app, "GET\r\n\r\n", 400, "request line without target");
    }

    fn missing_host_on_http11_is_400(engine) {
        let app = app!(engine);
        rejects(&app, "GET /hello HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host");
    }

    fn conflicting_content_lengths_are_400(engine) {
        let app = app!(engine);
        rejects(
            &app,
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            400,
            "two different Content-Length values",
        );
        rejects(
            &app,
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\nabcd",
            400,
            "a Content-Length list of different values",
        );
    }

    fn content_length_with_transfer_encoding_is_400(engine) {
        let app = app!(engine);
        rejects(
            &app,
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\
             Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            400,
            "Content-Length and Transfer-Encoding",
        );
    }

    fn gzip_transfer_encoding_is_501(engine) {
        let app = app!(engine);
        rejects(
            &app,
            "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
            501,
            "Transfer-Encoding: gzip",
        );
    }

    fn declared_body_over_max_body_is_413_before_body_is_sent(engine) {
        let app = app!(engine, &["--max-body", "1024"]);
        let mut conn = app.connect();
        // Only the head: the answer must not wait for the body.
        conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n");
        answered_then_closed(&mut conn, 413, "Content-Length 2048 over --max-body 1024");
        // A body at the limit is served.
        let mut conn = app.connect();
        conn.send(common::post("/echo", None, &[b'x'; 1024]));
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.body.len(), 1024);
    }

    fn chunked_body_over_max_body_is_413(engine) {
        let app = app!(engine, &["--max-body", "1024"]);
        let mut conn = app.connect();
        conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
        conn.send(vec![b'x'; 0x800]);
        answered_then_closed(&mut conn, 413, "2 KiB chunked body over --max-body 1024");
    }

    fn bad_chunk_size_is_400(engine) {
        let app = app!(engine);
        rejects(
            &app,
            "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            400,
            "non-hex chunk size",
        );
    }

    fn bad_request_after_good_pipelined_one_answers_both_then_closes(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(format!("{}GET /hello HTTP/9.9\r\nHost: t\r\n\r\n", common::get("/users/1")));
        let first = conn.read_response();
        assert_eq!(first.status, 200, "{first:?}");
        assert_eq!(first.text(), "user:1");
        answered_then_closed(&mut conn, 505, "HTTP/9.9 after a good request");
    }
}
