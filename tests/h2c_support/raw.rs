//! A raw-frame h2c client for the conformance and abuse tests: frames are
//! written and split by hand, request header blocks are built from HPACK's
//! static table and literals (so a test can write any block, valid or not),
//! and the server's header blocks are decoded with `fluke-hpack`.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long one expectation waits for the server.
pub const WAIT: Duration = Duration::from_secs(3);

/// Frame types (RFC 9113 §6).
pub mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// Error codes (RFC 9113 §7).
pub mod code {
    pub const NO_ERROR: u32 = 0x0;
    pub const PROTOCOL_ERROR: u32 = 0x1;
    pub const FLOW_CONTROL_ERROR: u32 = 0x3;
    pub const STREAM_CLOSED: u32 = 0x5;
    pub const FRAME_SIZE_ERROR: u32 = 0x6;
    pub const REFUSED_STREAM: u32 = 0x7;
    pub const CANCEL: u32 = 0x8;
    pub const COMPRESSION_ERROR: u32 = 0x9;
    pub const ENHANCE_YOUR_CALM: u32 = 0xb;
}

/// SETTINGS identifiers.
pub mod setting {
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    pub const ENABLE_PUSH: u16 = 0x2;
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// One frame: the 9-byte header (reserved bit of the stream id as given),
/// then `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A SETTINGS frame with `values`.
pub fn settings(values: &[(u16, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (id, v) in values {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    frame(kind::SETTINGS, 0, 0, &p)
}

/// A 4-byte big-endian payload (RST_STREAM, WINDOW_UPDATE).
pub fn u32_payload(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A PRIORITY payload: dependency (with the exclusive bit) and weight.
pub fn priority(depends_on: u32, exclusive: bool, weight: u8) -> Vec<u8> {
    let mut p = (depends_on | if exclusive { 1 << 31 } else { 0 })
        .to_be_bytes()
        .to_vec();
    p.push(weight);
    p
}

/// An HPACK integer with an `n`-bit prefix whose high bits are `high`.
pub fn hpack_int(high: u8, n: u32, mut v: usize) -> Vec<u8> {
    let max = (1usize << n) - 1;
    if v < max {
        return vec![high | v as u8];
    }
    let mut out = vec![high | max as u8];
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 0x80);
        v /= 128;
    }
    out.push(v as u8);
    out
}

/// A header block, built field by field.
#[derive(Clone, Debug, Default)]
pub struct Block(pub Vec<u8>);

impl Block {
    /// An empty block.
    pub fn new() -> Block {
        Block(Vec::new())
    }

    /// `:method M`, `:scheme http`, `:path P`, `:authority localhost`.
    pub fn request(method: &str, path: &str) -> Block {
        Block::new()
            .lit(":method", method)
            .indexed(6)
            .lit_idx(4, path)
            .lit_idx(1, "localhost")
    }

    /// `GET path`.
    pub fn get(path: &str) -> Block {
        Block::request("GET", path)
    }

    /// An indexed field (§6.1).
    pub fn indexed(mut self, index: usize) -> Block {
        self.0.extend(hpack_int(0x80, 7, index));
        self
    }

    /// A string literal, not Huffman-coded.
    fn string(&mut self, s: &[u8]) {
        self.0.extend(hpack_int(0, 7, s.len()));
        self.0.extend_from_slice(s);
    }

    /// A literal without indexing, new name (§6.2.2).
    pub fn lit(mut self, name: &str, value: &str) -> Block {
        self.0.push(0x00);
        self.string(name.as_bytes());
        self.string(value.as_bytes());
        self
    }

    /// A literal without indexing whose name is static index `index`.
    pub fn lit_idx(mut self, index: usize, value: &str) -> Block {
        self.0.extend(hpack_int(0x00, 4, index));
        self.string(value.as_bytes());
        self
    }

    /// Raw representation bytes.
    pub fn raw(mut self, bytes: &[u8]) -> Block {
        self.0.extend_from_slice(bytes);
        self
    }

    /// The block's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A HEADERS frame carrying `block` with `flags`.
pub fn headers(stream: u32, flags: u8, block: &Block) -> Vec<u8> {
    frame(kind::HEADERS, flags, stream, block.bytes())
}

/// `GET path` as one HEADERS frame that ends the stream.
pub fn get(stream: u32, path: &str) -> Vec<u8> {
    headers(
        stream,
        flag::END_HEADERS | flag::END_STREAM,
        &Block::get(path),
    )
}

/// A frame from the server.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Stream id (reserved bit cleared).
    pub stream: u32,
    /// Payload.
    pub payload: Vec<u8>,
    /// The decoded header fields, on the frame that ends a header block.
    pub fields: Option<Vec<(String, String)>>,
}

impl Frame {
    /// The error code of a RST_STREAM or GOAWAY.
    pub fn code(&self) -> u32 {
        let at = if self.kind == kind::GOAWAY { 4 } else { 0 };
        self.payload
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes(b.try_into().unwrap()))
            .unwrap_or(u32::MAX)
    }

    /// The last stream id of a GOAWAY.
    pub fn last_stream(&self) -> u32 {
        u32::from_be_bytes(self.payload[..4].try_into().unwrap()) & 0x7fff_ffff
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = [
            "DATA",
            "HEADERS",
            "PRIORITY",
            "RST_STREAM",
            "SETTINGS",
            "PUSH_PROMISE",
            "PING",
            "GOAWAY",
            "WINDOW_UPDATE",
            "CONTINUATION",
        ]
        .get(usize::from(self.kind))
        .copied()
        .unwrap_or("UNKNOWN");
        write!(
            f,
            "{name}(stream {}, flags {:#x}, {} bytes",
            self.stream,
            self.flags,
            self.payload.len()
        )?;
        if matches!(self.kind, kind::GOAWAY | kind::RST_STREAM) {
            write!(f, ", code {:#x}", self.code())?;
        }
        write!(f, ")")
    }
}

/// What the next read found.
#[derive(Debug)]
pub enum Seen {
    /// A frame.
    Frame(Frame),
    /// The server closed the connection (EOF or reset).
    Closed,
    /// Nothing within the wait.
    Timeout,
}

/// A response read whole.
#[derive(Debug)]
pub struct Answer {
    /// `:status`.
    pub status: u16,
    /// The other header fields.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Sizes of its DATA frames.
    pub data_frames: Vec<usize>,
}

/// A client connection speaking raw frames.
pub struct Client {
    /// The socket.
    sock: TcpStream,
    /// Bytes read and not yet split into frames.
    buf: Vec<u8>,
    /// The server's header blocks' decoder.
    dec: fluke_hpack::Decoder<'static>,
    /// A header block being continued: stream, flags of its HEADERS, bytes.
    partial: Option<(u32, u8, Vec<u8>)>,
    /// Whether the server has closed.
    pub closed: bool,
    /// The server's SETTINGS values, as received.
    pub server_settings: Vec<(u16, u32)>,
    /// What the server's WINDOW_UPDATEs on stream 0 added to the
    /// connection's send window.
    pub conn_window_added: u64,
}

impl Client {
    /// Connects without sending anything.
    pub fn connect(addr: SocketAddr) -> Client {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_nodelay(true).expect("nodelay");
        // A server that stops reading fails a write instead of hanging it.
        sock.set_write_timeout(Some(Duration::from_secs(2)))
            .expect("write timeout");
        Client {
            sock,
            buf: Vec::new(),
            dec: fluke_hpack::Decoder::new(),
            partial: None,
            closed: false,
            server_settings: Vec::new(),
            conn_window_added: 0,
        }
    }

    /// Connects, sends the preface and SETTINGS with `values`, and reads
    /// until the server's SETTINGS came (which it acknowledges) and ours
    /// was acknowledged.
    pub fn open_with(addr: SocketAddr, values: &[(u16, u32)]) -> Client {
        let mut c = Client::connect(addr);
        let mut hello = super::PREFACE.to_vec();
        hello.extend(settings(values));
        c.send(&hello);
        let (mut theirs, mut acked) = (false, false);
        let until = Instant::now() + WAIT;
        while !(theirs && acked) {
            match c.read_until(until) {
                Seen::Frame(f) if f.kind == kind::SETTINGS && f.flags & flag::ACK != 0 => {
                    acked = true
                }
                Seen::Frame(f) if f.kind == kind::SETTINGS => theirs = true,
                Seen::Frame(f) if f.kind == kind::WINDOW_UPDATE => {}
                other => panic!("handshake: unexpected {other:?}"),
            }
        }
        c
    }

    /// Connects with the preface and an empty SETTINGS (see
    /// [`Client::open_with`]).
    pub fn open(addr: SocketAddr) -> Client {
        Client::open_with(addr, &[])
    }

    /// The socket (to shut it down, or read its address).
    pub fn socket(&self) -> &TcpStream {
        &self.sock
    }

    /// Writes `bytes`; a server that closed already is not an error here
    /// (the reads that follow see the close).
    pub fn send(&mut self, bytes: &[u8]) {
        if self.sock.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    /// Writes `bytes`, saying whether the socket took them.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.sock.write_all(bytes).is_ok()
    }

    /// The next frame, or a close, or a timeout after `wait`.
    pub fn read(&mut self, wait: Duration) -> Seen {
        self.read_until(Instant::now() + wait)
    }

    /// The next frame by `until`. SETTINGS from the server are acknowledged
    /// here (and returned too).
    pub fn read_until(&mut self, until: Instant) -> Seen {
        loop {
            if let Some(f) = self.split() {
                if f.kind == kind::SETTINGS && f.flags & flag::ACK == 0 {
                    for pair in f.payload.chunks_exact(6) {
                        let id = u16::from_be_bytes([pair[0], pair[1]]);
                        let v = u32::from_be_bytes([pair[2], pair[3], pair[4], pair[5]]);
                        self.server_settings.push((id, v));
                    }
                    let _ = self
                        .sock
                        .write_all(&frame(kind::SETTINGS, flag::ACK, 0, &[]));
                }
                let mut f = f;
                if f.kind == kind::WINDOW_UPDATE && f.stream == 0 && f.payload.len() == 4 {
                    let add = u32::from_be_bytes(f.payload[..4].try_into().unwrap());
                    self.conn_window_added += u64::from(add & 0x7fff_ffff);
                }
                if matches!(f.kind, kind::HEADERS | kind::CONTINUATION) {
                    f.fields = self.header_block(&f);
                }
                return Seen::Frame(f);
            }
            if self.closed {
                return Seen::Closed;
            }
            let now = Instant::now();
            if now >= until {
                return Seen::Timeout;
            }
            self.sock
                .set_read_timeout(Some(until - now))
                .expect("read timeout");
            let mut chunk = [0u8; 16 * 1024];
            match self.sock.read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => self.closed = true,
            }
        }
    }

    /// One whole frame off the read buffer.
    fn split(&mut self) -> Option<Frame> {
        if self.buf.len() < 9 {
            return None;
        }
        let b = &self.buf;
        let len = usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
        if b.len() < 9 + len {
            return None;
        }
        let f = Frame {
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
            payload: b[9..9 + len].to_vec(),
            fields: None,
        };
        self.buf.drain(..9 + len);
        Some(f)
    }

    /// The header fields of a HEADERS frame (and of the CONTINUATIONs that
    /// follow it), decoded; `None` until the block is complete.
    fn header_block(&mut self, f: &Frame) -> Option<Vec<(String, String)>> {
        let fragment = match f.kind {
            kind::HEADERS => {
                let mut p = &f.payload[..];
                let mut pad = 0;
                if f.flags & flag::PADDED != 0 {
                    pad = usize::from(p[0]);
                    p = &p[1..];
                }
                if f.flags & flag::PRIORITY != 0 {
                    p = &p[5..];
                }
                p[..p.len() - pad].to_vec()
            }
            kind::CONTINUATION => {
                let (_, _, mut held) = self.partial.take().expect("a block to continue");
                held.extend_from_slice(&f.payload);
                held
            }
            _ => return None,
        };
        if f.flags & flag::END_HEADERS == 0 {
            self.partial = Some((f.stream, f.flags, fragment));
            return None;
        }
        let fields = self
            .dec
            .decode(&fragment)
            .expect("a decodable header block");
        Some(
            fields
                .into_iter()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(&n).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect(),
        )
    }

    /// Reads the whole response on `stream` (see [`Client::responses`]).
    pub fn response(&mut self, stream: u32) -> Result<Answer, String> {
        Ok(self.responses(&[stream])?.pop().expect("one answer").1)
    }

    /// Reads the whole responses on `streams`, in any order: frames of
    /// other streams and control frames are passed over; a RST_STREAM on
    /// one of them, a GOAWAY with an error or a close is an error.
    pub fn responses(&mut self, streams: &[u32]) -> Result<Vec<(u32, Answer)>, String> {
        let until = Instant::now() + WAIT;
        let mut open: Vec<(u32, Answer)> = streams
            .iter()
            .map(|&s| {
                let a = Answer {
                    status: 0,
                    headers: Vec::new(),
                    body: Vec::new(),
                    data_frames: Vec::new(),
                };
                (s, a)
            })
            .collect();
        let mut done = Vec::new();
        while !open.is_empty() {
            let f = match self.read_until(until) {
                Seen::Frame(f) => f,
                other => {
                    return Err(format!(
                        "stream {}: {other:?} before the response",
                        open[0].0
                    ))
                }
            };
            if f.kind == kind::GOAWAY && f.code() != code::NO_ERROR {
                return Err(format!("{f} before the response on stream {}", open[0].0));
            }
            let Some(at) = open.iter().position(|(s, _)| *s == f.stream) else {
                continue;
            };
            let answer = &mut open[at].1;
            let ended = match f.kind {
                kind::HEADERS | kind::CONTINUATION => {
                    for (n, v) in f.fields.clone().unwrap_or_default() {
                        if n == ":status" {
                            answer.status = v.parse().unwrap_or(0);
                        } else {
                            answer.headers.push((n, v));
                        }
                    }
                    answer.status >= 200 && f.flags & flag::END_STREAM != 0
                }
                kind::DATA => {
                    let mut p = &f.payload[..];
                    if f.flags & flag::PADDED != 0 {
                        let pad = usize::from(p[0]);
                        p = &p[1..p.len() - pad];
                    }
                    answer.body.extend_from_slice(p);
                    answer.data_frames.push(p.len());
                    // Keep the windows open for long bodies.
                    if !f.payload.is_empty() {
                        let n = f.payload.len() as u32;
                        self.send(&frame(kind::WINDOW_UPDATE, 0, 0, &u32_payload(n)));
                        self.send(&frame(kind::WINDOW_UPDATE, 0, f.stream, &u32_payload(n)));
                    }
                    f.flags & flag::END_STREAM != 0
                }
                kind::RST_STREAM => return Err(format!("{f} before the response ended")),
                _ => false,
            };
            if ended {
                done.push(open.swap_remove(at));
            }
        }
        Ok(done)
    }

    /// `GET /hello` on `stream`, answered 200 `Hello, World!`: the
    /// connection still serves.
    pub fn serves(&mut self, stream: u32) -> Result<(), String> {
        self.send(&get(stream, "/hello"));
        let a = self.response(stream)?;
        if a.status != 200 || a.body != b"Hello, World!" {
            return Err(format!(
                "GET /hello on stream {stream}: {} {:?}",
                a.status,
                String::from_utf8_lossy(&a.body)
            ));
        }
        Ok(())
    }

    /// Reads until a PING ACK with `payload` (sent here first): everything
    /// the server sent before it is returned.
    pub fn barrier(&mut self, payload: [u8; 8]) -> Result<Vec<Frame>, String> {
        self.send(&frame(kind::PING, 0, 0, &payload));
        let until = Instant::now() + WAIT;
        let mut before = Vec::new();
        loop {
            match self.read_until(until) {
                Seen::Frame(f)
                    if f.kind == kind::PING && f.flags & flag::ACK != 0 && f.payload == payload =>
                {
                    return Ok(before)
                }
                Seen::Frame(f) => before.push(f),
                other => return Err(format!("{other:?} before the PING's ACK")),
            }
        }
    }

    /// Reads until the server closes; the frames it sent before.
    pub fn until_closed(&mut self, wait: Duration) -> Result<Vec<Frame>, String> {
        let until = Instant::now() + wait;
        let mut before = Vec::new();
        loop {
            match self.read_until(until) {
                Seen::Frame(f) => before.push(f),
                Seen::Closed => return Ok(before),
                Seen::Timeout => return Err(format!("still open after {wait:?}")),
            }
        }
    }
}
