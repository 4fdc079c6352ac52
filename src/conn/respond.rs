//! One parsed request in, one response out: pre-routing middleware, lookup,
//! the handler chain (or the 404/405 fallback) — protocol-neutral in
//! [`answer`], then encoded as HTTP/1.1 by [`respond`] (h2 encodes the same
//! `Response` itself).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use tracing::Instrument;

use crate::handler::{
    run_after, run_before, run_plain, BodyMode, Ctx, Flow, Handler, HttpError, RequestParts,
    Response, ServeInfo,
};
use crate::proto::h1::{self, encode_response, DateCache, EncodeOpts};
use crate::proto::Version;
use crate::router::{path, Dispatch, Lookup, Params, Route, RouteTable};

/// What a worker or dispatch actor lends to answer one request.
pub struct Env<'w> {
    /// The route table snapshot in force for this batch.
    pub table: &'w RouteTable,
    /// The cached `date` header value.
    pub date: &'w DateCache,
    /// The connection's reusable response.
    pub resp: &'w mut Response,
    /// Engine, dispatch and peer.
    pub info: ServeInfo,
}

/// Who is answering, which decides what may run here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A loop worker: only sync routes with plain handlers run; anything else
    /// stops so the connection can be promoted.
    Inline,
    /// A dispatch actor on its arbiter: sync routes run; a plain handler of an
    /// async route (it may block) and a future handler stop.
    Arbiter,
    /// A dispatch actor's blocking-pool turn: plain handlers run; a future
    /// handler stops.
    Blocking,
}

/// What stopped [`respond`] before it ran anything of the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// A dispatch actor (the caller is a loop worker).
    Dispatch,
    /// The blocking pool (a plain handler on an async route).
    Blocking,
    /// An executor to await a future handler.
    Future,
    /// A protocol switch: the request asked to upgrade to h2c (only when the
    /// session allows it).
    Upgrade,
}

/// The result of [`respond`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Responded {
    /// A response was appended to the output.
    Done {
        /// The connection must close after this response.
        close: bool,
        /// The status sent.
        status: u16,
    },
    /// Nothing of the route ran and nothing was written: the request must be
    /// answered elsewhere.
    Stopped(Needs),
}

impl Mode {
    /// Whether a route with this handler and dispatch can run here, and if
    /// not, what it needs.
    fn check(self, handler: &Handler, dispatch: Dispatch) -> Option<Needs> {
        match (self, handler, dispatch) {
            (_, Handler::Plain(_), Dispatch::Inline) | (Mode::Blocking, Handler::Plain(_), _) => {
                None
            }
            (Mode::Inline, _, _) => Some(Needs::Dispatch),
            (_, Handler::Future(_), _) => Some(Needs::Future),
            (Mode::Arbiter, Handler::Plain(_), Dispatch::Async | Dispatch::Learn) => {
                Some(Needs::Blocking)
            }
        }
    }
}

/// Answers one complete request, appending the encoded response to `out`.
///
/// A request whose route cannot run in `mode` is not run:
/// [`Responded::Stopped`] says what it needs before any handler or middleware
/// of the route ran. Pre-routing middleware has run by then and runs again
/// where the request is finally served, so it must only depend on the request.
pub fn respond(
    req: &h1::Request<'_>,
    env: &mut Env<'_>,
    mode: Mode,
    out: &mut Vec<u8>,
) -> Responded {
    if let Some(needs) = answer(parts(req), env.table, env.info, env.resp, mode) {
        return Responded::Stopped(needs);
    }
    finish(&req.head, env.resp, env.date, out)
}

/// Answers one complete request whose route has a future handler: like
/// [`respond`], but the handler is awaited (as its own task, so a panic in it
/// is a 500 for this request only).
pub async fn respond_future(
    req: &h1::Request<'_>,
    env: &mut Env<'_>,
    out: &mut Vec<u8>,
) -> Responded {
    answer_future(parts(req), env.table, env.info, env.resp).await;
    finish(&req.head, env.resp, env.date, out)
}

