//! HTTP/1.1 connection behaviour over the wire, on every engine: keep-alive,
//! pipelining, HTTP/1.0, `Connection: close`, request bodies, 100-continue,
//! and the header and idle deadlines.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::{assert_ok, get, Closed};

for_each_engine! {
    fn keep_alive_serves_100_requests_on_one_connection(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        for i in 0..100 {
            let resp = conn.get(&format!("/users/{i}"));
            assert_ok(&resp, &format!("user:{i}"), "inline", engine);
            assert!(!resp.closes(), "keep-alive response {i} says close: {resp:?}");
        }
    }

    fn fifty_pipelined_requests_in_one_write_answer_in_order(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let batch: String = (0..50).map(|i| get(&format!("/users/p{i}"))).collect();
        conn.send(batch);
        for i in 0..50 {
            let resp = conn.read_response();
            assert_ok(&resp, &format!("user:p{i}"), "inline", engine);
        }
        // Nothing more than the 50 answers.
        conn.assert_open_for(Duration::from_millis(100), "after the pipelined batch");
    }

    fn http10_without_keep_alive_closes_after_response(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("GET /hello HTTP/1.0\r\n\r\n");
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.text(), "Hello, World!");
        assert!(resp.closes(), "HTTP/1.0 response says connection: close: {resp:?}");
        conn.assert_closed("HTTP/1.0 without keep-alive");
    }

    fn http10_with_keep_alive_stays_open(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        for i in 0..3 {
            conn.send(format!("GET /users/{i} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
            let resp = conn.read_response();
            assert_eq!(resp.status, 200, "{resp:?}");
            assert_eq!(resp.text(), format!("user:{i}"));
            assert!(!resp.closes(), "keep-alive HTTP/1.0 response says close: {resp:?}");
        }
        conn.assert_open_for(Duration::from_millis(100), "HTTP/1.0 keep-alive");
    }

    fn connection_close_on_http11_closes_after_response(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let resp = conn.read_response();
        assert_ok(&resp, "Hello, World!", "inline", engine);
        assert!(resp.closes(), "response echoes connection: close: {resp:?}");
        conn.assert_closed("HTTP/1.1 Connection: close");
    }

    fn requests_pipelined_after_connection_close_are_not_answered(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(format!(
            "GET /users/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n{}",
            get("/users/2")
        ));
        assert_ok(&conn.read_response(), "user:1", "inline", engine);
        conn.assert_closed("the request after Connection: close");
    }

    fn chunked_request_body_is_echoed(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-chunks\r\n\
             Transfer-Encoding: chunked\r\n\r\n\
             5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n",
        );
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.text(), "hello, world");
        assert_eq!(resp.header("content-type"), Some("text/x-chunks"));
        // The chunked body arriving in pieces gives the same answer.
        conn.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
        conn.send("c\r\n");
        conn.send("0\r\n\r\n");
        let resp = conn.read_response();
        assert_eq!(resp.text(), "abc", "{resp:?}");
    }

    fn expect_continue_gets_interim_100_before_body(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\
             Expect: 100-continue\r\n\r\n",
        );
        let interim = conn.read_response();
        assert_eq!(interim.version, 1, "{interim:?}");
        assert_eq!(interim.status, 100, "interim response before the body: {interim:?}");
        conn.send("hello there");
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.text(), "hello there");
        assert_eq!(resp.dispatch(), "inline");
    }

    fn large_pipelined_responses_reach_a_slow_reader_in_order(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        // About 2.5 MB of responses, far beyond the socket buffers, requested
        // before anything is read.
        let batch: String = (0..300).map(|i| get(&format!("/stream?n={}", 900 + i))).collect();
        conn.send(batch);
        // Pacing the client: let the server hit a full socket first.
        std::thread::sleep(Duration::from_millis(200));
        for i in 0..300 {
            let resp = conn.read_response();
            assert_eq!(resp.status, 200, "response {i}: {resp:?}");
            let lines = resp.text().lines().count();
            assert_eq!(lines, 900 + i, "response {i} is the answer to request {i}");
        }
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
    }

    fn large_request_body_is_echoed(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let body: Vec<u8> = (0..512 * 1024).map(|i| (i % 251) as u8).collect();
        conn.send(common::post("/echo", None, &body));
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "status {}", resp.status);
        assert!(resp.body == body, "echoed body differs ({} bytes back)", resp.body.len());
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
    }

    fn head_on_stream_route_sends_no_body(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("HEAD /stream?n=3 HTTP/1.1\r\nHost: t\r\n\r\n");
        let resp = conn.read_head_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert!(resp.body.is_empty());
        // Had a body been sent, it would be read as this response's head.
        assert_ok(&conn.get("/users/9"), "user:9", "inline", engine);
    }

    fn requests_before_client_half_close_are_answered(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(format!("{}{}", get("/users/1"), get("/users/2")));
        conn.shutdown_write();
        assert_ok(&conn.read_response(), "user:1", "inline", engine);
        assert_ok(&conn.read_response(), "user:2", "inline", engine);
        conn.assert_closed("after the client's FIN");
    }

    fn slowloris_head_is_closed_at_header_timeout(engine) {
        let app = app!(engine, &["--header-timeout-ms", "1000"]);
        let mut conn = app.connect();
        let started = Instant::now();
        let trickle = b"GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let mut closed_at = None;
        for byte in trickle.iter().cycle() {
            if started.elapsed() > Duration::from_secs(2) {
                break;
            }
            if conn.try_send([*byte]).is_err() {
                closed_at = Some(started.elapsed());
                break;
            }
            // Pacing the client: one byte every 200 ms.
            if let Closed::Yes(_) = conn.read_until_closed(Duration::from_millis(200)) {
                closed_at = Some(started.elapsed());
                break;
            }
        }
        let closed_at = closed_at.expect("a head trickling in was not cut off within 2 s");
        assert!(
            closed_at >= Duration::from_millis(800),
            "closed after {closed_at:?}, before the 1 s header deadline"
        );
    }

    fn idle_keep_alive_connection_closes_after_idle_timeout(engine) {
        let app = app!(engine, &["--idle-timeout-ms", "500"]);
        let mut conn = app.connect();
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
        let idle_since = Instant::now();
        conn.assert_open_for(Duration::from_millis(100), "100 ms into a 500 ms idle timeout");
        match conn.read_until_closed(Duration::from_secs(2)) {
            Closed::Yes(rest) => assert!(rest.is_empty(), "bytes before close: {rest:?}"),
            Closed::StillOpen(_) => panic!("idle connection still open 2 s after its last response"),
        }
        assert!(
            idle_since.elapsed() >= Duration::from_millis(400),
            "closed after {:?}, before the idle timeout",
            idle_since.elapsed()
        );
    }

    fn requests_keep_an_idle_connection_alive(engine) {
        let app = app!(engine, &["--idle-timeout-ms", "500"]);
        let mut conn = app.connect();
        // Requests 300 ms apart over 1.2 s: each one restarts the idle clock.
        for i in 0..4 {
            assert_ok(&conn.get(&format!("/users/{i}")), &format!("user:{i}"), "inline", engine);
            conn.assert_open_for(Duration::from_millis(300), "between requests");
        }
    }
}
