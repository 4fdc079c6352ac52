//! Engine-agnostic connection logic: buffers, the per-connection HTTP/1.1
//! session (pipelining order, keep-alive, the promotion decision), turning one
//! parsed request into an encoded response, and deadlines. Every engine and
//! the dispatch actor drive connections through this module; none of them
//! holds HTTP logic of its own. `h2` drives h2c connections on an arbiter.

mod buffer;
mod deadline;
pub mod h2;
mod respond;
mod session;
mod settings;

pub use buffer::{BufPool, InBuf, OutBuf};
pub use deadline::{Deadline, DeadlineKind, Progress};
pub use respond::{
    answer, answer_future, finish, parts, respond, respond_future, Env, Mode, Needs, Responded,
};
pub(crate) use session::READ_CHUNK;
pub use session::{Drive, H1Session, Io, Outcome, Processed, Traffic};
pub use settings::ConnConfig;

#[cfg(test)]
mod tests;
