//! Routing: the pattern tree, groups, middleware composition, per-route
//! dispatch flags and immutable table snapshots.

mod params;

pub use params::{Params, MAX_PARAMS};

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
