//! HTTP/1.1 over the wire, on every engine: each sync route of the
//! conformance contract, the 404/405/HEAD fallbacks, and a real client.

#[macro_use]
mod common;

use std::time::Duration;

use common::{assert_ok, get, post, App};

/// GETs `path` on a fresh connection and checks the 200, body, content type,
/// inline dispatch and engine.
#[track_caller]
fn check_sync_get(app: &App, path: &str, body: &str, content_type: &str) {
    let resp = app.get(path);
    assert_ok(&resp, body, "inline", app.engine());
    assert_eq!(
        resp.header("content-type"),
        Some(content_type),
        "content-type of {path}: {resp:?}"
    );
    assert_eq!(
        resp.header("content-length"),
        Some(body.len().to_string().as_str()),
        "content-length of {path}: {resp:?}"
    );
}

for_each_engine! {
    fn hello_json_users_files_answer_inline_with_their_bodies(engine) {
        let app = app!(engine);
        check_sync_get(&app, "/hello", "Hello, World!", "text/plain");
        check_sync_get(&app, "/json", r#"{"message":"Hello, World!"}"#, "application/json");
        check_sync_get(&app, "/users/42", "user:42", "text/plain");
        check_sync_get(&app, "/users/alice", "user:alice", "text/plain");
        check_sync_get(&app, "/files/a/b/c.txt", "file:a/b/c.txt", "text/plain");
        check_sync_get(&app, "/files/x", "file:x", "text/plain");
    }

    fn sync_sleep_answers_after_sleeping(engine) {
        let app = app!(engine);
        let started = std::time::Instant::now();
        let resp = app.get("/sync/sleep?ms=50");
        assert_ok(&resp, "slept:50", "inline", engine);
        assert!(started.elapsed() >= Duration::from_millis(50), "answered before sleeping");
    }

    fn unknown_path_is_404(engine) {
        let app = app!(engine);
        let resp = app.get("/no/such/route");
        assert_eq!(resp.status, 404, "{resp:?}");
        assert_eq!(resp.header("x-engine"), Some(engine), "{resp:?}");
        assert!(resp.header("x-dispatch").is_some(), "global middleware runs on 404: {resp:?}");
    }

    fn known_path_with_other_method_is_405_with_allow(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        let resp = conn.read_response();
        assert_eq!(resp.status, 405, "{resp:?}");
        let allow = resp.header("allow").expect("405 carries Allow");
        assert!(allow.split(',').any(|m| m.trim() == "GET"), "Allow lists GET: {allow}");
        assert!(!allow.split(',').any(|m| m.trim() == "DELETE"), "Allow omits DELETE: {allow}");
        conn.send(post("/hello", None, b""));
        assert_eq!(conn.read_response().status, 405);
        conn.send(get("/echo"));
        let resp = conn.read_response();
        assert_eq!(resp.status, 405, "GET on POST-only /echo: {resp:?}");
        assert!(resp.header("allow").is_some_and(|a| a.contains("POST")), "{resp:?}");
    }

    fn head_on_get_route_sends_headers_without_body(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        let resp = conn.read_head_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.header("content-length"), Some("13"), "{resp:?}");
        assert_eq!(resp.header("content-type"), Some("text/plain"), "{resp:?}");
        assert_eq!(resp.header("x-dispatch"), Some("inline"), "{resp:?}");
        assert_eq!(resp.header("x-engine"), Some(engine), "{resp:?}");
        // No body: the next bytes on the connection are the next response.
        let resp = conn.get("/users/7");
        assert_ok(&resp, "user:7", "inline", engine);
    }

    fn stream_sends_chunked_lines(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let resp = conn.get("/stream?n=5");
        assert_eq!(resp.status, 200, "{resp:?}");
        assert!(resp.chunked, "HTTP/1.1 stream is chunked: {resp:?}");
        let expected: String = (0..5).map(|i| format!("chunk {i}\n")).collect();
        assert_eq!(resp.text(), expected);
        assert_eq!(resp.dispatch(), "inline");
        // The connection is still usable after the terminating chunk.
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
    }

    fn echo_returns_body_and_content_type(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(post("/echo", Some("application/x-test"), b"some bytes \x00\xff"));
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.body, b"some bytes \x00\xff");
        assert_eq!(resp.header("content-type"), Some("application/x-test"));
        assert_eq!(resp.dispatch(), "inline");
        assert_eq!(resp.header("x-engine"), Some(engine));
    }

    fn echo_without_content_type_is_octet_stream(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        conn.send(post("/echo", None, b"raw"));
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.body, b"raw");
        assert_eq!(resp.header("content-type"), Some("application/octet-stream"));
        conn.send(post("/echo", None, b""));
        let resp = conn.read_response();
        assert_eq!(resp.status, 200, "{resp:?}");
        assert!(resp.body.is_empty(), "empty echo: {resp:?}");
    }

    fn error_route_is_418_teapot(engine) {
        let app = app!(engine);
        let mut conn = app.connect();
        let resp = conn.get("/error");
        assert_eq!(resp.status, 418, "{resp:?}");
        assert_eq!(resp.text(), "teapot");
        assert_eq!(resp.dispatch(), "inline");
        assert_eq!(resp.header("x-engine"), Some(engine));
        // An HTTP error is an answer, not a broken connection.
        assert_ok(&conn.get("/hello"), "Hello, World!", "inline", engine);
    }

    fn hyper_client_gets_hello_and_posts_echo(engine) {
        let app = app!(engine);
        let url = format!("http://{}", app.addr());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), hyper_round_trips(&url, engine))
                .await
                .expect("hyper client finished in time");
        });
    }
}

/// GET /hello and POST /echo through hyper's client.
async fn hyper_round_trips(url: &str, engine: &str) {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let resp = client
        .get(format!("{url}/hello").parse().expect("uri"))
        .await
        .expect("GET /hello");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-engine"], engine);
    assert_eq!(resp.headers()["x-dispatch"], "inline");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"Hello, World!");

    let req = hyper::Request::post(format!("{url}/echo"))
        .header("content-type", "text/x-hyper")
        .body(Full::new(Bytes::from_static(b"from hyper")))
        .expect("request");
    let resp = client.request(req).await.expect("POST /echo");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/x-hyper");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    assert_eq!(&body[..], b"from hyper");
}