/// The protocol-neutral half of [`respond`]: routes the request and runs its
/// chain, leaving the response in `resp` for the protocol's encoder. Returns
/// what the route needs instead when it cannot run in `mode` (nothing of the
/// route ran then).
///
/// `info.dispatch` is what a handler run in [`Mode::Inline`] or
/// [`Mode::Arbiter`] reports; a handler run in [`Mode::Blocking`] always
/// reports [`Dispatch::Async`].
pub fn answer(
    parts: RequestParts<'_>,
    table: &RouteTable,
    mut info: ServeInfo,
    resp: &mut Response,
    mode: Mode,
) -> Option<Needs> {
    resp.reset();
    if mode == Mode::Blocking {
        info.dispatch = Dispatch::Async;
    }
    let span = request_span(&parts, info);
    let _entered = span.enter();
    let mut ctx = Ctx::new(parts, info, resp);
    if let Routed::Route(route, params) = route(&mut ctx, table) {
        // The one place a request's dispatch is decided (a learning route's
        // too): every engine and protocol answers through here.
        let (dispatch, learner) = route.decide();
        if let Some(needs) = mode.check(route.handler(), dispatch) {
            return Some(needs);
        }
        ctx.set_route(route.pattern(), route.param_names(), params);
        if let Handler::Plain(f) = route.handler() {
            match learner {
                Some(l) if mode != Mode::Blocking => {
                    let started = Instant::now();
                    run_plain(&mut ctx, route.middleware(), &**f);
                    l.record(started.elapsed());
                }
                _ => run_plain(&mut ctx, route.middleware(), &**f),
            }
        }
        if let Some(l) = route.learner() {
            l.count(ctx.dispatch() == Dispatch::Async);
        }
    }
    close_span(&span, &mut ctx);
    None
}

/// The `request` span (level DEBUG, target `switchyard::request`) a
/// request's handling runs in: method, path, dispatch and engine at once,
/// route pattern and status when known; its lifetime is the handling time.
/// A disabled span costs a cached check.
#[inline]
fn request_span(parts: &RequestParts<'_>, info: ServeInfo) -> tracing::Span {
    tracing::debug_span!(
        target: "switchyard::request",
        "request",
        method = parts.method,
        path = parts.path,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        dispatch = ?info.dispatch,
        engine = %info.engine,
    )
}

/// Records what the handling found on the request's span.
#[inline]
fn close_span(span: &tracing::Span, ctx: &mut Ctx<'_>) {
    if !span.is_disabled() {
        span.record("route", ctx.pattern());
        span.record("status", ctx.response().status());
    }
}

/// The protocol-neutral half of [`respond_future`]: the response is left in
/// `resp`. Every handler run here reports [`Dispatch::Async`].
pub async fn answer_future(
    parts: RequestParts<'_>,
    table: &RouteTable,
    mut info: ServeInfo,
    resp: &mut Response,
) {
    resp.reset();
    info.dispatch = Dispatch::Async;
    let span = request_span(&parts, info);
    let mut ctx = Ctx::new(parts, info, resp);
    if let Routed::Route(route, params) = span.in_scope(|| route(&mut ctx, table)) {
        ctx.set_route(route.pattern(), route.param_names(), params);
        let chain = route.middleware();
        match route.handler() {
            Handler::Future(f) => {
                let before = span.in_scope(|| run_before(&mut ctx, chain));
                if before.run_handler {
                    let handler = f(ctx.to_request()).instrument(span.clone());
                    match actix_rt::spawn(handler).await {
                        Ok(Ok(resp)) => *ctx.response() = resp,
                        Ok(Err(err)) => ctx.response().set_error(&err),
                        Err(_) => {
                            tracing::error!(
                                path = ctx.path(),
                                "future handler panicked; answering 500"
                            );
                            ctx.response().set_error(&HttpError::internal());
                        }
                    }
                }
                span.in_scope(|| run_after(&mut ctx, chain, before.ran));
            }
            // The table changed since the request was classified: serve it
            // with what the route has now.
            Handler::Plain(f) => span.in_scope(|| run_plain(&mut ctx, chain, &**f)),
        }
    }
    close_span(&span, &mut ctx);
}

/// Where routing left a request.
enum Routed<'t> {
    /// Pre-routing middleware or the 404/405 fallback already answered.
    Answered,
    /// The route to run, with its captured params.
    Route(&'t Route, Params),
}

