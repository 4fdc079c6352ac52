//! An in-process client for testing an application's routes without a port
//! or a socket: requests go through the same routing, path rules,
//! middleware and handlers as on a server (sync routes inline, plain
//! handlers of async routes as on the blocking pool, future handlers
//! awaited), and the answer comes back as a [`TestResponse`].
//!
//! What it does not exercise is the wire: HTTP/1.1 parsing and framing,
//! connection limits and timeouts are the servers' (and their tests').
//!
//! # Examples
//!
//! ```
//! use switchyard::testing::TestClient;
//! use switchyard::{Request, Response, Router};
//!
//! let mut router = Router::new();
//! router.get("/users/:id", |ctx| {
//!     let id: u64 = ctx.param_as("id")?;
//!     ctx.json(&serde_json::json!({ "id": id }))?;
//!     Ok(())
//! });
//! router.get_future("/slow", |_req: Request| async move {
//!     Ok(Response::with_text("done"))
//! });
//!
//! let client = TestClient::new(router);
//! let resp = client.get("/users/7");
//! assert_eq!(resp.status, 200);
//! assert_eq!(resp.text(), r#"{"id":7}"#);
//! assert_eq!(client.get("/users/x").status, 400);
//! assert_eq!(client.get("/slow").text(), "done");
//! assert_eq!(client.get("/missing").status, 404);
//! ```

use std::time::Duration;

use crate::config::EngineKind;
use crate::conn::{answer, answer_future, Mode};
use crate::handler::{BodyMode, RequestParts, Response, ServeInfo};
use crate::proto::Version;
use crate::router::{Dispatch, RouteTable, Router};

/// How long a live body may take to end before the client gives up on it.
const LIVE_BODY_LIMIT: Duration = Duration::from_secs(30);

/// Sends requests to a router in process (see the [module](self) docs).
pub struct TestClient {
    /// The routes, compiled.
    table: RouteTable,
    /// Runs future handlers and live bodies.
    system: actix_rt::SystemRunner,
}

/// What a [`TestClient`] request got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResponse {
    /// Status code.
    pub status: u16,
    /// Header lines in the order set (the protocol layer's own, such as
    /// `content-length` and `date`, are not there).
    pub headers: Vec<(String, String)>,
    /// The whole body (every piece of a streamed or live one).
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The first value of header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl TestClient {
    /// A client for `router`'s routes as they are now.
    pub fn new(router: Router) -> Self {
        TestClient {
            table: router.table(),
            system: actix_rt::System::new(),
        }
    }

    /// `GET target` (path and query).
    pub fn get(&self, target: &str) -> TestResponse {
        self.request("GET", target, &[], b"")
    }

    /// `POST target` with a body of `content_type`.
    pub fn post(&self, target: &str, content_type: &str, body: &[u8]) -> TestResponse {
        self.request("POST", target, &[("content-type", content_type)], body)
    }

    /// Any request: method, target (path and query), header fields, body.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> TestResponse {
        let fields: Vec<httparse::Header<'_>> = headers
            .iter()
            .map(|&(name, value)| httparse::Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let parts = || RequestParts {
            method,
            path,
            query,
            authority: None,
            version: Version::Http11,
            headers: &fields,
            body,
        };
        let info = ServeInfo {
            engine: EngineKind::Std,
            dispatch: Dispatch::Inline,
            remote: None,
        };
        let mut resp = Response::new();
        // As a worker would: sync routes inline; else a plain handler as on
        // the blocking pool, a future handler awaited.
        if answer(parts(), &self.table, info, &mut resp, Mode::Inline).is_some()
            && answer(parts(), &self.table, info, &mut resp, Mode::Blocking).is_some()
        {
            self.system
                .block_on(answer_future(parts(), &self.table, info, &mut resp));
        }
        let mut body = resp.body().to_vec();
        if resp.mode() == BodyMode::Live {
            if let Some(pieces) = resp.take_live() {
                self.system.block_on(async {
                    let collect = async {
                        while let Ok(piece) = pieces.recv_async().await {
                            body.extend_from_slice(&piece);
                        }
                    };
                    let _ = tokio::time::timeout(LIVE_BODY_LIMIT, collect).await;
                });
            }
        }
        TestResponse {
            status: resp.status(),
            headers: resp
                .headers()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(n).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect(),
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::sse::Event;
    use crate::Request;

    #[test]
    fn handlers_run_where_a_server_runs_them_and_live_bodies_are_collected() {
        let mut router = Router::new();
        let where_ = |ctx: &mut crate::Ctx<'_>| {
            let d = format!("{:?}", ctx.dispatch());
            ctx.text(&d);
            Ok(())
        };
        router.get("/sync", where_);
        router.get("/async", where_).asynchronous();
        router.get_future("/events", |_req: Request| async move {
            let mut resp = Response::new();
            let events = resp.sse();
            actix_rt::spawn(async move {
                for i in 0..3 {
                    let _ = events.send_async(&Event::data(format!("e{i}"))).await;
                }
            });
            Ok(resp)
        });
        let client = TestClient::new(router);
        assert_eq!(client.get("/sync").text(), "Inline");
        assert_eq!(client.get("/async").text(), "Async");
        let events = client.get("/events");
        assert_eq!(events.header("content-type"), Some("text/event-stream"));
        assert_eq!(events.text(), "data: e0\n\ndata: e1\n\ndata: e2\n\n");
        let posted = client.post("/sync", "text/plain", b"x");
        assert_eq!(posted.status, 405);
        assert_eq!(posted.header("allow"), Some("GET, HEAD"));
    }
}
