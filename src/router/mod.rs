//! Routing: the pattern tree, groups, middleware composition, per-route
//! dispatch flags and immutable table snapshots.
//!
//! Patterns are `/`-separated segments: static text, `:param` (one whole,
//! non-empty segment) and `*catch-all` (last segment only; the rest of the
//! path without its leading slash, possibly empty). Static beats param beats
//! catch-all whatever the registration order. A [`Router`] collects
//! definitions; [`Router::table`] compiles an immutable [`RouteTable`],
//! which a [`SharedTable`] publishes to the workers.
//!
//! Request paths (`docs/runtime-semantics.md` has the full rules):
//! - every `/` is significant: `//hello` does not match `/hello`, and a
//!   trailing slash is significant;
//! - dot segments (`.`, `..`, also as `%2E`) are removed before routing
//!   (RFC 3986 §5.2.4), never climbing above the root: `/a/../b` routes as
//!   `/b`, and [`Ctx::path`](crate::Ctx::path) is the normalized path;
//! - a malformed escape (`%zz`) or a segment that does not decode to UTF-8
//!   is answered 400;
//! - routing compares raw segments; captured values are percent-decoded
//!   afterwards, except `%2F`, which stays as sent, so a value never holds a
//!   `/` that was not a separator in the request.

#[macro_use]
mod shortcuts;

mod allow;
mod builder;
mod error;
mod group;
mod learn;
mod methods;
mod params;
pub(crate) mod path;
mod pattern;
mod route;
mod route_ref;
mod shared;
mod table;
mod tree;
mod url;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::handler::{Ctx, Flow, HttpError};

pub use crate::handler::SharedMiddleware;
pub use allow::AllowList;
pub use builder::Router;
pub use error::RouteError;
pub use group::Group;
pub use learn::{LearnState, LearnStats, HANDLER_TIME_BOUNDS};
pub use params::{Params, MAX_PARAMS};
pub use route::Route;
pub use route_ref::RouteRef;
pub use shared::{SharedTable, TableGuard};
pub use table::{Lookup, Match, RouteTable};
pub use url::UrlError;

pub(crate) use path::decode as decode_param;

/// A pre-routing hook: runs before lookup on every request and may rewrite
/// the method and path, or answer and stop.
pub type PreFn = Arc<dyn Fn(&mut Ctx<'_>) -> Result<Flow, HttpError> + Send + Sync>;

/// Where a route's handler runs.
///
/// The most specific setting wins: the route's (`.sync()`,
/// `.asynchronous()`, `.learn()`, `.dispatch(..)`), then its group's, then
/// the server's default ([`Config::learn_dispatch`](crate::Config::learn_dispatch),
/// else [`Config::async_handlers`](crate::Config::async_handlers)). A future
/// handler always runs [`Async`](Dispatch::Async). A handler sees where it
/// runs in [`Ctx::dispatch`](crate::Ctx::dispatch): `Inline` or `Async`,
/// never `Learn`.
///
/// # Examples
///
/// ```
/// use switchyard::{Dispatch, Router};
///
/// let blocking = std::env::var("APP_BLOCKING_IO").is_ok();
/// let mut router = Router::new();
/// router
///     .get("/query", |ctx| { ctx.text("rows"); Ok(()) })
///     .dispatch(if blocking { Dispatch::Async } else { Dispatch::Inline });
/// assert_eq!(Dispatch::default(), Dispatch::Inline);
/// assert_eq!(Dispatch::Async.as_str(), "async");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dispatch {
    /// On the event-loop worker that owns the connection, in its own turn.
    #[default]
    Inline,
    /// Off the loop: on a dispatch actor (HTTP/1.1) or the async pool (h2).
    Async,
    /// Learnt per request from the handler's timings: inline while fast,
    /// async for a while after slow runs (more than 2 ms once, or more than
    /// 300 µs eight times in a row), inline for good after 256 fast runs in
    /// a row. `docs/runtime-semantics.md` has the whole policy.
    Learn,
}

impl Dispatch {
    /// Its name; for where a handler ran (`inline` or `async`), the value of
    /// the `x-dispatch` header the conformance app reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dispatch::Inline => "inline",
            Dispatch::Async => "async",
            Dispatch::Learn => "learn",
        }
    }
}
