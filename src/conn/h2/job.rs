//! Work a loop-hosted h2 connection hands off its worker: a stream whose
//! route is async (its body read, its handler run on the blocking pool or
//! awaited, its response sent — the same code as the std engine's streams),
//! or a response produced inline whose body cannot be sent in the worker's
//! turn (a live body, or one larger than a flow-control window). Whatever
//! the job sends wakes the connection through its waker.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use h2::server::SendResponse;
use tokio::sync::Semaphore;

use super::stream::{self, Incoming};
use super::H2Env;
use crate::handler::Response;

/// Runs [`H2Job`]s off the loop (the dispatch pool's arbiters).
pub type StreamRunner = Arc<dyn Fn(H2Job) + Send + Sync>;

/// One piece of a stream's work for the pool.
pub struct H2Job {
    /// What to do.
    work: Work,
    /// The peer.
    remote: Option<SocketAddr>,
    /// Counts the job in flight on its connection until dropped.
    _done: InFlight,
}

/// What a job does.
// The job moves once, into the pool: boxing the request would cost an
// allocation per async stream for nothing.
#[allow(clippy::large_enum_variant)]
enum Work {
    /// Serve the stream whole: body, handler, response.
    Serve {
        /// The request.
        req: Incoming,
        /// Where the response goes.
        respond: SendResponse<Bytes>,
        /// Bounds the connection's blocking jobs.
        jobs: Arc<Semaphore>,
    },
    /// Send a response the handler already produced inline.
    Send {
        /// Where the response goes.
        respond: SendResponse<Bytes>,
        /// The response (boxed: it is large and the case is rare).
        resp: Box<Response>,
        /// The request was `HEAD`.
        head_request: bool,
    },
}

/// A job in flight on its connection: the count drops with the job, however
/// it ends (run, or dropped unrun with a stopped pool).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts one more job on `count`.
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl H2Job {
    /// A stream to serve whole, counted on `in_flight`.
    pub(super) fn serve(
        req: Incoming,
        respond: SendResponse<Bytes>,
        jobs: Arc<Semaphore>,
        remote: Option<SocketAddr>,
        in_flight: &Arc<AtomicUsize>,
    ) -> Self {
        H2Job {
            work: Work::Serve { req, respond, jobs },
            remote,
            _done: InFlight::new(in_flight),
        }
    }

    /// A response to send, counted on `in_flight`.
    pub(super) fn send(
        respond: SendResponse<Bytes>,
        resp: Response,
        head_request: bool,
        remote: Option<SocketAddr>,
        in_flight: &Arc<AtomicUsize>,
    ) -> Self {
        H2Job {
            work: Work::Send {
                respond,
                resp: Box::new(resp),
                head_request,
            },
            remote,
            _done: InFlight::new(in_flight),
        }
    }

    /// Runs the job on the current arbiter with `env`.
    pub async fn run(self, env: Rc<H2Env>) {
        match self.work {
            Work::Serve { req, respond, jobs } => {
                stream::serve_stream(req, respond, env, self.remote, jobs).await;
            }
            Work::Send {
                mut respond,
                mut resp,
                head_request,
            } => stream::send(&mut respond, &mut resp, head_request, &env).await,
        }
    }
}
