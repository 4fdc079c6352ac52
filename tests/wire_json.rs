//! `POST /json/echo` on every engine: 200 with `n + 1`, 400 for malformed
//! JSON, 422 for a wrong shape, 415 for another content type, 413 over the
//! body limit; client errors carry a JSON body `{"error": ...}`.

#[macro_use]
mod common;

use common::{post, App, Resp};

fn echo(app: &App, content_type: Option<&str>, body: &[u8]) -> Resp {
    let mut conn = app.connect();
    conn.send(post("/json/echo", content_type, body));
    conn.read_response()
}

/// Asserts a JSON error answer with `status`.
#[track_caller]
fn assert_json_error(resp: &Resp, status: u16) {
    assert_eq!(resp.status, status, "{resp:?}");
    assert_eq!(
        resp.header("content-type"),
        Some("application/json"),
        "{resp:?}"
    );
    let body: serde_json::Value = serde_json::from_slice(&resp.body).expect("a JSON body");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

for_each_engine! {
    fn json_echo_answers_n_plus_one(engine) {
        let app = app!(engine);
        let resp = echo(&app, Some("application/json"), br#"{"name":"ann","n":41}"#);
        assert_eq!(resp.status, 200, "{resp:?}");
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(body, serde_json::json!({"name": "ann", "n": 42}));
        let resp = echo(&app, Some("Application/JSON; charset=utf-8"), br#"{"n":-1,"name":""}"#);
        assert_eq!(resp.status, 200, "{resp:?}");
    }

    fn malformed_json_is_400_and_a_wrong_shape_422(engine) {
        let app = app!(engine);
        for body in [&br#"{"name":"a","n":1"#[..], b"{,}", b"", b"nul", br#"{"name":"a","n":1} x"#] {
            assert_json_error(&echo(&app, Some("application/json"), body), 400);
        }
        for body in [
            &br#"{"name":"a"}"#[..],
            br#"{"name":1,"n":1}"#,
            br#"{"name":"a","n":1.5}"#,
            br#"{"name":"a","n":"1"}"#,
            b"[]",
            br#"{"name":"a","n":9223372036854775807}"#,
        ] {
            assert_json_error(&echo(&app, Some("application/json"), body), 422);
        }
    }

    fn other_content_types_are_415(engine) {
        let app = app!(engine);
        let body = br#"{"name":"a","n":1}"#;
        assert_json_error(&echo(&app, Some("text/plain"), body), 415);
        assert_json_error(&echo(&app, None, body), 415);
    }

    fn a_body_over_the_limit_is_413(engine) {
        let app = app!(engine, &["--max-body", "64"]);
        let at_limit = format!(r#"{{"name":"{}","n":1}}"#, "a".repeat(64 - 17));
        assert_eq!(at_limit.len(), 64);
        let resp = echo(&app, Some("application/json"), at_limit.as_bytes());
        assert_eq!(resp.status, 200, "{resp:?}");
        let over = format!(r#"{{"name":"{}","n":1}}"#, "a".repeat(65 - 17));
        let resp = echo(&app, Some("application/json"), over.as_bytes());
        assert_eq!(resp.status, 413, "{resp:?}");
        assert!(!resp.body.is_empty(), "413 carries a reason: {resp:?}");
    }
}
