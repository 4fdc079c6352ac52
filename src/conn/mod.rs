//! Engine-agnostic connection logic: buffers, the per-connection HTTP/1.1
//! session (the one state machine that owns every connection policy:
//! pipelining order, keep-alive, caps, deadlines, lingering close, live
//! bodies, the promotion decision), turning one parsed request into an
//! encoded response, and the drivers that serve a session — `ready`
//! (readiness events, the loop workers), `complete` (completions, the
//! io_uring worker) and `task` (an async task: promoted connections and the
//! std engine). `h2` drives h2c connections, on an arbiter or in a loop
//! worker's turns; `looped` is what an epoll worker's connection speaks
//! (detection, HTTP/1.1, h2c) and its one readiness entry point.

mod buffer;
mod complete;
mod deadline;
pub mod h2;
mod io;
mod looped;
mod ready;
mod respond;
mod session;
mod settings;
mod task;

pub use buffer::{BufPool, InBuf, OutBuf};
pub use complete::{carry, complete, Done, Next};
pub use deadline::{Deadline, DeadlineKind, Progress};
pub use io::{flush, read_once, Read, Socket, Traffic};
pub use looped::{complete_loop, serve_loop, Detecting, LoopLend, LoopSession};
pub use ready::{drive, Drive, Event, Io, Readiness};
pub use respond::{
    answer, answer_future, finish, parts, respond, respond_future, Env, Mode, Needs, Responded,
};
pub(crate) use session::READ_CHUNK;
pub use session::{H1Session, Link, Outcome, Processed};
pub use settings::ConnConfig;
pub(crate) use task::{serve_h1, Served, Serving, TaskSocket};

#[cfg(test)]
pub(crate) mod tests;
