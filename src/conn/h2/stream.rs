//! One h2 stream: its body read under flow control and the body limit, the
//! same routing and handler chain as HTTP/1.1 (sync routes here on the
//! arbiter, plain handlers of async routes on the blocking pool, future
//! handlers awaited), and the response sent as HEADERS and DATA.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use super::H2Env;
use crate::conn::{answer, answer_future, ConnConfig, Mode, Needs};
use crate::handler::{HttpError, Response, ServeInfo};
use crate::proto::h2::{body_pieces, header_list, request_parts, response_head, sends_body};
use crate::router::{Dispatch, RouteTable};

/// Bytes of queued live-body pieces joined into one DATA frame run at most.
const COALESCE: usize = 16 * 1024;

/// Why a request body could not be read.
enum BodyError {
    /// Larger than the limit: answered 413.
    TooLarge,
    /// The stream or connection failed: nothing to answer.
    Gone,
    /// No body bytes for the idle timeout: the stream is reset.
    Stalled,
}

/// What a stream's request came to before anything was sent.
enum Outcome {
    /// Send this response (`true`: to a HEAD request).
    Answer(Response, bool),
    /// The stream or connection failed: nothing to answer.
    Gone,
    /// The client stopped sending its body: the stream is reset.
    Stalled,
}

/// A stream's request as it reaches whoever serves it.
pub enum Incoming {
    /// Its body still arrives on the stream.
    Open(http::Request<RecvStream>),
    /// Whole already: the request an `Upgrade: h2c` carried over (stream 1),
    /// or one whose body a loop worker read before its route turned out to
    /// need the pool.
    Whole(http::Request<Bytes>),
}

/// Serves one stream. A client that resets the stream before its answer is
/// sent drops the work at once (a future handler is dropped, a blocking job
/// not yet started never starts); `jobs` bounds the connection's blocking
/// jobs.
pub(super) async fn serve_stream(
    req: Incoming,
    mut respond: SendResponse<Bytes>,
    env: Rc<H2Env>,
    remote: Option<SocketAddr>,
    jobs: Arc<Semaphore>,
) {
    let started = Instant::now();
    let work = prepare(req, &env, remote, &jobs);
    let outcome = tokio::select! {
        // A reset already received wins: nothing of the request starts.
        biased;
        reset = poll_fn(|cx| respond.poll_reset(cx)) => {
            tracing::debug!(?reset, "stream reset before its answer; work dropped");
            return;
        }
        outcome = work => outcome,
    };
    match outcome {
        Outcome::Gone => {}
        Outcome::Stalled => {
            tracing::debug!("request body stalled; stream reset");
            respond.send_reset(h2::Reason::CANCEL);
        }
        Outcome::Answer(mut resp, head_request) => {
            send(&mut respond, &mut resp, head_request, &env).await;
            let errors = u64::from(resp.status() >= 500);
            env.tally.answered(1, errors, started.elapsed());
        }
    }
}

/// Reads the request's body and runs its handler: everything up to the
/// response, which a reset of the stream may drop at any await.
async fn prepare(
    req: Incoming,
    env: &H2Env,
    remote: Option<SocketAddr>,
    jobs: &Arc<Semaphore>,
) -> Outcome {
    let (head, body) = match req {
        Incoming::Whole(r) => r.into_parts(),
        Incoming::Open(req) => {
            let (head, recv) = req.into_parts();
            match read_body(recv, &head, &env.cfg).await {
                Ok(body) => (head, body),
                Err(BodyError::Gone) => return Outcome::Gone,
                Err(BodyError::Stalled) => return Outcome::Stalled,
                Err(BodyError::TooLarge) => {
                    let mut resp = Response::new();
                    resp.set_error(&HttpError::new(413, "Request body too large"));
                    return Outcome::Answer(resp, false);
                }
            }
        }
    };
    let head_request = head.method == http::Method::HEAD;
    Outcome::Answer(run(head, body, env, remote, jobs).await, head_request)
}

/// Reads the whole body, releasing flow-control capacity as it is read; a
/// client that stops sending for the idle timeout loses the stream.
async fn read_body(
    mut recv: RecvStream,
    head: &http::request::Parts,
    cfg: &ConnConfig,
) -> Result<Bytes, BodyError> {
    let max = cfg.limits.max_body;
    let declared = head
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge);
    }
    let mut buf = BytesMut::new();
    loop {
        let next = timeout(cfg.idle_timeout, recv.data())
            .await
            .map_err(|_| BodyError::Stalled)?;
        let Some(chunk) = next else {
            break;
        };
        let chunk = chunk.map_err(|_| BodyError::Gone)?;
        if (buf.len() + chunk.len()) as u64 > max {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
        let _ = recv.flow_control().release_capacity(chunk.len());
    }
    Ok(buf.freeze())
}

/// Routes and runs the request where its route says.
async fn run(
    head: http::request::Parts,
    body: Bytes,
    env: &H2Env,
    remote: Option<SocketAddr>,
    jobs: &Arc<Semaphore>,
) -> Response {
    let table = env.table.load_full();
    let info = ServeInfo {
        engine: env.engine,
        dispatch: Dispatch::Inline,
        remote,
    };
    let mut resp = Response::new();
    let headers = header_list(&head);
    let parts = request_parts(&head, &headers, &body);
    let needs = answer(parts, &table, info, &mut resp, Mode::Arbiter);
    drop(headers);
    match needs {
        None => resp,
        Some(Needs::Blocking) => run_blocking(head, body, table, info, resp, jobs).await,
        Some(Needs::Future) => run_future(head, body, &table, info, resp).await,
        Some(other) => {
            tracing::error!(?other, "an h2 stream cannot be stopped for this");
            resp.set_error(&HttpError::internal());
            resp
        }
    }
}

