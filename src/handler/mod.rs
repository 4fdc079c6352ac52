//! Handlers and their context: `Ctx` (request view + response writer), the two
//! handler kinds, middleware, `HttpError`, and the chain runner that turns
//! errors and panics into responses.

mod access_log;
mod chain;
mod ctx;
mod error;
mod extract;
mod middleware;
mod request;
mod response;
pub mod sse;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use access_log::AccessLog;
pub use chain::{run_after, run_before, run_plain, Before as BeforeOutcome};
pub use ctx::{Ctx, RequestParts, ServeInfo};
pub use error::HttpError;
pub use middleware::{After, Before, Flow, Middleware};
pub use request::Request;
pub use response::{BodyClosed, BodyMode, BodySender, Response};

/// A plain handler: runs to completion over a borrowed context. On a sync route
/// it runs on the loop worker and must not block; on an async route it may.
pub type PlainFn = dyn Fn(&mut Ctx<'_>) -> Result<(), HttpError> + Send + Sync;

/// The future a future handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response, HttpError>> + Send>>;

/// A future handler: takes an owned request, awaits, returns a response. Always
/// dispatched off the loop.
pub type FutureFn = dyn Fn(Request) -> HandlerFuture + Send + Sync;

/// A route's handler, as [`Router::handle`](crate::Router::handle) and
/// [`RouteSpec`](crate::RouteSpec) take it (the shortcuts such as
/// [`Router::get`](crate::Router::get) wrap it for you).
///
/// # Examples
///
/// ```
/// use switchyard::{Handler, Request, Response, Router};
///
/// let mut router = Router::new();
/// router.handle("PURGE", "/cache", Handler::plain(|ctx| {
///     ctx.no_content(204);
///     Ok(())
/// }));
/// router.handle("GET", "/later", Handler::future(|req: Request| async move {
///     Ok(Response::with_text(req.path()))
/// }));
/// ```
#[derive(Clone)]
pub enum Handler {
    /// Runs over `&mut Ctx`.
    Plain(Arc<PlainFn>),
    /// Awaited off the loop.
    Future(Arc<FutureFn>),
}

impl Handler {
    /// Wraps a plain function.
    pub fn plain<F>(f: F) -> Self
    where
        F: Fn(&mut Ctx<'_>) -> Result<(), HttpError> + Send + Sync + 'static,
    {
        Handler::Plain(Arc::new(f))
    }

    /// Wraps an async function.
    pub fn future<F, Fut>(f: F) -> Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Response, HttpError>> + Send + 'static,
    {
        Handler::Future(Arc::new(move |req| Box::pin(f(req)) as HandlerFuture))
    }

    /// Whether this handler must be awaited (and so always runs async).
    pub fn is_future(&self) -> bool {
        matches!(self, Handler::Future(_))
    }
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handler::Plain(_) => "Handler::Plain",
            Handler::Future(_) => "Handler::Future",
        })
    }
}

/// A shared middleware.
pub type SharedMiddleware = Arc<dyn Middleware>;
