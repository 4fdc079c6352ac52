//! The properties the fuzz targets check (`fuzz/`), as plain functions of
//! arbitrary bytes: each panics only when an invariant breaks. The fuzz
//! targets call them, `tests/fuzz_corpus.rs` replays the kept corpora
//! through them on the stable toolchain, and the HTTP/1.x unit tests share
//! [`h1::Engine`].
//!
//! Not part of the API.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use crate::config::EngineKind;
use crate::conn::{BufPool, ConnConfig, Env, H1Session, Link, Mode};
use crate::handler::{Handler, Response, ServeInfo};
use crate::proto::detect::{detect, Detected};
use crate::proto::h1::{DateCache, Limits};
use crate::router::{Dispatch, Lookup, RouteTable, Router};

pub mod h1 {
    //! A fake engine around one [`H1Conn`]: it appends reads, keeps
    //! unconsumed bytes, drops each request's `len`, and records what it
    //! saw, so runs over different splits of one input can be compared.

    use crate::proto::h1::{empty_headers, Framing, H1Conn, Limits, Phase, Poll};
    use crate::proto::Version;

    /// An owned copy of a complete request.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Req {
        /// Method.
        pub method: String,
        /// Request-target as sent.
        pub target: String,
        /// Path.
        pub path: String,
        /// Query.
        pub query: String,
        /// Authority of an absolute-form target.
        pub authority: Option<String>,
        /// Version.
        pub version: Version,
        /// Fields in order.
        pub headers: Vec<(String, Vec<u8>)>,
        /// Whether the connection stays open.
        pub keep_alive: bool,
        /// Body framing.
        pub framing: Framing,
        /// Whether `Expect: 100-continue` applies.
        pub expect_continue: bool,
        /// Bytes of the head.
        pub head_len: usize,
        /// The (decoded) body.
        pub body: Vec<u8>,
        /// Bytes of input the request used.
        pub len: usize,
    }

    /// What an engine saw, in order.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Event {
        /// A complete request.
        Req(Req),
        /// A head whose body had not fully arrived: method and expect_continue.
        HeadOnly(String, bool),
        /// An error, by status.
        Error(u16),
    }

    /// A fake engine around one connection.
    pub struct Engine {
        /// The connection.
        pub conn: H1Conn,
        /// Bytes received and not consumed.
        pub buf: Vec<u8>,
        /// What it saw.
        pub events: Vec<Event>,
        /// A HeadOnly was returned for the request in progress.
        head_only_seen: bool,
        /// An error was returned (nothing more is fed).
        failed: bool,
    }

    impl Engine {
        /// An engine at a request boundary.
        pub fn new(limits: Limits) -> Self {
            Engine {
                conn: H1Conn::new(limits),
                buf: Vec::new(),
                events: Vec::new(),
                head_only_seen: false,
                failed: false,
            }
        }

        /// Appends a read and polls until nothing more is complete.
        pub fn push(&mut self, bytes: &[u8]) {
            if self.failed {
                return;
            }
            self.buf.extend_from_slice(bytes);
            loop {
                let mut headers = empty_headers();
                match self.conn.poll(&self.buf, &mut headers) {
                    Poll::Request(r) => {
                        let h = r.head;
                        let req = Req {
                            method: h.method.to_owned(),
                            target: h.target.to_owned(),
                            path: h.path.to_owned(),
                            query: h.query.to_owned(),
                            authority: h.authority.map(str::to_owned),
                            version: h.version,
                            headers: h
                                .headers
                                .iter()
                                .map(|f| (f.name.to_owned(), f.value.to_vec()))
                                .collect(),
                            keep_alive: h.keep_alive,
                            framing: h.framing,
                            expect_continue: h.expect_continue,
                            head_len: h.head_len,
                            body: r.body.to_vec(),
                            len: r.len,
                        };
                        assert!(r.len > 0 && r.len <= self.buf.len(), "request length");
                        self.events.push(Event::Req(req));
                        self.buf.drain(..r.len);
                        self.head_only_seen = false;
                    }
                    Poll::HeadOnly(h) => {
                        assert!(!self.head_only_seen, "HeadOnly twice for one request");
                        self.head_only_seen = true;
                        self.events
                            .push(Event::HeadOnly(h.method.to_owned(), h.expect_continue));
                    }
                    Poll::NeedMore => {
                        let phase = self.conn.phase(self.buf.len());
                        assert_eq!(
                            phase == Phase::Boundary,
                            self.buf.is_empty(),
                            "phase {phase:?}"
                        );
                        return;
                    }
                    Poll::Error(e) => {
                        self.events.push(Event::Error(e.status()));
                        self.failed = true;
                        return;
                    }
                }
            }
        }

        /// The events without `HeadOnly`, which depend on how input was split.
        pub fn settled(&self) -> Vec<Event> {
            self.events
                .iter()
                .filter(|e| !matches!(e, Event::HeadOnly(..)))
                .cloned()
                .collect()
        }

        /// Whether an error ended the run.
        pub fn failed(&self) -> bool {
            self.failed
        }
    }

    /// Feeds the pieces in order.
    pub fn feed(limits: Limits, pieces: &[&[u8]]) -> Engine {
        let mut engine = Engine::new(limits);
        for piece in pieces {
            engine.push(piece);
        }
        engine
    }
}

