//! Helpers: a no-op handler, a middleware that records its tag, and a runner
//! that routes a request and runs the matched chain.

use std::sync::{Arc, Mutex};

use crate::config::EngineKind;
use crate::handler::{run_plain, Ctx, Flow, Handler, HttpError, Middleware, RequestParts};
use crate::handler::{Response, ServeInfo};
use crate::proto::Version;
use crate::router::{Dispatch, Lookup, RouteTable};

/// A handler that writes nothing.
pub(super) fn ok(_: &mut Ctx<'_>) -> Result<(), HttpError> {
    Ok(())
}

/// A shared record of which middleware ran.
pub(super) type Trace = Arc<Mutex<Vec<&'static str>>>;

/// A middleware that appends its tag to a trace.
pub(super) struct Tag(pub(super) &'static str, pub(super) Trace);

impl Middleware for Tag {
    fn before(&self, _: &mut Ctx<'_>) -> Result<Flow, HttpError> {
        self.1.lock().unwrap().push(self.0);
        Ok(Flow::Continue)
    }
}

/// A fresh trace.
pub(super) fn trace() -> Trace {
    Arc::new(Mutex::new(Vec::new()))
}

/// Routes `method path` in `table` and runs the matched route's middleware
/// and plain handler; returns the trace contents (then cleared).
pub(super) fn run(
    table: &RouteTable,
    method: &str,
    path: &str,
    trace: &Trace,
) -> Vec<&'static str> {
    let Lookup::Found(m) = table.lookup(method, path) else {
        panic!("{method} {path} did not match");
    };
    let Handler::Plain(handler) = m.route.handler() else {
        panic!("{method} {path} has a future handler");
    };
    let mut resp = Response::new();
    let mut ctx = Ctx::new(parts(method, path), info(), &mut resp);
    ctx.set_route(m.route.pattern(), m.route.param_names(), m.params);
    run_plain(&mut ctx, m.route.middleware(), &**handler);
    std::mem::take(&mut *trace.lock().unwrap())
}

/// The pattern and param values `method path` matches, or `None`.
pub(super) fn matched(
    table: &RouteTable,
    method: &str,
    path: &str,
) -> Option<(String, Vec<String>)> {
    match table.lookup(method, path) {
        Lookup::Found(m) => {
            let values = (0..m.params.len())
                .map(|i| m.params.value(path, i).unwrap().to_owned())
                .collect();
            Some((m.route.pattern().to_owned(), values))
        }
        Lookup::MethodNotAllowed(_) | Lookup::NotFound => None,
    }
}

/// The pattern `GET path` matches, or `None`.
pub(super) fn pattern_of(table: &RouteTable, path: &str) -> Option<String> {
    matched(table, "GET", path).map(|(p, _)| p)
}

/// Request parts for `method path`.
pub(super) fn parts<'r>(method: &'r str, path: &'r str) -> RequestParts<'r> {
    RequestParts {
        method,
        path,
        query: "",
        authority: None,
        version: Version::Http11,
        headers: &[],
        body: &[],
    }
}

/// Serving details for a test request.
pub(super) fn info() -> ServeInfo {
    ServeInfo {
        engine: EngineKind::Std,
        dispatch: Dispatch::Inline,
        remote: None,
    }
}
