//! Routing: the pattern tree, groups, middleware composition, per-route
//! dispatch flags and immutable table snapshots.
//!
//! Patterns are `/`-separated segments: static text, `:param` (one whole,
//! non-empty segment) and `*catch-all` (last segment only; the rest of the
//! path without its leading slash, possibly empty). Static beats param beats
//! catch-all whatever the registration order. A trailing slash is
//! significant. A [`Router`] collects definitions; [`Router::table`] compiles
//! an immutable [`RouteTable`], which a [`SharedTable`] publishes to the
//! workers.

#[macro_use]
mod shortcuts;

mod allow;
mod builder;
mod error;
mod group;
mod methods;
mod params;
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
pub use params::{Params, MAX_PARAMS};
pub use route::Route;
pub use route_ref::RouteRef;
pub use shared::{SharedTable, TableGuard};
pub use table::{Lookup, Match, RouteTable};
pub use url::UrlError;

/// A pre-routing hook: runs before lookup on every request and may rewrite
/// the method and path, or answer and stop.
pub type PreFn = Arc<dyn Fn(&mut Ctx<'_>) -> Result<Flow, HttpError> + Send + Sync>;

/// Where a route's handler runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dispatch {
    /// On the event-loop worker that owns the connection, in its own turn.
    #[default]
    Inline,
    /// Off the loop: on a dispatch actor (HTTP/1.1) or the async pool (h2).
    Async,
}

impl Dispatch {
    /// The value of the `x-dispatch` header the conformance app reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dispatch::Inline => "inline",
            Dispatch::Async => "async",
        }
    }
}
