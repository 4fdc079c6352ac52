//! `Response`: a protocol-neutral response (status, header lines, body) that
//! handlers fill and the protocol encoders (HTTP/1.1, h2) serialize.
//!
//! One `Response` lives per connection and is reset between requests, so its
//! buffers keep their capacity and writing a response allocates nothing after
//! warm-up. Future handlers build and return their own.

use super::HttpError;

/// The body of a JSON error.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    /// The error's message.
    error: &'a str,
}

/// How the body was produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyMode {
    /// One body, sent with `content-length`.
    Full,
    /// Produced in pieces: chunked on HTTP/1.1, one DATA frame per piece on h2.
    Streamed,
    /// Produced in pieces that leave as they are sent through a
    /// [`BodySender`], after the handler returned: chunked on HTTP/1.1, DATA
    /// frames on h2.
    Live,
}

/// The runtime that polls streamed bodies whose handler runs on no runtime
/// (a plain handler on an event-loop worker): one thread, started on first
/// use.
fn pump_runtime() -> &'static tokio::runtime::Handle {
    static PUMP: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    PUMP.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("switchyard-stream-pump".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .expect("a current-thread runtime builds");
                let _ = tx.send(rt.handle().clone());
                rt.block_on(std::future::pending::<()>());
            })
            .expect("the stream pump thread starts");
        rx.recv().expect("the stream pump runtime")
    })
}

/// How many pieces of a live body may wait for the connection before
/// [`BodySender::send`] waits too.
const LIVE_QUEUE: usize = 16;

/// The writing end of a live response body (see [`Response::live`]): each
/// piece leaves the server as soon as the connection can take it. Dropping
/// the sender ends the body. [`send`](Self::send) (from a thread) and
/// [`send_async`](Self::send_async) (from a task) show both ways to feed it.
#[derive(Clone, Debug)]
pub struct BodySender(flume::Sender<bytes::Bytes>);

/// The client went away (or the response was dropped): the body's piece was
/// not sent, and no later one will be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyClosed;

impl std::fmt::Display for BodyClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the response body's connection is gone")
    }
}

impl std::error::Error for BodyClosed {}

impl BodySender {
    /// Sends one piece, waiting (blocking the thread) while the connection is
    /// behind; for plain handlers and threads. Empty pieces are skipped.
    /// An error means the client is gone: stop producing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/progress", |ctx| {
    ///     let body = ctx.response().live("text/plain");
    ///     std::thread::spawn(move || {
    ///         for pct in [0, 50, 100] {
    ///             if body.send(format!("{pct}%\n")).is_err() {
    ///                 return; // the client went away
    ///             }
    ///             std::thread::sleep(Duration::from_millis(10));
    ///         }
    ///         // Dropping `body` ends the response.
    ///     });
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /progress HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("0%\n\r\n4\r\n50%\n\r\n5\r\n100%\n\r\n0\r\n\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn send(&self, piece: impl Into<bytes::Bytes>) -> Result<(), BodyClosed> {
        let piece = piece.into();
        if piece.is_empty() {
            return Ok(());
        }
        self.0.send(piece).map_err(|_| BodyClosed)
    }

    /// Sends one piece, awaiting room while the connection is behind; for
    /// tasks. Empty pieces are skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard::{HttpError, Request, Response, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get_future("/events", |_req: Request| async move {
    ///     let mut resp = Response::new();
    ///     let body = resp.live("text/event-stream");
    ///     actix_rt::spawn(async move {
    ///         for n in 1..=3 {
    ///             if body.send_async(format!("data: {n}\n\n")).await.is_err() {
    ///                 break; // the client went away
    ///             }
    ///             tokio::time::sleep(Duration::from_millis(10)).await;
    ///         }
    ///     });
    ///     Ok::<_, HttpError>(resp)
    /// });
    /// # let reply = serve(router, "GET /events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("content-type: text/event-stream\r\n"), "{reply}");
    /// # assert!(reply.ends_with("data: 3\n\n\r\n0\r\n\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub async fn send_async(&self, piece: impl Into<bytes::Bytes>) -> Result<(), BodyClosed> {
        let piece = piece.into();
        if piece.is_empty() {
            return Ok(());
        }
        self.0.send_async(piece).await.map_err(|_| BodyClosed)
    }

    /// Whether the connection is gone (the client left, or the response was
    /// dropped): no later send can succeed, so a producer can stop early,
    /// without waiting for its next piece to fail.
    pub fn is_closed(&self) -> bool {
        self.0.is_disconnected()
    }
}