/// Pieces of `input` cut where `cuts` says: each byte of `cuts` is the
/// length of the next piece (0 taken as 1), the rest is the last piece.
fn pieces<'a>(input: &'a [u8], cuts: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(usize::from(c.max(1)).min(rest.len()));
        out.push(piece);
        rest = tail;
    }
    out.push(rest);
    out
}

/// The first byte says how many of the following bytes are cut lengths; the
/// rest is the input.
fn split_input(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (&[], &[]);
    };
    rest.split_at(usize::from(n % 32).min(rest.len()))
}

/// Small limits, so that size errors are reachable from small inputs.
fn small_limits() -> Limits {
    Limits {
        max_request_line: 256,
        max_header_block: 1024,
        max_headers: 16,
        max_body: 4096,
        ..Limits::default()
    }
}

/// The HTTP/1.x request machine gives the same requests and errors, and
/// leaves the same bytes unconsumed, whether the input comes whole, in the
/// pieces the data chooses, or one byte at a time (also under small limits).
pub fn h1_requests(data: &[u8]) {
    let (cuts, input) = split_input(data);
    for limits in [Limits::default(), small_limits()] {
        let whole = h1::feed(limits, &[input]);
        let expected = whole.settled();
        let split = h1::feed(limits, &pieces(input, cuts));
        assert_eq!(split.settled(), expected, "split by {cuts:?}");
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let bytewise = h1::feed(limits, &bytes);
        assert_eq!(bytewise.settled(), expected, "byte at a time");
        if !whole.failed() {
            assert_eq!(split.buf.len(), whole.buf.len(), "unconsumed bytes");
            assert_eq!(bytewise.buf.len(), whole.buf.len(), "unconsumed bytes");
        }
    }
}

/// What the session of [`h1_session`] serves.
fn session_router() -> Router {
    let mut r = Router::new();
    r.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    });
    r.post("/echo", |ctx| {
        let body = ctx.body().to_vec();
        ctx.response().bytes("application/octet-stream", &body);
        Ok(())
    });
    r.get("/stream", |ctx| {
        ctx.response().start_stream("text/plain");
        ctx.response().write_chunk(b"a");
        ctx.response().write_chunk(b"bc");
        Ok(())
    });
    r.get("/users/:id", |ctx| {
        let id = ctx.param("id").unwrap_or_default().to_owned();
        ctx.text(&id);
        Ok(())
    });
    r.get("/error", |_| Err(crate::HttpError::new(418, "teapot")));
    r
}