/// Runs pre-routing middleware and looks the request up; answers unmatched
/// requests with the 404/405 fallback.
fn route<'t>(ctx: &mut Ctx<'_>, table: &'t RouteTable) -> Routed<'t> {
    if let Err(e) = path::apply(ctx) {
        let error = HttpError::bad_request(e.reason());
        fallback(ctx, table, |resp| resp.set_error(&error));
        return Routed::Answered;
    }
    if !run_pre(table, ctx) {
        return Routed::Answered;
    }
    match table.lookup(ctx.method(), ctx.path()) {
        Lookup::Found(m) => Routed::Route(m.route, m.params),
        Lookup::MethodNotAllowed(allow) => {
            let mut list = Vec::new();
            allow.write_to(&mut list);
            fallback(ctx, table, |resp| {
                resp.set_status(405);
                resp.header_bytes("allow", &list);
                resp.text("405 Method Not Allowed");
            });
            Routed::Answered
        }
        Lookup::NotFound => {
            fallback(ctx, table, |resp| {
                resp.set_status(404);
                resp.text("404 Not Found");
            });
            Routed::Answered
        }
    }
}

/// Encodes the final response of a request.
#[inline]
pub fn finish(
    head: &h1::Head<'_>,
    resp: &mut Response,
    date: &DateCache,
    out: &mut Vec<u8>,
) -> Responded {
    let http10 = head.version == Version::Http10;
    let live = resp.mode() == BodyMode::Live;
    if http10 && !live {
        // HTTP/1.0 has no chunked coding; the streamed body is whole by now.
        resp.unstream();
    }
    let head_request = head.method == "HEAD";
    // A live body on HTTP/1.0 ends with the connection.
    let until_close = http10 && live && !head_request;
    let close = !head.keep_alive || resp.wants_close() || until_close;
    let opts = EncodeOpts {
        head_request,
        close,
        until_close,
        http10,
    };
    encode_response(resp, opts, date, out);
    Responded::Done {
        close,
        status: resp.status(),
    }
}

/// The parts of a parsed request a context borrows.
pub fn parts<'b>(req: &'b h1::Request<'b>) -> RequestParts<'b> {
    let head = &req.head;
    RequestParts {
        method: head.method,
        path: head.path,
        query: head.query,
        authority: head.authority,
        version: head.version,
        headers: head.headers,
        body: req.body,
    }
}

/// Runs pre-routing middleware; false when one of them answered already.
fn run_pre(table: &RouteTable, ctx: &mut Ctx<'_>) -> bool {
    for pre in table.pre() {
        match catch_unwind(AssertUnwindSafe(|| pre(ctx))) {
            Ok(Ok(Flow::Continue)) => {}
            Ok(Ok(Flow::Stop)) => return false,
            Ok(Err(err)) => {
                ctx.response().set_error(&err);
                return false;
            }
            Err(_) => {
                tracing::error!(
                    path = ctx.path(),
                    "pre-routing middleware panicked; answering 500"
                );
                ctx.response().set_error(&HttpError::internal());
                return false;
            }
        }
    }
    true
}

/// Answers an unmatched request through the global middleware, so their
/// headers and logging apply to 404 and 405 too.
fn fallback(ctx: &mut Ctx<'_>, table: &RouteTable, write: impl FnOnce(&mut Response)) {
    let chain = table.global_middleware();
    let before = run_before(ctx, chain);
    if before.run_handler {
        write(ctx.response());
    }
    run_after(ctx, chain, before.ran);
}

#[cfg(test)]
mod span_tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;
    use crate::config::EngineKind;
    use crate::router::Router;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    #[test]
    fn every_request_runs_in_a_request_span_with_its_route_and_status() {
        let mut router = Router::new();
        router.get("/users/:id", |ctx| {
            tracing::info!("inside the handler");
            ctx.text("u");
            Ok(())
        });
        let table = router.table();
        let sink = Sink::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(sink.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .finish();
        let mut resp = Response::new();
        tracing::subscriber::with_default(subscriber, || {
            let parts = RequestParts {
                method: "GET",
                path: "/users/7",
                query: "",
                authority: None,
                version: crate::proto::Version::Http11,
                headers: &[],
                body: &[],
            };
            let info = ServeInfo {
                engine: EngineKind::Epoll,
                dispatch: Dispatch::Inline,
                remote: None,
            };
            assert!(answer(parts, &table, info, &mut resp, Mode::Inline).is_none());
        });
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(
            out.contains("request{method=\"GET\" path=\"/users/7\"")
                && out.contains("inside the handler"),
            "the handler's event is inside the span: {out}"
        );
        assert!(
            out.contains("route=\"/users/:id\"")
                && out.contains("status=200")
                && out.contains("close"),
            "route, status and the close with its timing: {out}"
        );
    }
}
