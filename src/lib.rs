//! switchyard: an HTTP server engine whose routes choose where their handlers run.
//!
//! A *sync* route runs inline on the event-loop worker that owns the connection;
//! an *async* route runs off the loop, on a dispatch actor, so a handler that
//! blocks or awaits never stalls the other connections of its worker. See
//! `docs/ARCHITECTURE.md` for the codemap and the invariants every module keeps.
//!
//! ```no_run
//! use switchyard::{Config, Server};
//!
//! Server::new(Config::default())
//!     .get("/hello", |ctx| {
//!         ctx.text("Hello, World!");
//!         Ok(())
//!     })
//!     .run()
//!     .unwrap();
//! ```

pub mod config;
pub mod handler;
pub mod router;
pub mod server;

// The machinery below is public so the benchmarks and the allocation proof can
// drive it directly; it is not part of the API and may change at any time.
#[doc(hidden)]
pub mod conn;
#[doc(hidden)]
pub mod dispatch;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod metrics;
#[doc(hidden)]
pub mod proto;

pub use config::{Config, EngineChoice, EngineKind, Protocol};
pub use handler::{
    BodyClosed, BodySender, Ctx, Flow, Handler, HttpError, Middleware, Request, Response,
};
pub use metrics::Snapshot;
pub use proto::Version;
pub use router::RouteError;
pub use router::{Dispatch, Params, RouteTable, Router};
pub use server::{
    EngineInfo, MetricsActor, RegisterError, RouteSpec, Server, ServerActor, ServerHandle,
};
pub use switchyard_actors as actors;

/// The README's Rust examples, compiled as doctests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
