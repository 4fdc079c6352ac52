//! switchyard: an HTTP server engine whose routes choose where their handlers run.
//!
//! A *sync* route runs inline on the event-loop worker that owns the connection;
//! an *async* route runs off the loop, so a handler that blocks or awaits never
//! stalls the other connections of its worker. See `docs/ARCHITECTURE.md` for the
//! codemap and the invariants every module keeps.

pub mod config;
pub mod handler;
pub mod proto;
pub mod router;

pub use config::EngineKind;
pub use handler::{Ctx, Flow, Handler, HttpError, Middleware, Request, Response};
pub use proto::Version;
pub use router::{Dispatch, Params};