/// The whole HTTP/1.1 session, bytes in and bytes out, in the pieces the
/// data chooses, with the output drained in small writes: it never panics,
/// the output is one well-formed response per request the machine parsed
/// (then at most one error response), in order, and once a response says
/// `connection: close` nothing follows it.
pub fn h1_session(data: &[u8]) {
    let (cuts, input) = split_input(data);
    let cfg = ConnConfig {
        limits: small_limits(),
        ..ConnConfig::default()
    };
    static TABLE: OnceLock<RouteTable> = OnceLock::new();
    let table = TABLE.get_or_init(|| session_router().table());
    let date = DateCache::new(SystemTime::now());
    let mut resp = Response::new();
    let mut pool = BufPool::new(512);
    let now = Instant::now();
    let mut session = H1Session::new(&cfg, now);
    let mut out = Vec::new();
    for piece in pieces(input, cuts) {
        if !session.wants_read() {
            break;
        }
        let mut link = Link {
            pool: &mut pool,
            cfg: &cfg,
            now,
        };
        session.on_bytes(piece, &mut link);
        loop {
            let mut env = Env {
                table,
                date: &date,
                resp: &mut resp,
                info: ServeInfo {
                    engine: EngineKind::Epoll,
                    dispatch: Dispatch::Inline,
                    remote: None,
                },
            };
            session.process(&mut env, Mode::Inline, &mut link);
            let pending = session.transmit();
            if pending.is_empty() {
                break;
            }
            // Small writes: the output cursor moves in steps.
            let n = pending
                .len()
                .min(usize::from(cuts.first().copied().unwrap_or(7)).max(1));
            out.extend_from_slice(&pending[..n]);
            session.on_sent(n, &mut link);
        }
        if session.is_closed() {
            break;
        }
    }
    // The requests the machine finds in the input, for their methods (a
    // response to HEAD has no body) and their count.
    let parsed = h1::feed(cfg.limits, &[input]).settled();
    let methods: Vec<&str> = parsed
        .iter()
        .filter_map(|e| match e {
            h1::Event::Req(r) => Some(r.method.as_str()),
            _ => None,
        })
        .collect();
    let answered = check_responses(&out, &methods);
    assert!(
        answered <= methods.len() + 1,
        "{answered} responses to {} requests",
        methods.len()
    );
}

/// Walks the responses in `out`, the i-th final one answering a request
/// whose method is `methods[i]` (past the list: an error response): each has
/// a valid status line and a whole body, and nothing follows one that says
/// `connection: close`. Returns how many final responses there were.
fn check_responses(mut out: &[u8], methods: &[&str]) -> usize {
    let mut answered = 0;
    while !out.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let head_len = match resp.parse(out) {
            Ok(httparse::Status::Complete(n)) => n,
            other => panic!(
                "not a response head: {other:?}: {:?}",
                String::from_utf8_lossy(&out[..out.len().min(200)])
            ),
        };
        let status = resp.code.expect("a status");
        assert!((100..600).contains(&status), "status {status}");
        let field = |name: &str| {
            resp.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value)
        };
        let close = field("connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
        let head_request = methods.get(answered) == Some(&"HEAD");
        let body_len = if status == 100 || head_request || status == 204 || status == 304 {
            0
        } else if let Some(len) = field("content-length") {
            std::str::from_utf8(len)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a numeric content-length")
        } else if field("transfer-encoding").is_some() {
            chunked_len(&out[head_len..])
        } else {
            out.len() - head_len
        };
        assert!(head_len + body_len <= out.len(), "a whole body");
        out = &out[head_len + body_len..];
        if status >= 200 {
            answered += 1;
        }
        if close {
            assert!(out.is_empty(), "nothing after connection: close");
        }
    }
    answered
}

