//! Run-time registration over the wire: `POST /routes` with an invalid
//! pattern answers 400 with the reason, and the server keeps serving and
//! still stops on SIGTERM.

#[macro_use]
mod common;

use std::time::Duration;

use common::{assert_ok, post};

for_each_engine! {
    fn invalid_dynamic_route_is_400_and_the_server_still_serves_and_stops(engine) {
        let mut app = app!(engine);
        let mut conn = app.connect();
        conn.send(post("/routes?path=/dyn/:&mode=sync", None, b""));
        let resp = conn.read_response();
        assert_eq!(resp.status, 400, "{resp:?}");
        assert!(resp.text().contains("empty parameter name"), "{resp:?}");
        conn.send(post("/routes?path=/dyn/*&mode=async", None, b""));
        let resp = conn.read_response();
        assert_eq!(resp.status, 400, "{resp:?}");

        // Same connection and new ones: still served.
        let resp = conn.get("/hello");
        assert_ok(&resp, "Hello, World!", "inline", engine);
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        conn.send(post("/routes?path=/dyn/ok&mode=sync", None, b""));
        assert_eq!(conn.read_response().status, 201);
        assert_ok(&app.get("/dyn/ok"), "dyn:ok", "inline", engine);

        app.terminate();
        let status = app.wait_exit(Duration::from_secs(10)).expect("exited after SIGTERM");
        assert!(status.success(), "exit status {status:?}; stderr:\n{}", app.stderr());
    }
}
