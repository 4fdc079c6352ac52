//! HTTP/1.x edges on every engine: HTTP/1.0 keep-alive, absolute-form
//! targets, Host validation, and the path rules (percent-decoding of
//! params, dot segments, empty segments).

#[macro_use]
mod common;

use std::time::Duration;

use common::{assert_ok, Resp};

/// Sends `req` on a fresh connection and reads one response.
fn one(app: &common::App, req: &str) -> Resp {
    let mut conn = app.connect();
    conn.send(req);
    conn.read_response()
}

for_each_engine! {
    fn http10_keep_alive_is_answered_and_the_connection_serves_again(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        for _ in 0..3 {
            conn.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            let resp = conn.read_response();
            assert_ok(&resp, "Hello, World!", "inline", engine);
            assert_eq!(resp.header("connection"), Some("keep-alive"), "{resp:?}");
            assert_eq!(resp.header("content-length"), Some("13"), "{resp:?}");
        }
        // Without keep-alive an HTTP/1.0 connection closes after the response.
        conn.send("GET /hello HTTP/1.0\r\n\r\n");
        let resp = conn.read_response();
        assert_ok(&resp, "Hello, World!", "inline", engine);
        assert_eq!(resp.header("connection"), Some("close"), "{resp:?}");
        conn.assert_closed("HTTP/1.0 without keep-alive");
    }

    fn http10_keep_alive_on_a_streamed_route_is_whole_and_kept(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("GET /stream?n=2 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        let resp = conn.read_response();
        assert_eq!(resp.text(), "chunk 0\nchunk 1\n", "{resp:?}");
        assert!(!resp.chunked, "{resp:?}");
        assert_eq!(resp.header("connection"), Some("keep-alive"), "{resp:?}");
        conn.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_ok(&conn.read_response(), "Hello, World!", "inline", engine);
        conn.assert_open_for(Duration::from_millis(100), "HTTP/1.0 keep-alive");
    }
}

for_each_engine! {
    fn absolute_form_targets_route_by_path_and_query(engine) {
        let app = app!(engine);
        let resp = one(&app, "GET http://x/hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_ok(&resp, "Hello, World!", "inline", engine);
        let resp = one(&app, "GET HTTP://example.com:8080/users/7?a=b HTTP/1.1\r\nHost: y\r\n\r\n");
        assert_ok(&resp, "user:7", "inline", engine);
        let resp = one(&app, "GET http://x/sync/sleep?ms=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_ok(&resp, "slept:1", "inline", engine);
        let resp = one(&app, "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(resp.status, 404, "no route at / in the app: {resp:?}");
        let resp = one(&app, "GET http://u@x/hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(resp.status, 400, "userinfo in the authority: {resp:?}");
    }

    fn invalid_missing_or_repeated_host_is_400(engine) {
        let app = app!(engine);
        for host in ["a b/c@d", "x/y", "u@h", "h:port"] {
            let mut conn = app.connect();
            conn.send(format!("GET /hello HTTP/1.1\r\nHost: {host}\r\n\r\n"));
            let resp = conn.read_response();
            assert_eq!(resp.status, 400, "Host: {host}: {resp:?}");
            conn.assert_closed(host);
        }
        let resp = one(&app, "GET /hello HTTP/1.1\r\n\r\n");
        assert_eq!(resp.status, 400, "no Host: {resp:?}");
        let resp = one(&app, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n");
        assert_eq!(resp.status, 400, "two Hosts: {resp:?}");
        for host in ["example.com:8080", "[::1]:80", ""] {
            let resp = one(&app, &format!("GET /hello HTTP/1.1\r\nHost: {host}\r\n\r\n"));
            assert_ok(&resp, "Hello, World!", "inline", engine);
        }
    }
}

for_each_engine! {
    fn params_are_percent_decoded_after_splitting(engine) {
        let app = app!(engine);
        assert_ok(&app.get("/users/a%20b"), "user:a b", "inline", engine);
        assert_ok(&app.get("/users/caf%C3%A9"), "user:café", "inline", engine);
        assert_ok(&app.get("/users/a%2Fb"), "user:a%2Fb", "inline", engine);
        assert_ok(&app.get("/files/a%20b/c%2Fd"), "file:a b/c%2Fd", "inline", engine);
        for bad in ["/users/%zz", "/users/%4", "/users/%ff", "/files/a/%c3"] {
            let resp = app.get(bad);
            assert_eq!(resp.status, 400, "{bad}: {resp:?}");
            assert_eq!(resp.header("x-engine"), Some(engine), "{bad}: {resp:?}");
        }
        // A 400 for a bad path is not a framing error: the connection serves on.
        let mut conn = app.connect();
        assert_eq!(conn.get("/users/%zz").status, 400);
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
    }

    fn dot_segments_are_removed_and_never_escape_the_root(engine) {
        let app = app!(engine);
        let resp = app.get("/files/../../etc/passwd");
        assert_eq!(resp.status, 404, "routes as /etc/passwd: {resp:?}");
        assert_ok(&app.get("/files/a/./b/../c"), "file:a/c", "inline", engine);
        assert_ok(&app.get("/files/x/%2e%2e/y"), "file:y", "inline", engine);
        assert_ok(&app.get("/nope/../hello"), "Hello, World!", "inline", engine);
        assert_ok(&app.get("/../../hello"), "Hello, World!", "inline", engine);
        let resp = app.get("/files/%2e%2e/%2e%2e/etc/passwd");
        assert_eq!(resp.status, 404, "{resp:?}");
    }

    fn empty_segments_are_significant(engine) {
        let app = app!(engine);
        assert_eq!(app.get("//hello").status, 404);
        assert_eq!(app.get("/hello/").status, 404);
        assert_eq!(app.get("/users//7").status, 404);
        assert_ok(&app.get("/files/a//b"), "file:a//b", "inline", engine);
    }
}