/// Length of the chunked body at the start of `b` (chunks, last chunk, no
/// trailers: what the encoder writes).
fn chunked_len(b: &[u8]) -> usize {
    let mut at = 0;
    loop {
        let line_end = b[at..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk-size line")
            + at;
        let size = usize::from_str_radix(
            std::str::from_utf8(&b[at..line_end]).expect("ascii chunk size"),
            16,
        )
        .expect("a hex chunk size");
        at = line_end + 2 + size + 2;
        assert!(at <= b.len(), "a whole chunk");
        if size == 0 {
            return at;
        }
    }
}

/// Route patterns and paths from the data (lines; a line starting with `+`
/// registers a route, any other is looked up): registering never panics
/// (a bad pattern is an error), lookups never panic, and a registered
/// static pattern is found by its own text.
pub fn router(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut router = Router::new();
    let mut statics = Vec::new();
    let mut paths = Vec::new();
    for line in text.lines().take(64) {
        if let Some(pattern) = line.strip_prefix('+') {
            let ok = router
                .try_handle("GET", pattern, Handler::plain(|_| Ok(())))
                .is_ok();
            if ok && !pattern.contains([':', '*']) {
                statics.push(pattern.to_owned());
            }
        } else {
            paths.push(line.to_owned());
        }
    }
    let table = router.table();
    for path in &paths {
        let _ = table.lookup("GET", path);
        let _ = table.lookup("HEAD", path);
        let _ = table.lookup("POST", path);
    }
    for pattern in &statics {
        assert!(
            matches!(table.lookup("GET", pattern), Lookup::Found(_)),
            "static route {pattern:?} not found by its own path"
        );
    }
}

/// Protocol detection answers the same for every prefix once it decided,
/// and a decision never depends on how the bytes were split.
pub fn detect_protocol(data: &[u8]) {
    let whole = detect(data);
    let mut decided = None;
    for end in 0..=data.len() {
        match (detect(&data[..end]), decided) {
            (Detected::NeedMore, None) => {}
            (d, None) => decided = Some(d),
            (d, Some(first)) => assert_eq!(d, first, "a decision changed at {end}"),
        }
    }
    if let Some(first) = decided {
        assert_eq!(whole, first);
    }
}

/// Largest output one turn of an h2c connection may leave unsent: the
/// in-memory write cap plus what one refused write can overshoot it by.
const H2_TURN_OUTPUT_MAX: usize = 512 * 1024;

/// Output bytes an h2c connection may write per input byte (a response to
/// a request of a few bytes that names dynamic-table entries, a PING's
/// answer), plus a fixed allowance for the server's opening SETTINGS.
const H2_OUTPUT_PER_INPUT: usize = 64;

/// A loop-hosted h2c connection ([`H2Session`](crate::conn::h2::H2Session))
/// over its in-memory I/O, fed the data's bytes (after the client preface,
/// unless the data begins with `P`) in the pieces the data chooses, polled
/// after every piece, its output drained each turn: it never panics, a turn
/// ends (no endless re-polling), each turn's unsent output is bounded, the
/// whole output is bounded by the input, and what it writes is a sequence
/// of whole frames that begins with the server's SETTINGS.
pub fn h2c(data: &[u8]) {
    use crate::conn::h2::{H2Job, H2Session, LoopH2, StreamRunner, Wakeups};
    use crate::conn::{Io, Traffic};
    use crate::proto::detect::PREFACE;
    use crate::proto::h2::H2Settings;
    use std::sync::{Arc, Mutex};

    let (cuts, raw) = split_input(data);
    let mut input = Vec::with_capacity(PREFACE.len() + raw.len());
    if raw.first() != Some(&b'P') {
        input.extend_from_slice(PREFACE);
    }
    input.extend_from_slice(raw);
    static TABLE: OnceLock<RouteTable> = OnceLock::new();
    let table = TABLE.get_or_init(|| session_router().table());
    let cfg = ConnConfig {
        limits: small_limits(),
        ..ConnConfig::default()
    };
    let settings = H2Settings {
        max_header_list_size: 4096,
        max_concurrent_streams: 8,
        ..H2Settings::default()
    };
    // Async streams would go to the pool: here they are dropped, which
    // resets them (as a pool that is gone would).
    let jobs: Arc<Mutex<Vec<H2Job>>> = Arc::default();
    let sink = jobs.clone();
    let runner: StreamRunner = Arc::new(move |job| sink.lock().unwrap().push(job));
    let wakeups = Wakeups::new(Box::new(|| {}));
    wakeups.enter();
    let lend = LoopH2 {
        settings: &settings,
        runner: &runner,
        wakeups: &wakeups,
    };
    let date = DateCache::new(SystemTime::now());
    let mut resp = Response::new();
    let mut pool = BufPool::new(512);
    let now = Instant::now();
    let parts = pieces(&input, cuts);
    let mut session = H2Session::new(parts[0], now, 1, 1, &lend);
    let mut out = Vec::new();
    let mut turn = |session: &mut H2Session, out: &mut Vec<u8>| {
        for _ in 0..64 {
            let mut env = Env {
                table,
                date: &date,
                resp: &mut resp,
                info: ServeInfo {
                    engine: EngineKind::Epoll,
                    dispatch: Dispatch::Inline,
                    remote: None,
                },
            };
            let mut io = Io {
                pool: &mut pool,
                env: &mut env,
                cfg: &cfg,
                now,
                traffic: Traffic::default(),
            };
            session.poll(&mut io, &lend);
            jobs.lock().unwrap().clear();
            let n = session.with_transmit(|bytes| {
                assert!(
                    bytes.len() <= H2_TURN_OUTPUT_MAX,
                    "{} bytes unsent",
                    bytes.len()
                );
                out.extend_from_slice(bytes);
                bytes.len()
            });
            session.on_sent(n, now);
            if session.wants_shutdown_write() {
                session.on_write_shut(now, &cfg);
            }
            let mut woken = Vec::new();
            wakeups.take(&mut woken);
            if !session.wants_poll() && woken.is_empty() {
                return;
            }
        }
        panic!("the connection still wants polling after 64 turns");
    };
    turn(&mut session, &mut out);
    for piece in &parts[1..] {
        let mut rest = *piece;
        while !rest.is_empty() && !session.is_closed() {
            if !session.wants_read() {
                // Over the read cap: h2 takes what was read first.
                turn(&mut session, &mut out);
                if !session.wants_read() {
                    break;
                }
            }
            let n = session.with_read_buf(|buf| {
                let n = buf.len().min(rest.len());
                buf[..n].copy_from_slice(&rest[..n]);
                n
            });
            session.on_read(n, now);
            rest = &rest[n..];
        }
        turn(&mut session, &mut out);
        if session.is_closed() {
            break;
        }
    }
    if !session.is_closed() {
        session.on_eof();
        turn(&mut session, &mut out);
    }
    assert!(
        out.len() <= 1024 + H2_OUTPUT_PER_INPUT * input.len(),
        "{} output bytes for {} input bytes",
        out.len(),
        input.len()
    );
    check_frames(&out);
}

/// `out` is whole frames, the first (if any) the server's SETTINGS.
fn check_frames(mut out: &[u8]) {
    let mut first = true;
    while !out.is_empty() {
        assert!(out.len() >= 9, "a partial frame header");
        let len = usize::from(out[0]) << 16 | usize::from(out[1]) << 8 | usize::from(out[2]);
        assert!(out.len() >= 9 + len, "a partial frame");
        if first {
            let stream = u32::from_be_bytes([out[5], out[6], out[7], out[8]]);
            assert_eq!((out[3], stream), (0x4, 0), "the server's SETTINGS first");
            first = false;
        }
        out = &out[9 + len..];
    }
}
