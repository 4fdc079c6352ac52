//! Support for the wire tests: the conformance app as a child process, the
//! per-engine test macro, and a raw-bytes HTTP/1.1 client with timeouts.

#![allow(dead_code)]

mod binary;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the app may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// How long any single response may take to arrive, unless a test says otherwise.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Defines one `#[test]` per engine for each body:
///
/// ```ignore
/// for_each_engine! {
///     fn hello_answers(engine) { ... }
/// }
/// ```
///
/// expands to `mod hello_answers { fn epoll() { body("epoll") } ... }`, one
/// function per engine. A file whose behaviour exists on some engines only
/// names them first: `for_each_engine! { engines(epoll = "epoll"); fn ... }`.
/// Attributes before `fn` (such as `#[ignore = "why"]`) apply to every engine.
macro_rules! for_each_engine {
    (
        engines $engines:tt;
        $( $(#[$attr:meta])* fn $name:ident($e:ident) $body:block )*
    ) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($e: &str) $body

                engine_tests!(body; [$(#[$attr])*]; $engines);
            }
        )*
    };
    ($($rest:tt)*) => {
        for_each_engine! { engines(epoll = "epoll", io_uring = "io-uring", std = "std"); $($rest)* }
    };
}

/// One `#[test] fn` per `ident = "engine name"` pair, each calling `$body`.
macro_rules! engine_tests {
    ($body:ident; $attrs:tt; ($($fn_name:ident = $engine:literal),+)) => {
        $( engine_test!($body; $attrs; $fn_name = $engine); )+
    };
}

/// One `#[test] fn` calling `$body` with one engine name.
macro_rules! engine_test {
    ($body:ident; [$(#[$attr:meta])*]; $fn_name:ident = $engine:literal) => {
        $(#[$attr])*
        #[test]
        fn $fn_name() {
            $body($engine)
        }
    };
}

/// How to launch the app beyond its flags.
#[derive(Debug, Default)]
pub struct Launch {
    /// Extra environment variables.
    pub env: Vec<(&'static str, &'static str)>,
    /// The open-file limit (soft and hard) to start it under.
    pub nofile: Option<usize>,
}

/// Why an engine cannot be tested here.
#[derive(Debug)]
pub struct Skip(pub String);

/// The conformance app, running; killed on drop.
pub struct App {
    /// The process.
    child: Child,
    /// Where it listens.
    addr: SocketAddr,
    /// The engine asked for.
    engine: String,
    /// Everything it printed to stderr so far.
    stderr: Arc<Mutex<String>>,
    /// The thread copying stderr (joined when the app exits at start, so
    /// its last words are read).
    err_reader: Option<std::thread::JoinHandle<()>>,
}

/// Starts the app on `engine`, or prints why it is skipped and yields `None`.
pub fn start_or_skip(engine: &str, extra: &[&str]) -> Option<App> {
    match App::start(engine, extra) {
        Ok(app) => Some(app),
        Err(Skip(reason)) => {
            println!("skipped: {engine}: {reason}");
            None
        }
    }
}

/// Starts the app on `engine` as `launch` says, or prints why it is
/// skipped and yields `None`.
pub fn start_or_skip_with(engine: &str, extra: &[&str], launch: &Launch) -> Option<App> {
    match App::start_with(engine, extra, launch) {
        Ok(app) => Some(app),
        Err(Skip(reason)) => {
            println!("skipped: {engine}: {reason}");
            None
        }
    }
}

/// `let app = app!(engine, &[flags]);` — starts the app or returns from the
/// test after printing the skip reason.
macro_rules! app {
    ($engine:expr) => {
        app!($engine, &[])
    };
    ($engine:expr, $extra:expr) => {
        match crate::common::start_or_skip($engine, $extra) {
            Some(app) => app,
            None => return,
        }
    };
}

pub use binary::binary;

impl App {
    /// Spawns the app with `--addr 127.0.0.1:0 --engine ENGINE --workers 2`
    /// and `extra`, and waits for its `listening on` line.
    pub fn start(engine: &str, extra: &[&str]) -> Result<App, Skip> {
        App::start_with(engine, extra, &Launch::default())
    }

    /// Like [`App::start`], with the environment and limits of `launch`.
    pub fn start_with(engine: &str, extra: &[&str], launch: &Launch) -> Result<App, Skip> {
        let mut command = match launch.nofile {
            // The limit is in force before the app starts (io_uring reads it
            // when an accept is armed, not at each accept).
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg(binary());
                c
            }
            None => Command::new(binary()),
        };
        let mut child = command
            .envs(launch.env.iter().copied())
            .args([
                "--addr",
                "127.0.0.1:0",
                "--engine",
                engine,
                "--workers",
                "2",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the conformance app");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        let err_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock().expect("stderr buffer").push_str(&text);
            }
        });
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out);
            let mut line = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if let Some(addr) = line.trim().strip_prefix("listening on ") {
                            let _ = tx.send(addr.to_owned());
                        }
                    }
                }
            }
        });
        let mut app = App {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            engine: engine.to_owned(),
            stderr,
            err_reader: Some(err_reader),
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => {
                app.addr = addr.parse().expect("the app prints HOST:PORT");
                Ok(app)
            }
            Err(_) => {
                let status = app.wait_exit(Duration::from_secs(2));
                if status.is_some() {
                    // The pipe is closed: the reader ends once it has read
                    // everything the app said.
                    if let Some(reader) = app.err_reader.take() {
                        let _ = reader.join();
                    }
                }
                let err = app.stderr();
                if status.is_some() && err.contains("not available") {
                    let reason = err
                        .lines()
                        .find(|l| l.contains("not available"))
                        .unwrap_or(&err)
                        .trim()
                        .to_owned();
                    return Err(Skip(reason));
                }
                panic!("the app did not start on {engine} (exit {status:?}); stderr:\n{err}");
            }
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The engine it runs.
    pub fn engine(&self) -> &str {
        &self.engine
    }

    /// What it printed to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    /// A fresh connection.
    pub fn connect(&self) -> Conn {
        Conn::open(self.addr)
    }

    /// `GET path` on a fresh connection.
    pub fn get(&self, path: &str) -> Resp {
        self.connect().get(path)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The `/metrics` snapshot, read on a fresh connection.
    pub fn metrics(&self) -> serde_json::Value {
        let resp = self.get("/metrics");
        assert_eq!(resp.status, 200, "/metrics: {resp:?}");
        serde_json::from_slice(&resp.body).expect("/metrics is JSON")
    }

    /// One counter of the `/metrics` snapshot.
    pub fn metric(&self, name: &str) -> u64 {
        self.metrics()[name]
            .as_u64()
            .unwrap_or_else(|| panic!("metric {name} is not a number"))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed response.
#[derive(Clone, Debug)]
pub struct Resp {
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub version: u8,
    /// Status code.
    pub status: u16,
    /// Header fields, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Whether the body came chunked.
    pub chunked: bool,
}

impl Resp {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    /// `x-dispatch`.
    pub fn dispatch(&self) -> &str {
        self.header("x-dispatch").unwrap_or("<none>")
    }

    /// Whether the response says the connection closes.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// A raw client connection: bytes out, responses parsed in, every read
/// bounded by a deadline.
pub struct Conn {
    /// The socket.
    stream: TcpStream,
    /// Bytes read but not yet parsed.
    buf: Vec<u8>,
}

/// How a wait for the peer to close ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// EOF or reset, with the bytes that came before it.
    Yes(Vec<u8>),
    /// Still open when the time ran out (bytes received meanwhile).
    StillOpen(Vec<u8>),
}

impl Conn {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect to the app");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_write_timeout(Some(READ_TIMEOUT))
            .expect("write timeout");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Wraps a connected socket.
    pub fn from_stream(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// The socket, for tests that need it directly.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Writes all of `bytes` in one call.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream.write_all(bytes.as_ref()).expect("write");
    }

    /// Writes, reporting failure instead of panicking (the peer may be gone).
    pub fn try_send(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.stream.write_all(bytes.as_ref())
    }

    /// Shuts our write side.
    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// `GET path` and its response.
    pub fn get(&mut self, path: &str) -> Resp {
        self.send(get(path));
        self.read_response()
    }

    /// Reads one response (a 1xx counts as one).
    pub fn read_response(&mut self) -> Resp {
        self.read_response_within(READ_TIMEOUT, false)
    }

    /// Reads one response to a HEAD request (no body whatever the headers say).
    pub fn read_head_response(&mut self) -> Resp {
        self.read_response_within(READ_TIMEOUT, true)
    }

    /// Reads one response, failing the test if it is not complete within
    /// `timeout`.
    pub fn read_response_within(&mut self, timeout: Duration, head: bool) -> Resp {
        let until = Instant::now() + timeout;
        let (mut resp, head_len, framing) = loop {
            if let Some(parsed) = parse_head(&self.buf) {
                break parsed;
            }
            self.fill(until, "a response head");
        };
        self.buf.drain(..head_len);
        let framing = if head || (100..200).contains(&resp.status) || resp.status == 204 {
            Framing::Length(0)
        } else {
            framing
        };
        match framing {
            Framing::Length(n) => {
                while self.buf.len() < n {
                    self.fill(until, "a response body");
                }
                resp.body = self.buf.drain(..n).collect();
            }
            Framing::Chunked => {
                resp.chunked = true;
                loop {
                    if let Some((body, used)) = decode_chunked(&self.buf) {
                        resp.body = body;
                        self.buf.drain(..used);
                        break;
                    }
                    self.fill(until, "a chunked body");
                }
            }
            Framing::UntilClose => {
                while self.read_more(until).expect("read a body until close") > 0 {}
                resp.body = std::mem::take(&mut self.buf);
            }
        }
        resp
    }

    /// Reads more bytes or fails the test with `what` was awaited.
    fn fill(&mut self, until: Instant, what: &str) {
        match self.read_more(until) {
            Ok(0) => panic!(
                "connection closed while awaiting {what}; buffered: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Ok(_) => {}
            Err(e) => panic!(
                "no {what} in time ({e}); buffered: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// One read, bounded by `until`; Ok(0) at EOF.
    fn read_more(&mut self, until: Instant) -> io::Result<usize> {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits up to `timeout` for the peer to close (EOF or reset).
    pub fn read_until_closed(&mut self, timeout: Duration) -> Closed {
        let until = Instant::now() + timeout;
        loop {
            match self.read_more(until) {
                Ok(0) => return Closed::Yes(std::mem::take(&mut self.buf)),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return Closed::Yes(std::mem::take(&mut self.buf))
                }
                Err(_) => return Closed::StillOpen(std::mem::take(&mut self.buf)),
            }
        }
    }

    /// Asserts that the server closes the connection within [`READ_TIMEOUT`]
    /// without sending anything more.
    pub fn assert_closed(&mut self, context: &str) {
        match self.read_until_closed(READ_TIMEOUT) {
            Closed::Yes(rest) => assert!(
                rest.is_empty(),
                "{context}: unexpected bytes before close: {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Closed::StillOpen(rest) => panic!(
                "{context}: the server kept the connection open (received {:?})",
                String::from_utf8_lossy(&rest)
            ),
        }
    }

    /// Asserts that the connection is still open and silent for `period`.
    pub fn assert_open_for(&mut self, period: Duration, context: &str) {
        match self.read_until_closed(period) {
            Closed::StillOpen(rest) => assert!(
                rest.is_empty(),
                "{context}: unexpected bytes: {:?}",
                String::from_utf8_lossy(&rest)
            ),
            Closed::Yes(_) => panic!("{context}: the server closed the connection"),
        }
    }
}

/// `GET path HTTP/1.1` with a Host header.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// `POST path HTTP/1.1` with a body and an optional content type.
pub fn post(path: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: test\r\n");
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut req = req.into_bytes();
    req.extend_from_slice(body);
    req
}

/// Parses one complete response at the start of `buf`, for clients that
/// read their own stream (TLS): the response and the bytes it used, or None
/// while incomplete. A body delimited by the close is complete once
/// `closed`.
pub fn parse_response(buf: &[u8], closed: bool) -> Option<(Resp, usize)> {
    let (mut resp, head_len, framing) = parse_head(buf)?;
    let rest = &buf[head_len..];
    let framing = if (100..200).contains(&resp.status) || resp.status == 204 {
        Framing::Length(0)
    } else {
        framing
    };
    let used = match framing {
        Framing::Length(n) if rest.len() >= n => {
            resp.body = rest[..n].to_vec();
            n
        }
        Framing::Length(_) => return None,
        Framing::Chunked => {
            let (body, used) = decode_chunked(rest)?;
            resp.chunked = true;
            resp.body = body;
            used
        }
        Framing::UntilClose if closed => {
            resp.body = rest.to_vec();
            rest.len()
        }
        Framing::UntilClose => return None,
    };
    Some((resp, head_len + used))
}

/// How a response body is delimited.
enum Framing {
    /// `content-length` (or none at all).
    Length(usize),
    /// `transfer-encoding: chunked`.
    Chunked,
    /// Until the server closes.
    UntilClose,
}

/// Parses a response head; None while incomplete.
fn parse_head(buf: &[u8]) -> Option<(Resp, usize, Framing)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return None,
        Err(e) => panic!(
            "malformed response ({e}): {:?}",
            String::from_utf8_lossy(buf)
        ),
    };
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let resp = Resp {
        version: parsed.version.expect("version"),
        status: parsed.code.expect("status"),
        headers,
        body: Vec::new(),
        chunked: false,
    };
    let framing = if resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        Framing::Chunked
    } else if let Some(len) = resp.header("content-length") {
        Framing::Length(len.trim().parse().expect("numeric content-length"))
    } else if resp.closes() || resp.version == 0 {
        Framing::UntilClose
    } else {
        Framing::Length(0)
    };
    Some((resp, head_len, framing))
}

/// Decodes a complete chunked body at the start of `buf`: the body and the
/// bytes used, or None while incomplete.
fn decode_chunked(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = pos + find_crlf(&buf[pos..])?;
        let size_text = std::str::from_utf8(&buf[pos..line_end]).expect("chunk size line");
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).expect("hex chunk size");
        pos = line_end + 2;
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                let end = pos + find_crlf(&buf[pos..])?;
                let empty = end == pos;
                pos = end + 2;
                if empty {
                    return Some((body, pos));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return None;
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        assert_eq!(
            &buf[pos + size..pos + size + 2],
            b"\r\n",
            "chunk terminator"
        );
        pos += size + 2;
    }
}

/// Offset of the first CRLF.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// Asserts a response is the expected 200 with `body`, served by `engine`
/// with dispatch `dispatch`.
#[track_caller]
pub fn assert_ok(resp: &Resp, body: &str, dispatch: &str, engine: &str) {
    assert_eq!(resp.status, 200, "status of {resp:?}");
    assert_eq!(resp.text(), body, "body of {resp:?}");
    assert_eq!(resp.dispatch(), dispatch, "x-dispatch of {resp:?}");
    assert_eq!(
        resp.header("x-engine"),
        Some(engine),
        "x-engine of {resp:?}"
    );
}
