//! switchyard: an HTTP server engine whose routes choose where their handlers run.
//!
//! A *sync* route runs inline on the event-loop worker that owns the connection;
//! an *async* route runs off the loop, on a dispatch actor, so a handler that
//! blocks or awaits never stalls the other connections of its worker. See
//! `docs/ARCHITECTURE.md` for the codemap and the invariants every module keeps.
//!
//! # Quick start
//!
//! Build a [`Server`] from a [`Config`] and routes, [`start`](Server::start)
//! it, and keep the [`ServerHandle`] to manage it while it serves:
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use std::time::Duration;
//! use switchyard::{Config, Server};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config {
//!     addr: "127.0.0.1:0".into(), // port 0: any free port
//!     ..Config::default()
//! };
//! let handle = Server::new(config)
//!     .get("/hello", |ctx| {
//!         ctx.text("Hello, World!");
//!         Ok(())
//!     })
//!     .start()?; // serving on return
//!
//! let mut conn = TcpStream::connect(handle.local_addr())?;
//! conn.write_all(b"GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
//! let mut reply = String::new();
//! conn.read_to_string(&mut reply)?;
//! assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(reply.ends_with("\r\n\r\nHello, World!"));
//!
//! handle.shutdown(Duration::from_secs(5))?;
//! # Ok(())
//! # }
//! ```
//!
//! A program that only serves uses [`Server::run`] instead, which blocks
//! until SIGINT or SIGTERM (Ctrl-C or Ctrl-Break on Windows) and then shuts
//! down gracefully:
//!
//! ```no_run
//! use switchyard::{Config, Server};
//!
//! fn main() -> std::io::Result<()> {
//!     Server::new(Config::default()) // 127.0.0.1:8080
//!         .get("/hello", |ctx| {
//!             ctx.text("Hello, World!");
//!             Ok(())
//!         })
//!         .run()
//! }
//! ```
//!
//! # Where to look
//!
//! - Routes: [`Router`] (patterns, groups, middleware, per-route
//!   [`Dispatch`]); [`Server::routes`] edits the server's.
//! - Handlers: a plain handler reads the request from and writes the
//!   response into a [`Ctx`]; a future handler takes an owned [`Request`]
//!   and returns a [`Response`]. Either answers an error with
//!   [`HttpError`]; middleware implements [`Middleware`].
//! - A running server: [`ServerHandle`] registers routes
//!   ([`RouteSpec`]), pauses and resumes accepting, reads the metrics
//!   ([`Snapshot`]) and shuts down.
//! - Settings: [`Config`], including the engine ([`EngineChoice`]) and the
//!   protocols ([`Protocol`]).

pub mod config;
pub mod handler;
pub mod router;
pub mod server;
pub mod testing;
#[cfg(feature = "tls")]
pub mod tls;
pub mod tower;

// The machinery below is public so the benchmarks and the allocation proof can
// drive it directly; it is not part of the API and may change at any time.
#[doc(hidden)]
pub mod conn;
#[doc(hidden)]
pub mod dispatch;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
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