/// A response under construction.
///
/// # Examples
///
/// A plain handler writes the connection's own `Response` through its
/// [`Ctx`](super::Ctx); a future handler builds one and returns it. Writers
/// chain:
///
/// ```
/// use switchyard::Response;
///
/// let mut resp = Response::new();
/// resp.set_status(201)
///     .header("location", "/items/7")
///     .text("created");
/// assert_eq!(resp.status(), 201);
/// assert!(resp.has_header("Location"));
/// assert_eq!(resp.body(), b"created");
/// ```
#[derive(Debug)]
pub struct Response {
    /// Status code; 200 until a writer sets another.
    status: u16,
    /// Header lines, each `name: value\r\n`, names lower-case as given.
    headers: Vec<u8>,
    /// Body bytes (for a streamed body, every chunk back to back).
    body: Vec<u8>,
    /// For a streamed body, the end offset in `body` of each chunk.
    chunk_ends: Vec<usize>,
    /// Full or streamed.
    mode: BodyMode,
    /// Whether a writer has produced a response (status, body or headers).
    written: bool,
    /// Whether the handler asked for the connection to close after this response.
    close: bool,
    /// The pieces of a live body, until the connection takes them.
    live: Option<flume::Receiver<bytes::Bytes>>,
    /// Where the `content-type` line starts in `headers`: a response has one
    /// content type, so setting another (a second body, or an explicit
    /// header after `text`) replaces it.
    content_type_at: Option<usize>,
}

impl Default for Response {
    fn default() -> Self {
        Self::new()
    }
}

/// Headers the protocol layer writes itself.
#[inline]
fn is_framing(name: &str) -> bool {
    // Lengths first: most names are rejected without a comparison.
    match name.len() {
        14 => name.eq_ignore_ascii_case("content-length"),
        17 => name.eq_ignore_ascii_case("transfer-encoding"),
        10 => name.eq_ignore_ascii_case("connection"),
        _ => false,
    }
}

/// The one header a response carries at most once, the last set winning.
const CONTENT_TYPE: &str = "content-type";

/// Whether `name` is a field name (RFC 9110 §5.1: a non-empty `token`).
/// Anything else could smuggle a second header, or a framing header past
/// the framing check, once written.
#[inline]
fn is_token(name: &str) -> bool {
    crate::proto::chars::is_token(name.as_bytes())
}

/// Whether `b` is a control byte no header name or value may carry (every
/// CTL but HTAB, RFC 9110 §5.5): CR and LF would split the head.
#[inline]
fn is_ctl(b: u8) -> bool {
    // PERF: `&` and `|`, not `&&` and `||`: no branch per byte, so the scan
    // in `push_clean` vectorises.
    (b < 0x20) & (b != b'\t') | (b == 0x7f)
}

/// Appends `bytes` without control bytes (the common, clean case is one
/// copy; the check is a branch-free scan the compiler vectorises).
#[inline]
fn push_clean(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.iter().fold(false, |bad, &b| bad | is_ctl(b)) {
        out.extend(bytes.iter().copied().filter(|&b| !is_ctl(b)));
    } else {
        out.extend_from_slice(bytes);
    }
}