/// Runs a plain handler of an async route on the blocking pool, once one of
/// the connection's job slots is free. The job holds its slot until it
/// really ends, so a stream reset while its handler blocks keeps the slot
/// busy as long as the thread is: a connection never has more blocking jobs
/// in flight than it may have streams. Dropped before the job starts (the
/// stream was reset while the job waited for a slot or a thread), the job
/// never runs the handler.
async fn run_blocking(
    head: http::request::Parts,
    body: Bytes,
    table: Arc<RouteTable>,
    info: ServeInfo,
    mut resp: Response,
    jobs: &Arc<Semaphore>,
) -> Response {
    let Ok(slot) = jobs.clone().acquire_owned().await else {
        tracing::error!("the connection's job slots are closed; answering 500");
        resp.set_error(&HttpError::internal());
        return resp;
    };
    let abandoned = Abandoned::default();
    let gone = abandoned.0.clone();
    let blocking_table = table.clone();
    let turn = actix_rt::task::spawn_blocking(move || {
        let _slot = slot;
        // Acquire: pairs with the Release store of the waiter's drop.
        if gone.load(Ordering::Acquire) {
            return None;
        }
        let headers = header_list(&head);
        let parts = request_parts(&head, &headers, &body);
        let needs = answer(parts, &blocking_table, info, &mut resp, Mode::Blocking);
        drop(headers);
        Some((head, body, resp, needs))
    })
    .await;
    match turn {
        Ok(Some((h, b, r, n))) => match n {
            None => r,
            // A route that became a future handler meanwhile is awaited.
            Some(_) => run_future(h, b, &table, info, r).await,
        },
        // `None` only comes back to a waiter that is gone.
        Ok(None) | Err(_) => {
            tracing::error!("blocking handler turn failed; answering 500");
            let mut r = Response::new();
            r.set_error(&HttpError::internal());
            r
        }
    }
}

/// Set when the stream waiting for a blocking job is dropped, so a job the
/// pool has not started yet skips the handler.
#[derive(Default)]
struct Abandoned(Arc<AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Awaits a future handler.
async fn run_future(
    head: http::request::Parts,
    body: Bytes,
    table: &RouteTable,
    info: ServeInfo,
    mut resp: Response,
) -> Response {
    let headers = header_list(&head);
    answer_future(
        request_parts(&head, &headers, &body),
        table,
        info,
        &mut resp,
    )
    .await;
    resp
}

/// Sends the response: HEADERS, then DATA per body piece — for a live body,
/// each piece as the handler sends it, then an empty DATA frame that ends
/// the stream (a reset by the client while the handler is between pieces
/// ends it at once).
pub(super) async fn send(
    respond: &mut SendResponse<Bytes>,
    resp: &mut Response,
    head_request: bool,
    env: &H2Env,
) {
    let head = {
        let mut date = env.date.borrow_mut();
        date.update(SystemTime::now());
        response_head(resp, date.as_bytes())
    };
    let body = sends_body(resp, head_request);
    let Ok(mut stream) = respond.send_response(head, !body) else {
        return;
    };
    if !body {
        return;
    }
    let patience = env.cfg.write_timeout;
    if let Some(live) = resp.take_live() {
        loop {
            let next = tokio::select! {
                biased;
                // The client reset the stream: dropping `live` closes the
                // handler's `BodySender` (its next send is `BodyClosed`).
                _ = poll_fn(|cx| stream.poll_reset(cx)) => return,
                next = live.recv_async() => next,
            };
            let Ok(piece) = next else {
                break;
            };
            let piece = coalesce(piece, &live);
            if !send_data(&mut stream, piece, false, patience).await {
                stream.send_reset(h2::Reason::CANCEL);
                return;
            }
        }
        let _ = stream.send_data(Bytes::new(), true);
        return;
    }
    let mut pieces = body_pieces(resp).peekable();
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        let piece = Bytes::copy_from_slice(piece);
        if !send_data(&mut stream, piece, last, patience).await {
            stream.send_reset(h2::Reason::CANCEL);
            return;
        }
    }
}

/// A live body's piece joined with the pieces already queued behind it, up
/// to [`COALESCE`] bytes: a producer of many small pieces costs the client
/// few DATA frames (h2 clients count many small ones as abuse), and one
/// that produces slowly still has each piece sent as it comes.
fn coalesce(first: Bytes, live: &flume::Receiver<Bytes>) -> Bytes {
    if first.len() >= COALESCE {
        return first;
    }
    let Ok(second) = live.try_recv() else {
        return first;
    };
    let mut joined = BytesMut::with_capacity(COALESCE);
    joined.extend_from_slice(&first);
    joined.extend_from_slice(&second);
    while joined.len() < COALESCE {
        match live.try_recv() {
            Ok(piece) => joined.extend_from_slice(&piece),
            Err(_) => break,
        }
    }
    joined.freeze()
}

/// Sends one body piece as the client's window allows (one DATA frame when
/// it fits); false when the stream is gone or the client opened no window
/// for `patience`.
async fn send_data(
    stream: &mut SendStream<Bytes>,
    mut data: Bytes,
    end: bool,
    patience: Duration,
) -> bool {
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let granted = match timeout(patience, poll_fn(|cx| stream.poll_capacity(cx))).await {
            Ok(Some(Ok(n))) => n,
            _ => return false,
        };
        if granted == 0 {
            continue;
        }
        let piece = data.split_to(granted.min(data.len()));
        if stream.send_data(piece, end && data.is_empty()).is_err() {
            return false;
        }
    }
    true
}