impl Response {
    /// An empty 200.
    pub const fn new() -> Self {
        Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
            chunk_ends: Vec::new(),
            mode: BodyMode::Full,
            written: false,
            close: false,
            live: None,
            content_type_at: None,
        }
    }

    /// Forgets everything, keeping the buffers' capacity.
    pub fn reset(&mut self) {
        self.status = 200;
        self.headers.clear();
        self.body.clear();
        self.chunk_ends.clear();
        self.mode = BodyMode::Full;
        self.written = false;
        self.close = false;
        self.live = None;
        self.content_type_at = None;
    }

    /// Asks the protocol layer to close the connection after this response
    /// (`connection: close` on HTTP/1.1).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::with_text("bye");
    /// resp.set_close();
    /// assert!(resp.wants_close());
    /// ```
    pub fn set_close(&mut self) -> &mut Self {
        self.close = true;
        self
    }

    /// Whether the handler asked for the connection to close.
    pub fn wants_close(&self) -> bool {
        self.close
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Sets the status code.
    pub fn set_status(&mut self, status: u16) -> &mut Self {
        self.status = status;
        self.written = true;
        self
    }

    /// Appends a header line. A name that is not an HTTP token (RFC 9110
    /// §5.1) is refused (the call does nothing); control bytes (CR, LF, NUL,
    /// …) are dropped from the value, so a header can never split the head.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::new();
    /// resp.header("x-request-id", "abc-123")
    ///     .header("x-bad name", "refused")      // not a token: ignored
    ///     .header("x-split", "a\r\nset-cookie: x") // CR and LF dropped
    ///     .header("content-length", "99");       // framing is the protocol's
    /// assert_eq!(
    ///     resp.header_block(),
    ///     b"x-request-id: abc-123\r\nx-split: aset-cookie: x\r\n"
    /// );
    /// ```
    #[inline]
    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.header_bytes(name, value.as_bytes())
    }

    /// Appends a header line with a raw byte value (control bytes dropped).
    ///
    /// A name that is not a token is refused. Framing headers
    /// (`content-length`, `transfer-encoding`, `connection`) belong to the
    /// protocol layer and are ignored here; use [`Response::set_close`] to
    /// close the connection.
    // PERF: inline, so that a name known at compile time (nearly all of them)
    // is checked at compile time; the refusal is out of line.
    #[inline]
    pub fn header_bytes(&mut self, name: &str, value: &[u8]) -> &mut Self {
        if !is_token(name) || is_framing(name) {
            return self.refuse_header(name);
        }
        if name.len() == CONTENT_TYPE.len() && name.eq_ignore_ascii_case(CONTENT_TYPE) {
            self.forget_content_type();
            self.content_type_at = Some(self.headers.len());
        }
        self.push_header(name, value)
    }

    /// The body's content type (body setters): replaces one set before.
    #[inline]
    fn set_content_type(&mut self, content_type: &str) {
        self.forget_content_type();
        self.content_type_at = Some(self.headers.len());
        self.push_header(CONTENT_TYPE, content_type.as_bytes());
    }

    /// Appends a header line whose name is known to be valid.
    #[inline]
    fn push_header(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.headers.reserve(name.len() + value.len() + 4);
        self.headers.extend_from_slice(name.as_bytes());
        self.headers.extend_from_slice(b": ");
        push_clean(&mut self.headers, value);
        self.headers.extend_from_slice(b"\r\n");
        self.written = true;
        self
    }

    /// Removes the `content-type` line set before, if any.
    #[inline]
    fn forget_content_type(&mut self) {
        if let Some(at) = self.content_type_at.take() {
            self.drop_line(at);
        }
    }

    /// Removes the header line starting at `at` (rare: a second content type).
    #[cold]
    fn drop_line(&mut self, at: usize) {
        let end =
            memchr::memchr(b'\n', &self.headers[at..]).map_or(self.headers.len(), |n| at + n + 1);
        self.headers.drain(at..end);
    }

    /// Logs why a header was not added (see [`Response::header_bytes`]).
    #[cold]
    fn refuse_header(&mut self, name: &str) -> &mut Self {
        if is_token(name) {
            tracing::debug!(name, "framing header set by a handler ignored");
        } else {
            tracing::warn!(name, "header with an invalid name set by a handler ignored");
        }
        self
    }

    /// The raw header lines (`name: value\r\n` each).
    pub fn header_block(&self) -> &[u8] {
        &self.headers
    }

    /// Iterates the headers as `(name, value)` pairs, in the order set.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::with_text("hi");
    /// resp.header("vary", "accept");
    /// let names: Vec<&[u8]> = resp.headers().map(|(name, _)| name).collect();
    /// assert_eq!(names, [&b"content-type"[..], b"vary"]);
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers.split(|&b| b == b'\n').filter_map(|line| {
            let line = line.strip_suffix(b"\r")?;
            let colon = line.iter().position(|&b| b == b':')?;
            Some((&line[..colon], line[colon + 1..].trim_ascii_start()))
        })
    }

    /// Whether a header with this name (ASCII case-insensitive) was set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers()
            .any(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Full or streamed.
    pub fn mode(&self) -> BodyMode {
        self.mode
    }

    /// The chunks of a streamed body, in order (empty for a full body).
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.chunk_ends.iter().map(move |&end| {
            let chunk = &self.body[start..end];
            start = end;
            chunk
        })
    }

    /// Whether any writer touched the response.
    pub fn is_written(&self) -> bool {
        self.written
    }

    /// A `text/plain` body.
    pub fn text(&mut self, body: &str) -> &mut Self {
        self.bytes("text/plain", body.as_bytes())
    }

    /// An `application/json` body serialized from `value`; a value that
    /// cannot be serialized (a map keyed by something other than strings or
    /// numbers, a failing `Serialize` impl) is an error answered 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::new();
    /// resp.json(&serde_json::json!({ "ok": true }))?;
    /// assert_eq!(resp.body(), br#"{"ok":true}"#);
    /// assert!(resp.headers().any(|h| h == (&b"content-type"[..], &b"application/json"[..])));
    /// # Ok::<(), switchyard::HttpError>(())
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<&mut Self, HttpError> {
        self.set_content_type("application/json");
        self.body.clear();
        serde_json::to_writer(&mut self.body, value)?;
        self.mode = BodyMode::Full;
        self.written = true;
        Ok(self)
    }

    /// A body of any content type.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let png: &[u8] = &[0x89, b'P', b'N', b'G'];
    /// let mut resp = Response::new();
    /// resp.bytes("image/png", png).header("cache-control", "max-age=3600");
    /// assert_eq!(resp.body(), png);
    /// ```
    pub fn bytes(&mut self, content_type: &str, body: &[u8]) -> &mut Self {
        self.set_content_type(content_type);
        self.body.clear();
        self.body.extend_from_slice(body);
        self.mode = BodyMode::Full;
        self.written = true;
        self
    }

    /// A redirect (300..=308) to `location`, without a body; another
    /// status is an error answered 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::new();
    /// resp.redirect(303, "/orders/7")?;
    /// assert_eq!(resp.status(), 303);
    /// assert!(resp.headers().any(|h| h == (&b"location"[..], &b"/orders/7"[..])));
    /// assert!(resp.redirect(200, "/nowhere").is_err());
    /// # Ok::<(), switchyard::HttpError>(())
    /// ```
    pub fn redirect(&mut self, status: u16, location: &str) -> Result<&mut Self, HttpError> {
        if !(300..=308).contains(&status) {
            return Err(HttpError::internal());
        }
        self.set_status(status);
        self.header("location", location);
        Ok(self)
    }

    /// A bodiless response with `status` (204, 304 and 1xx carry no
    /// `content-length`; every other status gets `content-length: 0`).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::with_text("discarded");
    /// resp.no_content(204);
    /// assert_eq!(resp.status(), 204);
    /// assert!(resp.body().is_empty());
    /// ```
    pub fn no_content(&mut self, status: u16) -> &mut Self {
        self.body.clear();
        self.set_status(status)
    }

    /// Switches to a streamed body with this content type; every
    /// [`Response::write_chunk`] after it is one chunk.
    pub fn start_stream(&mut self, content_type: &str) -> &mut Self {
        self.set_content_type(content_type);
        self.body.clear();
        self.chunk_ends.clear();
        self.mode = BodyMode::Streamed;
        self.written = true;
        self
    }

    /// Switches to a live body with this content type and returns its
    /// sender: the head leaves when the handler returns, each piece sent
    /// after that leaves as soon as the connection takes it, and dropping the
    /// sender ends the body. Works from plain handlers (send from a thread or
    /// a task they start) and future handlers alike; this is what
    /// server-sent events are built on.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    ///
    /// let mut resp = Response::new();
    /// let body = resp.live("text/plain");
    /// std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         if body.send(format!("line {i}\n")).is_err() {
    ///             break; // the client went away
    ///         }
    ///     }
    /// });
    /// ```
    pub fn live(&mut self, content_type: &str) -> BodySender {
        let (tx, rx) = flume::bounded(LIVE_QUEUE);
        self.set_content_type(content_type);
        self.body.clear();
        self.chunk_ends.clear();
        self.mode = BodyMode::Live;
        self.live = Some(rx);
        self.written = true;
        BodySender(tx)
    }

    /// A live body read from `stream`: each piece it yields leaves as soon
    /// as the connection takes it (the stream is not polled again until
    /// then, so a slow client holds the producer back instead of making the
    /// server buffer), and the body ends with the stream. A client that
    /// leaves drops the stream. Works from future handlers and plain ones
    /// alike: the stream is polled on the handler's runtime when there is
    /// one, else on a shared thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::Pin;
    /// use std::task::{Context, Poll};
    /// use switchyard::{Request, Response};
    ///
    /// /// Yields "0\n" to "4\n".
    /// struct Count(u32);
    ///
    /// impl futures_core::Stream for Count {
    ///     type Item = String;
    ///     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<String>> {
    ///         self.0 += 1;
    ///         Poll::Ready((self.0 <= 5).then(|| format!("{}\n", self.0 - 1)))
    ///     }
    /// }
    ///
    /// async fn numbers(_req: Request) -> Result<Response, switchyard::HttpError> {
    ///     let mut resp = Response::new();
    ///     resp.stream_from("text/plain", Count(0));
    ///     Ok(resp)
    /// }
    /// # let _ = numbers;
    /// ```
    pub fn stream_from<S>(&mut self, content_type: &str, stream: S) -> &mut Self
    where
        S: futures_core::Stream + Send + 'static,
        S::Item: Into<bytes::Bytes> + Send,
    {
        let body = self.live(content_type);
        let pump = async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(piece) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
                let piece: bytes::Bytes = piece.into();
                if body.send_async(piece).await.is_err() {
                    break; // the client went away
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(pump)),
            Err(_) => drop(pump_runtime().spawn(pump)),
        }
        self
    }

    /// Takes the receiving end of a live body (the connection sends it).
    #[inline]
    pub fn take_live(&mut self) -> Option<flume::Receiver<bytes::Bytes>> {
        self.live.take()
    }

    /// Turns a streamed body into a full one (same bytes, sent with
    /// `content-length`), for peers that cannot take chunks.
    pub fn unstream(&mut self) {
        self.mode = BodyMode::Full;
        self.chunk_ends.clear();
    }

    /// Appends one chunk to a streamed body, starting an
    /// `application/octet-stream` one if [`start_stream`](Self::start_stream)
    /// was not called. Empty chunks are skipped (an empty chunk would end an
    /// HTTP/1.1 chunked body early).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Response;
    /// use switchyard::handler::BodyMode;
    ///
    /// let mut resp = Response::new();
    /// resp.start_stream("text/csv");
    /// resp.write_chunk(b"id,name\n").write_chunk(b"").write_chunk(b"1,ann\n");
    /// assert_eq!(resp.mode(), BodyMode::Streamed);
    /// assert_eq!(resp.chunks().collect::<Vec<_>>(), [&b"id,name\n"[..], b"1,ann\n"]);
    /// ```
    pub fn write_chunk(&mut self, chunk: &[u8]) -> &mut Self {
        if self.mode != BodyMode::Streamed {
            self.start_stream("application/octet-stream");
        }
        if !chunk.is_empty() {
            self.body.extend_from_slice(chunk);
            self.chunk_ends.push(self.body.len());
        }
        self
    }

    /// Replaces this response with an error's: its status,
    /// `cache-control: no-store`, and its message as a `text/plain` body, or
    /// as `{"error": message}` (`application/json`) for a JSON error.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{HttpError, Response};
    ///
    /// let mut resp = Response::with_text("half written");
    /// resp.set_error(&HttpError::new(409, "version conflict"));
    /// assert_eq!(resp.status(), 409);
    /// assert_eq!(resp.body(), b"version conflict");
    /// ```
    pub fn set_error(&mut self, err: &HttpError) {
        self.reset();
        self.set_status(err.status());
        self.header("cache-control", "no-store");
        if !err.is_json()
            || self
                .json(&ErrorBody {
                    error: err.message(),
                })
                .is_err()
        {
            self.text(err.message());
        }
    }

    /// Builder form of [`Response::text`], for future handlers.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Request, Response, Router};
    ///
    /// let mut router = Router::new();
    /// router.get_future("/ping", |_req: Request| async { Ok(Response::with_text("pong")) });
    /// ```
    pub fn with_text(body: &str) -> Self {
        let mut r = Self::new();
        r.text(body);
        r
    }

    /// Builder form of [`Response::json`], for future handlers.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Request, Response, Router};
    ///
    /// let mut router = Router::new();
    /// router.get_future("/health", |_req: Request| async {
    ///     Response::with_json(&serde_json::json!({ "status": "up" }))
    /// });
    /// ```
    pub fn with_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, HttpError> {
        let mut r = Self::new();
        r.json(value)?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_cannot_split_the_head() {
        let mut r = Response::new();
        r.header("x-a", "ok");
        r.header("x-b", "evil\r\nset-cookie: x=1\0\x1b\x7f");
        r.header("x-c", "tab\tkept");
        assert_eq!(
            r.header_block(),
            b"x-a: ok\r\nx-b: evilset-cookie: x=1\r\nx-c: tab\tkept\r\n"
        );
    }

    #[test]
    fn a_response_has_one_content_type_the_last_set() {
        let content_types = |r: &Response| {
            r.headers()
                .filter(|(n, _)| n.eq_ignore_ascii_case(b"content-type"))
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .collect::<Vec<_>>()
        };
        let mut r = Response::new();
        r.header("x-a", "1").text("a").header("x-b", "2");
        r.json(&1).unwrap();
        assert_eq!(content_types(&r), ["application/json"]);
        r.header("Content-Type", "text/html");
        assert_eq!(content_types(&r), ["text/html"]);
        let names: Vec<&[u8]> = r.headers().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [&b"x-a"[..], b"x-b", b"Content-Type"],
            "others kept, in order"
        );
        r.reset();
        r.bytes("image/png", b"p");
        assert_eq!(content_types(&r), ["image/png"]);
    }

    #[test]
    fn framing_headers_are_left_to_the_protocol_layer() {
        let mut r = Response::new();
        r.header("Content-Length", "5");
        r.header("transfer-encoding", "chunked");
        r.header("CONNECTION", "close");
        r.header("content-type", "text/plain");
        assert_eq!(r.header_block(), b"content-type: text/plain\r\n");
    }

    #[test]
    fn names_that_are_not_tokens_are_refused() {
        let mut r = Response::new();
        // Control bytes once hid a framing header from the check.
        r.header("content-length\r", "5");
        r.header("Transfer-Encoding\0", "chunked");
        r.header("connection\n", "close");
        r.header("x-b\r\nset-cookie", "x=1");
        r.header("x c", "1");
        r.header("x:c", "1");
        r.header("", "1");
        r.header("x-ok", "1");
        assert_eq!(r.header_block(), b"x-ok: 1\r\n");
    }
}
