//! The RFC 9113 / RFC 7541 conformance rows, after the categories and
//! cases of the h2spec tool: one row per case, what the client sends and
//! what the server must answer. Run by `tests/wire_h2c_conformance.rs`.

use super::raw::{
    code, flag, frame, get, headers, kind, priority, setting, settings, u32_payload, Block, Client,
    Frame, Seen, WAIT,
};

/// The categories rows are counted by (docs/reliability.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cat {
    /// RFC 9113 §3.4.
    Preface,
    /// §4.1 and §5.5: frame layout, unknown types and flags.
    FrameFormat,
    /// §4.2.
    FrameSize,
    /// §4.3 and RFC 7541.
    Hpack,
    /// §5.1 and §5.1.2.
    StreamStates,
    /// §5.1.1.
    StreamIds,
    /// §5.3 and PRIORITY frames (§6.3).
    Priority,
    /// §6.9.1, §6.9.2.
    FlowControl,
    /// §5.4 and §7.
    ErrorHandling,
    /// §6.1.
    Data,
    /// §6.2.
    Headers,
    /// §6.4.
    RstStream,
    /// §6.5.
    Settings,
    /// §6.6 and §8.4.
    PushPromise,
    /// §6.7.
    Ping,
    /// §6.8.
    Goaway,
    /// §6.9.
    WindowUpdate,
    /// §6.10.
    Continuation,
    /// §8.1: HTTP message exchange.
    Exchange,
    /// §8.2, §8.3: header fields and pseudo-headers.
    PseudoHeaders,
}

/// What the server must do.
#[derive(Clone, Copy)]
pub enum Expect {
    /// A connection error: GOAWAY with one of these codes, then the close.
    Conn(&'static [u32]),
    /// A connection error where the GOAWAY may be omitted (§3.4).
    ConnOrClose(&'static [u32]),
    /// A stream error on the row's stream: RST_STREAM with one of these
    /// codes (then the connection still serves), or a connection error
    /// with one of them (which the RFC allows for every stream error).
    Stream(&'static [u32]),
    /// A response with this status on the row's stream; the connection
    /// still serves.
    Status(u16),
    /// Nothing goes wrong: no RST_STREAM, no GOAWAY, and the connection
    /// still serves.
    Fine,
    /// A check of the row's own, given the row's stream.
    Check(fn(&mut Client, u32) -> Result<(), String>),
}

/// One conformance case.
pub struct Case {
    /// Section and case number, as h2spec numbers them.
    pub id: &'static str,
    /// Where it is counted.
    pub cat: Cat,
    /// What the client does.
    pub what: &'static str,
    /// Whether the client opens with the preface and SETTINGS exchange
    /// (false: the row writes from the first byte).
    pub handshake: bool,
    /// Writes the case; returns the stream the expectation is about.
    pub send: fn(&mut Client) -> u32,
    /// The outcome the RFC requires.
    pub expect: Expect,
    /// Why the server cannot meet it, when it is a known deviation.
    pub deviation: Option<Deviation>,
}

/// A known deviation from the RFC: why, and what the server does instead
/// (checked too, so the deviation cannot silently get worse).
#[derive(Clone, Copy)]
pub struct Deviation {
    /// Where the behaviour comes from and why it cannot be fixed here.
    pub why: &'static str,
    /// What the server does instead.
    pub instead: Expect,
}

impl Case {
    /// The row as a known deviation.
    fn deviates(self, why: &'static str, instead: Expect) -> Case {
        Case {
            deviation: Some(Deviation { why, instead }),
            ..self
        }
    }
}

/// h2 0.4.20 answers an HPACK decoding error with PROTOCOL_ERROR.
const H2_HPACK: &str = "h2 0.4.20 answers an HPACK decoding error with \
    GOAWAY(PROTOCOL_ERROR) (codec/framed_read.rs), not COMPRESSION_ERROR";

/// h2 0.4.20 treats DATA on a stream it no longer reads as a connection
/// error.
const H2_CLOSED_DATA: &str = "h2 0.4.20 treats DATA on a stream that is not \
    receiving as a connection PROTOCOL_ERROR (proto/streams/recv.rs, marked \
    TODO there), not a STREAM_CLOSED error";

/// h2 0.4.20 drops the pseudo-header fields of a trailer section.
const H2_TRAILER_PSEUDO: &str = "h2 0.4.20 drops pseudo-header fields from a \
    trailer section (proto/streams/recv.rs recv_trailers) and the request is \
    served, where the RFC calls it malformed; the application never sees them";

/// h2 0.4.20 takes HEADERS on a half-closed or reset stream for trailers in
/// the wrong state.
const H2_CLOSED_HEADERS: &str = "h2 0.4.20 takes HEADERS on a half-closed \
    (remote) or reset stream for trailers in the wrong state: \
    GOAWAY(PROTOCOL_ERROR) (proto/streams/state.rs recv_close), not STREAM_CLOSED";

/// A stream id no row uses: the liveness check after a stream error.
pub const NEXT: u32 = 401;

// ---- request building ------------------------------------------------------

/// A HEADERS frame with END_HEADERS (and END_STREAM when `end`).
fn hdrs(stream: u32, end: bool, block: &Block) -> Vec<u8> {
    let f = flag::END_HEADERS | if end { flag::END_STREAM } else { 0 };
    headers(stream, f, block)
}

/// A DATA frame.
fn data(stream: u32, end: bool, payload: &[u8]) -> Vec<u8> {
    frame(
        kind::DATA,
        if end { flag::END_STREAM } else { 0 },
        stream,
        payload,
    )
}

/// `POST /echo` with `content-length: len`.
fn post(len: usize) -> Block {
    Block::request("POST", "/echo").lit("content-length", &len.to_string())
}

/// An async route whose answer takes long enough for the stream to stay
/// half-closed (remote) while the row's next frames arrive.
const SLOW: &str = "/async/future?ms=300";

/// Opens stream 1 as `GET SLOW` (half-closed remote until it answers).
fn slow_get(c: &mut Client) {
    c.send(&get(1, SLOW));
}

/// Opens stream 1 as a POST whose body has not come (open).
fn open_post(c: &mut Client) {
    c.send(&hdrs(1, false, &Block::request("POST", "/echo")));
}

/// Completes `GET /hello` on stream 1 (so it is closed).
fn closed_get(c: &mut Client) {
    c.send(&get(1, "/hello"));
    let _ = c.response(1);
}

/// Stream 1 opened with HEADERS, then reset by the client.
fn reset_by_client(c: &mut Client) {
    open_post(c);
    c.send(&frame(kind::RST_STREAM, 0, 1, &u32_payload(code::CANCEL)));
}

/// The first two fields of a GET block cut off before END_HEADERS; the
/// rest for a CONTINUATION.
fn split_get(path: &str) -> (Block, Block) {
    let whole = Block::get(path);
    let (a, b) = whole.0.split_at(2);
    (Block(a.to_vec()), Block(b.to_vec()))
}

/// A GET with one more field, `name: value`, after the pseudo-headers.
fn get_with(name: &str, value: &str) -> Block {
    Block::get("/hello").lit(name, value)
}

// ---- checks ------------------------------------------------------------------

/// The response on `stream` echoes `body`.
fn echoes(c: &mut Client, stream: u32, body: &[u8]) -> Result<(), String> {
    let a = c.response(stream)?;
    if a.status != 200 || a.body != body {
        return Err(format!(
            "POST /echo: {} with {} bytes, wanted 200 with {}",
            a.status,
            a.body.len(),
            body.len()
        ));
    }
    c.serves(NEXT)
}

/// The first DATA frame on `stream` carries exactly `len` bytes.
fn first_data_is(c: &mut Client, stream: u32, len: usize) -> Result<(), String> {
    loop {
        match c.read(WAIT) {
            Seen::Frame(f) if f.kind == kind::DATA && f.stream == stream => {
                return if f.payload.len() == len {
                    Ok(())
                } else {
                    Err(format!("{f}, wanted a DATA of {len} bytes"))
                };
            }
            Seen::Frame(f) if matches!(f.kind, kind::GOAWAY | kind::RST_STREAM) => {
                return Err(format!("{f} before DATA"))
            }
            Seen::Frame(_) => {}
            other => return Err(format!("{other:?} before DATA")),
        }
    }
}

/// A PING ACK echoing `payload` comes.
fn ping_acked(c: &mut Client, payload: [u8; 8]) -> Result<(), String> {
    loop {
        match c.read(WAIT) {
            Seen::Frame(f) if f.kind == kind::PING => {
                return if f.flags & flag::ACK != 0 && f.payload == payload {
                    Ok(())
                } else {
                    Err(format!("{f} {:?}", f.payload))
                };
            }
            Seen::Frame(f) if matches!(f.kind, kind::GOAWAY | kind::RST_STREAM) => {
                return Err(format!("{f} instead of the PING ACK"))
            }
            Seen::Frame(_) => {}
            other => return Err(format!("{other:?} instead of the PING ACK")),
        }
    }
}

/// A SETTINGS ACK comes, then the connection serves.
fn settings_acked(c: &mut Client, _: u32) -> Result<(), String> {
    loop {
        match c.read(WAIT) {
            Seen::Frame(f) if f.kind == kind::SETTINGS && f.flags & flag::ACK != 0 => break,
            Seen::Frame(f) if matches!(f.kind, kind::GOAWAY | kind::RST_STREAM) => {
                return Err(format!("{f} instead of the SETTINGS ACK"))
            }
            Seen::Frame(_) => {}
            other => return Err(format!("{other:?} instead of the SETTINGS ACK")),
        }
    }
    c.serves(NEXT)
}

/// No frame of `bad` kind came before a PING barrier; then it serves.
fn none_before_barrier(c: &mut Client, what: fn(&Frame) -> bool) -> Result<(), String> {
    let before = c.barrier(*b"barrier!")?;
    if let Some(f) = before.iter().find(|f| what(f)) {
        return Err(format!("unexpected {f}"));
    }
    c.serves(NEXT)
}

/// A GOAWAY with `code` whose last stream is `last` comes, then the close.
fn goaway_names(c: &mut Client, last: u32, code: u32) -> Result<(), String> {
    loop {
        match c.read(WAIT) {
            Seen::Frame(f) if f.kind == kind::GOAWAY => {
                if f.last_stream() != last || f.code() != code {
                    return Err(format!("{f} last stream {}", f.last_stream()));
                }
                return c.until_closed(WAIT).map(|_| ());
            }
            Seen::Frame(_) => {}
            other => return Err(format!("{other:?} instead of GOAWAY")),
        }
    }
}

/// Whether a frame is an error signal (RST_STREAM, or GOAWAY with a code).
fn is_error(f: &Frame) -> bool {
    f.kind == kind::RST_STREAM || (f.kind == kind::GOAWAY && f.code() != code::NO_ERROR)
}

// ---- the rows ------------------------------------------------------------------

/// Shorthand for a row.
macro_rules! case {
    ($id:literal, $cat:ident, $what:literal, $send:expr, $expect:expr) => {
        Case {
            id: $id,
            cat: Cat::$cat,
            what: $what,
            handshake: true,
            send: $send,
            expect: $expect,
            deviation: None,
        }
    };
}

use Expect::{Check, Conn, ConnOrClose, Fine, Status, Stream};

/// PROTOCOL_ERROR.
const PROTO: &[u32] = &[code::PROTOCOL_ERROR];
/// FRAME_SIZE_ERROR.
const SIZE: &[u32] = &[code::FRAME_SIZE_ERROR];
/// COMPRESSION_ERROR.
const COMP: &[u32] = &[code::COMPRESSION_ERROR];
/// STREAM_CLOSED.
const CLOSED: &[u32] = &[code::STREAM_CLOSED];
/// STREAM_CLOSED or PROTOCOL_ERROR (a CONTINUATION nobody expects).
const CLOSED_OR_PROTO: &[u32] = &[code::STREAM_CLOSED, code::PROTOCOL_ERROR];
/// FLOW_CONTROL_ERROR.
const FLOW: &[u32] = &[code::FLOW_CONTROL_ERROR];

/// Every row.
pub fn all() -> Vec<Case> {
    let mut rows = Vec::new();
    rows.extend(preface_and_frames());
    rows.extend(streams());
    rows.extend(frame_types());
    rows.extend(settings_ping_goaway());
    rows.extend(flow_and_continuation());
    rows.extend(exchange());
    rows.extend(hpack());
    rows
}

/// §3.4, §4.1, §4.2, §4.3, §5.5.
fn preface_and_frames() -> Vec<Case> {
    vec![
        case!(
            "3.5/1",
            Preface,
            "sends the client connection preface",
            |_| 0,
            Fine
        ),
        Case {
            handshake: false,
            ..case!(
                "3.5/2",
                Preface,
                "sends an invalid connection preface",
                |c| {
                    c.send(b"INVALID CONNECTION PREFACE\r\n\r\n");
                    0
                },
                ConnOrClose(PROTO)
            )
        },
        case!(
            "4.1/1",
            FrameFormat,
            "sends a frame with an unknown type",
            |c| {
                c.send(&frame(0x16, 0, 0, b"12345678"));
                0
            },
            Fine
        ),
        case!(
            "4.1/2",
            FrameFormat,
            "sends a PING with undefined flags",
            |c| {
                c.send(&frame(kind::PING, 0x16, 0, b"flagsxxx"));
                0
            },
            Check(|c, _| ping_acked(c, *b"flagsxxx"))
        ),
        case!(
            "4.1/3",
            FrameFormat,
            "sends a PING with the reserved stream bit set",
            |c| {
                c.send(&frame(kind::PING, 0, 1 << 31, b"reserved"));
                0
            },
            Check(|c, _| ping_acked(c, *b"reserved"))
        ),
        case!(
            "5.5/1",
            FrameFormat,
            "sends an unknown extension frame",
            |c| {
                c.send(&frame(0xff, 0, 1, b"hello"));
                0
            },
            Fine
        ),
        case!(
            "5.5/2",
            FrameFormat,
            "sends an unknown extension frame inside a header block",
            |c| {
                let (a, b) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&frame(0xff, 0, 1, b"hello"));
                c.send(&frame(kind::CONTINUATION, flag::END_HEADERS, 1, b.bytes()));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "4.2/1",
            FrameSize,
            "sends a DATA frame of 2^14 octets",
            |c| {
                c.send(&hdrs(1, false, &post(16_384)));
                c.send(&data(1, true, &[b'x'; 16_384]));
                1
            },
            Check(|c, s| echoes(c, s, &[b'x'; 16_384]))
        ),
        case!(
            "4.2/2",
            FrameSize,
            "sends a DATA frame over SETTINGS_MAX_FRAME_SIZE",
            |c| {
                c.send(&hdrs(1, false, &post(16_385)));
                c.send(&data(1, true, &[b'x'; 16_385]));
                1
            },
            Stream(SIZE)
        ),
        case!(
            "4.2/3",
            FrameSize,
            "sends a HEADERS frame over SETTINGS_MAX_FRAME_SIZE",
            |c| {
                let block = Block::get("/hello").lit("x-big", &"v".repeat(16_400));
                c.send(&hdrs(1, true, &block));
                1
            },
            Conn(SIZE)
        ),
        case!(
            "4.3/1",
            Hpack,
            "sends an invalid header block fragment",
            |c| {
                // A literal whose name claims 10 bytes and has 3.
                c.send(&hdrs(
                    1,
                    true,
                    &Block::get("/hello").raw(&[0x00, 0x0a, b'a', b'b', b'c']),
                ));
                1
            },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "4.3/2",
            Hpack,
            "sends a PRIORITY frame inside a header block",
            |c| {
                let (a, b) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 15)));
                c.send(&frame(kind::CONTINUATION, flag::END_HEADERS, 1, b.bytes()));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "4.3/3",
            Hpack,
            "sends HEADERS of another stream inside a header block",
            |c| {
                let (a, _) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&get(3, "/hello"));
                1
            },
            Conn(PROTO)
        ),
    ]
}

/// §5.1, §5.1.1, §5.1.2, §5.3, and the streams of h2spec's generic §5.
fn streams() -> Vec<Case> {
    vec![
        case!(
            "5.1/1",
            StreamStates,
            "idle: sends DATA",
            |c| {
                c.send(&data(1, true, b"test"));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "5.1/2",
            StreamStates,
            "idle: sends RST_STREAM",
            |c| {
                c.send(&frame(kind::RST_STREAM, 0, 1, &u32_payload(code::CANCEL)));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "5.1/3",
            StreamStates,
            "idle: sends WINDOW_UPDATE",
            |c| {
                c.send(&frame(kind::WINDOW_UPDATE, 0, 1, &u32_payload(100)));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "5.1/4",
            StreamStates,
            "idle: sends CONTINUATION",
            |c| {
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "5.1/5",
            StreamStates,
            "half-closed (remote): sends DATA",
            |c| {
                slow_get(c);
                c.send(&data(1, true, b"test"));
                1
            },
            Stream(CLOSED)
        )
        .deviates(H2_CLOSED_DATA, Conn(PROTO)),
        case!(
            "5.1/6",
            StreamStates,
            "half-closed (remote): sends HEADERS",
            |c| {
                slow_get(c);
                c.send(&get(1, "/hello"));
                1
            },
            Stream(CLOSED)
        )
        .deviates(H2_CLOSED_HEADERS, Conn(PROTO)),
        case!(
            "5.1/7",
            StreamStates,
            "half-closed (remote): sends CONTINUATION",
            |c| {
                slow_get(c);
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Stream(CLOSED_OR_PROTO)
        ),
        case!(
            "5.1/8",
            StreamStates,
            "closed: sends DATA after RST_STREAM",
            |c| {
                reset_by_client(c);
                c.send(&data(1, true, b"test"));
                1
            },
            Stream(CLOSED)
        ),
        case!(
            "5.1/9",
            StreamStates,
            "closed: sends HEADERS after RST_STREAM",
            |c| {
                reset_by_client(c);
                c.send(&get(1, "/hello"));
                1
            },
            Stream(CLOSED)
        )
        .deviates(H2_CLOSED_HEADERS, Conn(PROTO)),
        case!(
            "5.1/10",
            StreamStates,
            "closed: sends CONTINUATION after RST_STREAM",
            |c| {
                reset_by_client(c);
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Stream(CLOSED_OR_PROTO)
        ),
        case!(
            "5.1/11",
            StreamStates,
            "closed: sends DATA after END_STREAM",
            |c| {
                closed_get(c);
                c.send(&data(1, true, b"test"));
                1
            },
            Stream(CLOSED)
        ),
        case!(
            "5.1/12",
            StreamStates,
            "closed: sends HEADERS after END_STREAM",
            |c| {
                closed_get(c);
                c.send(&get(1, "/hello"));
                1
            },
            Stream(CLOSED)
        )
        .deviates(H2_CLOSED_HEADERS, Conn(PROTO)),
        case!(
            "5.1/13",
            StreamStates,
            "closed: sends CONTINUATION after END_STREAM",
            |c| {
                closed_get(c);
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Stream(CLOSED_OR_PROTO)
        ),
        case!(
            "5.1.2/1",
            StreamStates,
            "opens more streams than SETTINGS_MAX_CONCURRENT_STREAMS",
            |c| {
                let limit = c
                    .server_settings
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == setting::MAX_CONCURRENT_STREAMS)
                    .map(|(_, v)| *v)
                    .expect("the server advertises SETTINGS_MAX_CONCURRENT_STREAMS");
                let mut bytes = Vec::new();
                for i in 0..limit {
                    bytes.extend(hdrs(1 + 2 * i, false, &Block::get("/hello")));
                }
                let over = 1 + 2 * limit;
                bytes.extend(hdrs(over, false, &Block::get("/hello")));
                c.send(&bytes);
                over
            },
            Check(|c, over| {
                loop {
                    match c.read(WAIT) {
                        Seen::Frame(f) if f.kind == kind::RST_STREAM && f.stream == over => {
                            if ![code::REFUSED_STREAM, code::PROTOCOL_ERROR].contains(&f.code()) {
                                return Err(format!("{f}"));
                            }
                            break;
                        }
                        Seen::Frame(f) if is_error(&f) => return Err(format!("{f}")),
                        Seen::Frame(_) => {}
                        other => return Err(format!("{other:?} instead of RST_STREAM({over})")),
                    }
                }
                // The open streams end and are answered; then a new one is served.
                let mut bytes = Vec::new();
                for s in (1..over).step_by(2) {
                    bytes.extend(data(s, true, b""));
                }
                c.send(&bytes);
                let ended: Vec<u32> = (1..over).step_by(2).collect();
                c.responses(&ended)?;
                c.serves(NEXT)
            })
        ),
        case!(
            "5.1.1/1",
            StreamIds,
            "sends an even-numbered stream id",
            |c| {
                c.send(&get(2, "/hello"));
                2
            },
            Conn(PROTO)
        ),
        case!(
            "5.1.1/2",
            StreamIds,
            "sends a stream id smaller than a previous one",
            |c| {
                c.send(&get(5, "/hello"));
                let _ = c.response(5);
                c.send(&get(3, "/hello"));
                3
            },
            Conn(PROTO)
        ),
        case!(
            "5.3.1/1",
            Priority,
            "sends HEADERS that depend on their own stream",
            |c| {
                let mut p = priority(1, false, 15);
                p.extend_from_slice(Block::get("/hello").bytes());
                c.send(&frame(
                    kind::HEADERS,
                    flag::END_HEADERS | flag::END_STREAM | flag::PRIORITY,
                    1,
                    &p,
                ));
                1
            },
            Stream(PROTO)
        ),
        case!(
            "5.3.1/2",
            Priority,
            "sends PRIORITY that depends on its own stream",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(1, false, 15)));
                1
            },
            Stream(PROTO)
        ),
        case!(
            "5/1",
            Priority,
            "sends PRIORITY on an idle stream",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 3, &priority(0, false, 15)));
                3
            },
            Fine
        ),
        case!(
            "5/2",
            WindowUpdate,
            "sends WINDOW_UPDATE on a half-closed (remote) stream",
            |c| {
                slow_get(c);
                c.send(&frame(kind::WINDOW_UPDATE, 0, 1, &u32_payload(100)));
                1
            },
            Status(200)
        ),
        case!(
            "5/3",
            Priority,
            "sends PRIORITY on a half-closed (remote) stream",
            |c| {
                slow_get(c);
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 15)));
                1
            },
            Status(200)
        ),
        case!(
            "5/4",
            RstStream,
            "sends RST_STREAM on a half-closed (remote) stream",
            |c| {
                slow_get(c);
                c.send(&frame(kind::RST_STREAM, 0, 1, &u32_payload(code::CANCEL)));
                1
            },
            Fine
        ),
        case!(
            "5/5",
            Priority,
            "sends PRIORITY on a closed stream",
            |c| {
                closed_get(c);
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 15)));
                1
            },
            Fine
        ),
        case!(
            "5.4.1/1",
            ErrorHandling,
            "sends an invalid PING: GOAWAY names the last stream",
            |c| {
                c.send(&get(1, "/hello"));
                let _ = c.response(1);
                c.send(&frame(kind::PING, 0, 0, b"short!"));
                1
            },
            Check(|c, last| goaway_names(c, last, code::FRAME_SIZE_ERROR))
        ),
        case!(
            "5.4.1/2",
            ErrorHandling,
            "sends an invalid PING: the connection closes",
            |c| {
                c.send(&frame(kind::PING, 0, 0, b"short!"));
                0
            },
            Conn(SIZE)
        ),
        case!(
            "7/1",
            ErrorHandling,
            "sends GOAWAY with an unknown error code",
            |c| {
                let mut p = u32_payload(0).to_vec();
                p.extend(u32_payload(0xff));
                c.send(&frame(kind::GOAWAY, 0, 0, &p));
                0
            },
            Check(|c, _| {
                // No special behaviour: a PING is answered (or the connection
                // ends cleanly, as after any GOAWAY).
                c.send(&frame(kind::PING, 0, 0, b"unknown!"));
                loop {
                    match c.read(WAIT) {
                        Seen::Frame(f) if f.kind == kind::PING && f.payload == b"unknown!" => {
                            return Ok(())
                        }
                        Seen::Frame(f) if is_error(&f) => return Err(format!("{f}")),
                        Seen::Frame(_) => {}
                        Seen::Closed => return Ok(()),
                        Seen::Timeout => return Err("no answer".into()),
                    }
                }
            })
        ),
        case!(
            "7/2",
            ErrorHandling,
            "sends RST_STREAM with an unknown error code",
            |c| {
                slow_get(c);
                c.send(&frame(kind::RST_STREAM, 0, 1, &u32_payload(0xff)));
                1
            },
            Fine
        ),
    ]
}

/// §6.1 – §6.4, §6.6, and the generic frame rows.
fn frame_types() -> Vec<Case> {
    vec![
        case!(
            "6.1/1",
            Data,
            "sends DATA on stream 0",
            |c| {
                c.send(&data(0, true, b"test"));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.1/2",
            Data,
            "sends DATA on a half-closed (remote) stream",
            |c| {
                slow_get(c);
                c.send(&data(1, true, b"test"));
                1
            },
            Stream(CLOSED)
        )
        .deviates(H2_CLOSED_DATA, Conn(PROTO)),
        case!(
            "6.1/3",
            Data,
            "sends DATA with an invalid pad length",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                let mut p = vec![6u8];
                p.extend_from_slice(b"test");
                c.send(&frame(kind::DATA, flag::END_STREAM | flag::PADDED, 1, &p));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "3.1/1",
            Data,
            "sends a DATA frame",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                c.send(&data(1, true, b"test"));
                1
            },
            Check(|c, s| echoes(c, s, b"test"))
        ),
        case!(
            "3.1/2",
            Data,
            "sends several DATA frames",
            |c| {
                c.send(&hdrs(1, false, &post(8)));
                c.send(&data(1, false, b"test"));
                c.send(&data(1, true, b"TEST"));
                1
            },
            Check(|c, s| echoes(c, s, b"testTEST"))
        ),
        case!(
            "3.1/3",
            Data,
            "sends a DATA frame with padding",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                let mut p = vec![6u8];
                p.extend_from_slice(b"test");
                p.extend_from_slice(&[0; 6]);
                c.send(&frame(kind::DATA, flag::END_STREAM | flag::PADDED, 1, &p));
                1
            },
            Check(|c, s| echoes(c, s, b"test"))
        ),
        case!(
            "6.2/1",
            Headers,
            "sends HEADERS without END_HEADERS, then PRIORITY",
            |c| {
                let (a, _) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 15)));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "6.2/2",
            Headers,
            "sends HEADERS to another stream inside a header block",
            |c| {
                let (a, _) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&get(3, "/hello"));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "6.2/3",
            Headers,
            "sends HEADERS on stream 0",
            |c| {
                c.send(&get(0, "/hello"));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.2/4",
            Headers,
            "sends HEADERS with an invalid pad length",
            |c| {
                let block = Block::get("/hello");
                let mut p = vec![(block.0.len() + 1) as u8];
                p.extend_from_slice(block.bytes());
                c.send(&frame(
                    kind::HEADERS,
                    flag::END_HEADERS | flag::END_STREAM | flag::PADDED,
                    1,
                    &p,
                ));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "3.2/1",
            Headers,
            "sends a HEADERS frame",
            |c| {
                c.send(&get(1, "/hello"));
                1
            },
            Status(200)
        ),
        case!(
            "3.2/2",
            Headers,
            "sends a HEADERS frame with padding",
            |c| {
                let mut p = vec![8u8];
                p.extend_from_slice(Block::get("/hello").bytes());
                p.extend_from_slice(&[0; 8]);
                c.send(&frame(
                    kind::HEADERS,
                    flag::END_HEADERS | flag::END_STREAM | flag::PADDED,
                    1,
                    &p,
                ));
                1
            },
            Status(200)
        ),
        case!(
            "3.2/3",
            Headers,
            "sends a HEADERS frame with priority",
            |c| {
                let mut p = priority(0, false, 15);
                p.extend_from_slice(Block::get("/hello").bytes());
                c.send(&frame(
                    kind::HEADERS,
                    flag::END_HEADERS | flag::END_STREAM | flag::PRIORITY,
                    1,
                    &p,
                ));
                1
            },
            Status(200)
        ),
        case!(
            "6.3/1",
            Priority,
            "sends PRIORITY on stream 0",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 0, &priority(1, false, 15)));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.3/2",
            Priority,
            "sends PRIORITY whose length is not 5",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 15)[..4]));
                1
            },
            Stream(SIZE)
        ),
        case!(
            "3.3/1",
            Priority,
            "sends PRIORITY with weight 1",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 0)));
                c.send(&get(1, "/hello"));
                1
            },
            Status(200)
        ),
        case!(
            "3.3/2",
            Priority,
            "sends PRIORITY with weight 256",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 1, &priority(0, false, 255)));
                c.send(&get(1, "/hello"));
                1
            },
            Status(200)
        ),
        case!(
            "3.3/3",
            Priority,
            "sends PRIORITY with a stream dependency",
            |c| {
                c.send(&get(1, "/hello"));
                c.send(&frame(kind::PRIORITY, 0, 3, &priority(1, false, 15)));
                c.send(&get(3, "/hello"));
                3
            },
            Status(200)
        ),
        case!(
            "3.3/4",
            Priority,
            "sends PRIORITY with the exclusive flag",
            |c| {
                c.send(&get(1, "/hello"));
                c.send(&frame(kind::PRIORITY, 0, 3, &priority(1, true, 15)));
                c.send(&get(3, "/hello"));
                3
            },
            Status(200)
        ),
        case!(
            "3.3/5",
            Priority,
            "sends PRIORITY on an idle stream, then HEADERS on a lower one",
            |c| {
                c.send(&frame(kind::PRIORITY, 0, 5, &priority(0, false, 15)));
                c.send(&get(3, "/hello"));
                3
            },
            Status(200)
        ),
        case!(
            "6.4/1",
            RstStream,
            "sends RST_STREAM on stream 0",
            |c| {
                c.send(&frame(kind::RST_STREAM, 0, 0, &u32_payload(code::CANCEL)));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.4/2",
            RstStream,
            "sends RST_STREAM whose length is not 4",
            |c| {
                open_post(c);
                c.send(&frame(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8, 0]));
                1
            },
            Conn(SIZE)
        ),
        case!(
            "6.4/3",
            RstStream,
            "sends RST_STREAM on an idle stream",
            |c| {
                c.send(&frame(kind::RST_STREAM, 0, 1, &u32_payload(code::CANCEL)));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "3.4/1",
            RstStream,
            "sends RST_STREAM on an open stream",
            |c| {
                open_post(c);
                c.send(&frame(kind::RST_STREAM, 0, 1, &u32_payload(code::CANCEL)));
                1
            },
            Check(|c, _| none_before_barrier(c, |f| f.kind == kind::GOAWAY))
        ),
        case!(
            "8.4/1",
            PushPromise,
            "sends PUSH_PROMISE",
            |c| {
                let mut p = u32_payload(2).to_vec();
                p.extend_from_slice(Block::get("/hello").bytes());
                c.send(&frame(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &p));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "8.4/2",
            PushPromise,
            "sends PUSH_PROMISE on an open stream",
            |c| {
                open_post(c);
                let mut p = u32_payload(2).to_vec();
                p.extend_from_slice(Block::get("/hello").bytes());
                c.send(&frame(kind::PUSH_PROMISE, flag::END_HEADERS, 1, &p));
                1
            },
            Conn(PROTO)
        ),
    ]
}

/// §6.5, §6.7, §6.8.
fn settings_ping_goaway() -> Vec<Case> {
    vec![
        case!(
            "6.5/1",
            Settings,
            "sends SETTINGS ACK with a payload",
            |c| {
                c.send(&frame(kind::SETTINGS, flag::ACK, 0, &[0, 3, 0, 0, 0, 10]));
                0
            },
            Conn(SIZE)
        ),
        case!(
            "6.5/2",
            Settings,
            "sends SETTINGS on a stream",
            |c| {
                c.send(&frame(kind::SETTINGS, 0, 1, &[0, 3, 0, 0, 0, 10]));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.5/3",
            Settings,
            "sends SETTINGS whose length is not a multiple of 6",
            |c| {
                c.send(&frame(kind::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 10, 0]));
                0
            },
            Conn(SIZE)
        ),
        case!(
            "6.5.2/1",
            Settings,
            "sends SETTINGS_ENABLE_PUSH 2",
            |c| {
                c.send(&settings(&[(setting::ENABLE_PUSH, 2)]));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.5.2/2",
            Settings,
            "sends SETTINGS_INITIAL_WINDOW_SIZE 2^31",
            |c| {
                c.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 1 << 31)]));
                0
            },
            Conn(FLOW)
        ),
        case!(
            "6.5.2/3",
            Settings,
            "sends SETTINGS_MAX_FRAME_SIZE 16383",
            |c| {
                c.send(&settings(&[(setting::MAX_FRAME_SIZE, 16_383)]));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.5.2/4",
            Settings,
            "sends SETTINGS_MAX_FRAME_SIZE 2^24",
            |c| {
                c.send(&settings(&[(setting::MAX_FRAME_SIZE, 1 << 24)]));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.5.2/5",
            Settings,
            "sends an unknown SETTINGS identifier",
            |c| {
                c.send(&settings(&[(0xff, 1)]));
                0
            },
            Check(settings_acked)
        ),
        case!(
            "6.5.3/1",
            Settings,
            "sends several SETTINGS_INITIAL_WINDOW_SIZE values: the last holds",
            |c| {
                c.send(&settings(&[
                    (setting::INITIAL_WINDOW_SIZE, 100),
                    (setting::INITIAL_WINDOW_SIZE, 1),
                ]));
                c.send(&get(1, "/hello"));
                1
            },
            Check(|c, s| first_data_is(c, s, 1))
        ),
        case!(
            "6.5.3/2",
            Settings,
            "sends SETTINGS without ACK: it is acknowledged",
            |c| {
                c.send(&settings(&[(setting::MAX_CONCURRENT_STREAMS, 50)]));
                0
            },
            Check(settings_acked)
        ),
        case!(
            "6.7/1",
            Ping,
            "sends PING: an ACK with the same payload",
            |c| {
                c.send(&frame(kind::PING, 0, 0, b"h2specxx"));
                0
            },
            Check(|c, _| ping_acked(c, *b"h2specxx"))
        ),
        case!(
            "6.7/2",
            Ping,
            "sends PING with ACK: not answered",
            |c| {
                c.send(&frame(kind::PING, flag::ACK, 0, b"invalid!"));
                0
            },
            Check(|c, _| none_before_barrier(c, |f| f.kind == kind::PING || is_error(f)))
        ),
        case!(
            "6.7/3",
            Ping,
            "sends PING on a stream",
            |c| {
                c.send(&frame(kind::PING, 0, 1, b"h2specxx"));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.7/4",
            Ping,
            "sends PING whose length is not 8",
            |c| {
                c.send(&frame(kind::PING, 0, 0, b"h2spec"));
                0
            },
            Conn(SIZE)
        ),
        case!(
            "6.8/1",
            Goaway,
            "sends GOAWAY on a stream",
            |c| {
                let mut p = u32_payload(0).to_vec();
                p.extend(u32_payload(0));
                c.send(&frame(kind::GOAWAY, 0, 1, &p));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "3.8/1",
            Goaway,
            "sends GOAWAY: the server closes cleanly",
            |c| {
                let mut p = u32_payload(0).to_vec();
                p.extend(u32_payload(0));
                c.send(&frame(kind::GOAWAY, 0, 0, &p));
                0
            },
            Check(|c, _| {
                let before = c.until_closed(WAIT)?;
                match before.iter().find(|f| is_error(f)) {
                    Some(f) => Err(format!("{f}")),
                    None => Ok(()),
                }
            })
        ),
    ]
}

/// §6.9, §6.9.1, §6.9.2, §6.10.
fn flow_and_continuation() -> Vec<Case> {
    vec![
        case!(
            "6.9/1",
            WindowUpdate,
            "sends WINDOW_UPDATE with increment 0 on the connection",
            |c| {
                c.send(&frame(kind::WINDOW_UPDATE, 0, 0, &u32_payload(0)));
                0
            },
            Conn(PROTO)
        ),
        case!(
            "6.9/2",
            WindowUpdate,
            "sends WINDOW_UPDATE with increment 0 on a stream",
            |c| {
                open_post(c);
                c.send(&frame(kind::WINDOW_UPDATE, 0, 1, &u32_payload(0)));
                1
            },
            Stream(PROTO)
        ),
        case!(
            "6.9/3",
            WindowUpdate,
            "sends WINDOW_UPDATE whose length is not 4",
            |c| {
                c.send(&frame(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 0, 1, 0]));
                0
            },
            Conn(SIZE)
        ),
        case!(
            "3.9/1",
            WindowUpdate,
            "sends WINDOW_UPDATE on the connection",
            |c| {
                c.send(&frame(kind::WINDOW_UPDATE, 0, 0, &u32_payload(1)));
                0
            },
            Fine
        ),
        case!(
            "3.9/2",
            WindowUpdate,
            "sends WINDOW_UPDATE on an open stream",
            |c| {
                open_post(c);
                c.send(&frame(kind::WINDOW_UPDATE, 0, 1, &u32_payload(1)));
                1
            },
            Check(|c, _| none_before_barrier(c, is_error))
        ),
        case!(
            "6.9.1/1",
            FlowControl,
            "sets SETTINGS_INITIAL_WINDOW_SIZE 1: DATA of 1 octet",
            |c| {
                c.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 1)]));
                c.send(&get(1, "/hello"));
                1
            },
            Check(|c, s| first_data_is(c, s, 1))
        ),
        case!(
            "6.9.1/2",
            FlowControl,
            "sends WINDOW_UPDATEs past 2^31-1 on the connection",
            |c| {
                c.send(&frame(kind::WINDOW_UPDATE, 0, 0, &u32_payload(0x7fff_ffff)));
                c.send(&frame(kind::WINDOW_UPDATE, 0, 0, &u32_payload(0x7fff_ffff)));
                0
            },
            Conn(FLOW)
        ),
        case!(
            "6.9.1/3",
            FlowControl,
            "sends WINDOW_UPDATEs past 2^31-1 on a stream",
            |c| {
                open_post(c);
                c.send(&frame(kind::WINDOW_UPDATE, 0, 1, &u32_payload(0x7fff_ffff)));
                c.send(&frame(kind::WINDOW_UPDATE, 0, 1, &u32_payload(0x7fff_ffff)));
                1
            },
            Stream(FLOW)
        ),
        case!(
            "6.9.2/1",
            FlowControl,
            "changes SETTINGS_INITIAL_WINDOW_SIZE after HEADERS",
            |c| {
                c.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 0)]));
                c.send(&get(1, "/hello"));
                c.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 1)]));
                1
            },
            Check(|c, s| first_data_is(c, s, 1))
        ),
        case!(
            "6.9.2/2",
            FlowControl,
            "makes a stream's window negative with SETTINGS",
            |c| {
                c.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 3)]));
                c.send(&get(1, "/hello"));
                1
            },
            Check(|c, s| {
                first_data_is(c, s, 3)?;
                c.send(&settings(&[(setting::INITIAL_WINDOW_SIZE, 2)]));
                // The window is now -1: an increment of 2 lets 1 octet go.
                c.send(&frame(kind::WINDOW_UPDATE, 0, s, &u32_payload(2)));
                first_data_is(c, s, 1)
            })
        ),
        case!(
            "6.9.2/3",
            FlowControl,
            "sends SETTINGS_INITIAL_WINDOW_SIZE over the maximum",
            |c| {
                c.send(&frame(kind::SETTINGS, 0, 0, &[0, 4, 0x80, 0, 0, 0]));
                0
            },
            Conn(FLOW)
        ),
        case!(
            "6.10/1",
            Continuation,
            "sends several CONTINUATION frames after HEADERS",
            |c| {
                let b = Block::get("/hello");
                let (x, rest) = b.0.split_at(3);
                let (y, z) = rest.split_at(5);
                c.send(&frame(kind::HEADERS, flag::END_STREAM, 1, x));
                c.send(&frame(kind::CONTINUATION, 0, 1, y));
                c.send(&frame(kind::CONTINUATION, flag::END_HEADERS, 1, z));
                1
            },
            Status(200)
        ),
        case!(
            "3.10/1",
            Continuation,
            "sends one CONTINUATION frame after HEADERS",
            |c| {
                let (a, b) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&frame(kind::CONTINUATION, flag::END_HEADERS, 1, b.bytes()));
                1
            },
            Status(200)
        ),
        case!(
            "6.10/2",
            Continuation,
            "sends CONTINUATION followed by a frame of another type",
            |c| {
                let b = Block::get("/hello");
                let (x, rest) = b.0.split_at(3);
                c.send(&frame(kind::HEADERS, flag::END_STREAM, 1, x));
                c.send(&frame(kind::CONTINUATION, 0, 1, &rest[..2]));
                c.send(&data(1, true, b"test"));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "6.10/3",
            Continuation,
            "sends CONTINUATION on stream 0",
            |c| {
                let (a, b) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&frame(kind::CONTINUATION, flag::END_HEADERS, 0, b.bytes()));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "6.10/4",
            Continuation,
            "sends CONTINUATION after HEADERS with END_HEADERS",
            |c| {
                c.send(&get(1, "/hello"));
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "6.10/5",
            Continuation,
            "sends CONTINUATION after CONTINUATION with END_HEADERS",
            |c| {
                let (a, b) = split_get("/hello");
                c.send(&headers(1, flag::END_STREAM, &a));
                c.send(&frame(kind::CONTINUATION, flag::END_HEADERS, 1, b.bytes()));
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Conn(PROTO)
        ),
        case!(
            "6.10/6",
            Continuation,
            "sends CONTINUATION after DATA",
            |c| {
                open_post(c);
                c.send(&data(1, false, b"test"));
                c.send(&frame(
                    kind::CONTINUATION,
                    flag::END_HEADERS,
                    1,
                    Block::get("/hello").bytes(),
                ));
                1
            },
            Conn(PROTO)
        ),
    ]
}

/// §8.1 – §8.3, and h2spec's generic message exchanges.
fn exchange() -> Vec<Case> {
    /// A request with `block` (END_STREAM) on stream 1.
    fn req(c: &mut Client, block: Block) -> u32 {
        c.send(&hdrs(1, true, &block));
        1
    }
    vec![
        case!(
            "4/1",
            Exchange,
            "sends a GET request",
            |c| {
                c.send(&get(1, "/hello"));
                1
            },
            Status(200)
        ),
        case!(
            "4/2",
            Exchange,
            "sends a HEAD request",
            |c| {
                c.send(&hdrs(1, true, &Block::request("HEAD", "/hello")));
                1
            },
            Check(|c, s| {
                let a = c.response(s)?;
                if a.status != 200 || !a.body.is_empty() {
                    return Err(format!(
                        "HEAD: {} with {} body bytes",
                        a.status,
                        a.body.len()
                    ));
                }
                c.serves(NEXT)
            })
        ),
        case!(
            "4/3",
            Exchange,
            "sends a POST request",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                c.send(&data(1, true, b"test"));
                1
            },
            Check(|c, s| echoes(c, s, b"test"))
        ),
        case!(
            "4/4",
            Exchange,
            "sends a POST request with trailers",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                c.send(&data(1, false, b"test"));
                c.send(&hdrs(1, true, &Block::new().lit("x-trailer", "done")));
                1
            },
            Check(|c, s| echoes(c, s, b"test"))
        ),
        case!(
            "8.1/1",
            Exchange,
            "sends a second HEADERS without END_STREAM",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                c.send(&data(1, false, b"test"));
                c.send(&hdrs(1, false, &Block::new().lit("x-trailer", "done")));
                1
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.6/1",
            Exchange,
            "sends a content-length that one DATA frame contradicts",
            |c| {
                c.send(&hdrs(1, false, &post(1)));
                c.send(&data(1, true, b"test"));
                1
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.6/2",
            Exchange,
            "sends a content-length that several DATA frames contradict",
            |c| {
                c.send(&hdrs(1, false, &post(1)));
                c.send(&data(1, false, b"test"));
                c.send(&data(1, true, b"test"));
                1
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2/1",
            PseudoHeaders,
            "sends an upper-case header field name",
            |c| { req(c, get_with("X-Upper", "yes")) },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.1/1",
            PseudoHeaders,
            "sends an unknown pseudo-header",
            |c| { req(c, get_with(":test", "yes")) },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.1/2",
            PseudoHeaders,
            "sends a response pseudo-header in a request",
            |c| { req(c, get_with(":status", "200")) },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.1/3",
            PseudoHeaders,
            "sends a pseudo-header in trailers",
            |c| {
                c.send(&hdrs(1, false, &post(4)));
                c.send(&data(1, false, b"test"));
                c.send(&hdrs(1, true, &Block::new().lit(":method", "POST")));
                1
            },
            Stream(PROTO)
        )
        .deviates(H2_TRAILER_PSEUDO, Check(|c, s| echoes(c, s, b"test"))),
        case!(
            "8.1.2.1/4",
            PseudoHeaders,
            "sends a pseudo-header after a regular field",
            |c| {
                let block = Block::new()
                    .lit(":method", "GET")
                    .indexed(6)
                    .lit("x-first", "yes")
                    .lit_idx(4, "/hello")
                    .lit_idx(1, "localhost");
                req(c, block)
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.2/1",
            PseudoHeaders,
            "sends a connection-specific header field",
            |c| { req(c, get_with("connection", "keep-alive")) },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.2/2",
            PseudoHeaders,
            "sends TE other than trailers",
            |c| { req(c, get_with("te", "gzip")) },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/1",
            PseudoHeaders,
            "sends an empty :path",
            |c| {
                let block = Block::new()
                    .lit(":method", "GET")
                    .indexed(6)
                    .lit_idx(4, "")
                    .lit_idx(1, "localhost");
                req(c, block)
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/2",
            PseudoHeaders,
            "sends no :method",
            |c| {
                req(
                    c,
                    Block::new()
                        .indexed(6)
                        .lit_idx(4, "/hello")
                        .lit_idx(1, "localhost"),
                )
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/3",
            PseudoHeaders,
            "sends no :scheme",
            |c| {
                req(
                    c,
                    Block::new()
                        .lit(":method", "GET")
                        .lit_idx(4, "/hello")
                        .lit_idx(1, "localhost"),
                )
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/4",
            PseudoHeaders,
            "sends no :path",
            |c| {
                req(
                    c,
                    Block::new()
                        .lit(":method", "GET")
                        .indexed(6)
                        .lit_idx(1, "localhost"),
                )
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/5",
            PseudoHeaders,
            "sends :method twice",
            |c| { req(c, Block::get("/hello").lit(":method", "GET")) },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/6",
            PseudoHeaders,
            "sends :scheme twice",
            |c| {
                let block = Block::new()
                    .lit(":method", "GET")
                    .indexed(6)
                    .indexed(6)
                    .lit_idx(4, "/hello")
                    .lit_idx(1, "localhost");
                req(c, block)
            },
            Stream(PROTO)
        ),
        case!(
            "8.1.2.3/7",
            PseudoHeaders,
            "sends :path twice",
            |c| {
                let block = Block::new()
                    .lit(":method", "GET")
                    .indexed(6)
                    .lit_idx(4, "/hello")
                    .lit_idx(4, "/hello")
                    .lit_idx(1, "localhost");
                req(c, block)
            },
            Stream(PROTO)
        ),
    ]
}

/// Huffman codes from RFC 7541 Appendix C.4: `www.example.com`.
const HUFF_WWW: &[u8] = &[
    0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
];
/// `custom-key` (Appendix C.4.3).
const HUFF_KEY: &[u8] = &[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f];
/// `custom-value` (Appendix C.4.3).
const HUFF_VALUE: &[u8] = &[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf];

/// A Huffman-coded string literal.
fn huff(s: &[u8]) -> Vec<u8> {
    let mut out = super::raw::hpack_int(0x80, 7, s.len());
    out.extend_from_slice(s);
    out
}

/// A plain string literal.
fn plain(s: &[u8]) -> Vec<u8> {
    let mut out = super::raw::hpack_int(0, 7, s.len());
    out.extend_from_slice(s);
    out
}

/// `GET /hello` without `:authority`, then `field` (a representation).
fn get_plus(field: &[u8]) -> Block {
    Block::new()
        .indexed(2)
        .indexed(6)
        .lit_idx(4, "/hello")
        .raw(field)
}

/// The field with an indexed name (`:authority`, static 1) and `value`,
/// under a representation whose first byte is `high` with an `n`-bit index.
fn named(high: u8, n: u32, value: &[u8]) -> Vec<u8> {
    let mut f = super::raw::hpack_int(high, n, 1);
    f.extend(value);
    f
}

/// The field with a new name and `name`/`value` string literals.
fn fresh(first: u8, name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut f = vec![first];
    f.extend(name);
    f.extend(value);
    f
}

/// RFC 7541 (h2spec's hpack group, and its generic representations).
fn hpack() -> Vec<Case> {
    /// A request with `block` on stream 1.
    fn req(c: &mut Client, block: Block) -> u32 {
        c.send(&hdrs(1, true, &block));
        1
    }
    vec![
        case!(
            "2.3.3/1",
            Hpack,
            "sends an indexed field with an index past both tables",
            |c| { req(c, Block::get("/hello").indexed(70)) },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "2.3.3/2",
            Hpack,
            "sends a literal whose name index is past both tables",
            |c| {
                req(
                    c,
                    Block::get("/hello")
                        .raw(&super::raw::hpack_int(0x00, 4, 70))
                        .raw(&plain(b"x")),
                )
            },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "4.2/1",
            Hpack,
            "sends a table size update over SETTINGS_HEADER_TABLE_SIZE",
            |c| {
                let over = super::raw::hpack_int(0x20, 5, 4097);
                req(c, Block::new().raw(&over).raw(Block::get("/hello").bytes()))
            },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "5.2/1",
            Hpack,
            "sends a Huffman string that contains EOS",
            |c| {
                req(
                    c,
                    get_plus(&named(0x00, 4, &huff(&[0xff, 0xff, 0xff, 0xff]))),
                )
            },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "5.2/2",
            Hpack,
            "sends a Huffman string padded with more than 7 bits",
            |c| {
                let mut long = HUFF_WWW.to_vec();
                long.push(0xff);
                req(c, get_plus(&named(0x00, 4, &huff(&long))))
            },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "5.2/3",
            Hpack,
            "sends a Huffman string padded with zeros, not EOS",
            |c| {
                // `0` is the 5-bit code 00000: its padding must be 111.
                req(c, get_plus(&named(0x00, 4, &huff(&[0x00]))))
            },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "6.1/1",
            Hpack,
            "sends an indexed field with index 0",
            |c| { req(c, Block::get("/hello").indexed(0)) },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "6.3/1",
            Hpack,
            "sends a table size update at the end of a block",
            |c| { req(c, Block::get("/hello").raw(&[0x20])) },
            Conn(COMP)
        )
        .deviates(H2_HPACK, Conn(PROTO)),
        case!(
            "5/1",
            Hpack,
            "sends indexed fields from the static table",
            |c| {
                // :method GET, :scheme http, :path / (unrouted here: 404).
                req(c, Block::new().indexed(2).indexed(6).indexed(4))
            },
            Status(404)
        ),
        case!(
            "5/2",
            Hpack,
            "literal with incremental indexing, indexed name; then indexed",
            |c| {
                req(c, get_plus(&named(0x40, 6, &plain(b"localhost"))));
                let _ = c.response(1);
                // The new entry is dynamic index 62.
                c.send(&hdrs(
                    3,
                    true,
                    &Block::new()
                        .indexed(2)
                        .indexed(6)
                        .lit_idx(4, "/hello")
                        .indexed(62),
                ));
                3
            },
            Status(200)
        ),
        case!(
            "5/3",
            Hpack,
            "literal with incremental indexing, indexed name, Huffman",
            |c| { req(c, get_plus(&named(0x40, 6, &huff(HUFF_WWW)))) },
            Status(200)
        ),
        case!(
            "5/4",
            Hpack,
            "literal with incremental indexing, new name",
            |c| {
                req(
                    c,
                    get_plus(&fresh(0x40, &plain(b"custom-key"), &plain(b"custom-value"))),
                )
            },
            Status(200)
        ),
        case!(
            "5/5",
            Hpack,
            "literal with incremental indexing, new name, Huffman",
            |c| {
                req(
                    c,
                    get_plus(&fresh(0x40, &huff(HUFF_KEY), &huff(HUFF_VALUE))),
                )
            },
            Status(200)
        ),
        case!(
            "5/6",
            Hpack,
            "literal without indexing, indexed name",
            |c| { req(c, get_plus(&named(0x00, 4, &plain(b"localhost")))) },
            Status(200)
        ),
        case!(
            "5/7",
            Hpack,
            "literal without indexing, indexed name, Huffman",
            |c| { req(c, get_plus(&named(0x00, 4, &huff(HUFF_WWW)))) },
            Status(200)
        ),
        case!(
            "5/8",
            Hpack,
            "literal without indexing, new name",
            |c| {
                req(
                    c,
                    get_plus(&fresh(0x00, &plain(b"custom-key"), &plain(b"custom-value"))),
                )
            },
            Status(200)
        ),
        case!(
            "5/9",
            Hpack,
            "literal without indexing, new name, Huffman",
            |c| {
                req(
                    c,
                    get_plus(&fresh(0x00, &huff(HUFF_KEY), &huff(HUFF_VALUE))),
                )
            },
            Status(200)
        ),
        case!(
            "5/10",
            Hpack,
            "literal never indexed, indexed name",
            |c| { req(c, get_plus(&named(0x10, 4, &plain(b"localhost")))) },
            Status(200)
        ),
        case!(
            "5/11",
            Hpack,
            "literal never indexed, indexed name, Huffman",
            |c| { req(c, get_plus(&named(0x10, 4, &huff(HUFF_WWW)))) },
            Status(200)
        ),
        case!(
            "5/12",
            Hpack,
            "literal never indexed, new name",
            |c| {
                req(
                    c,
                    get_plus(&fresh(0x10, &plain(b"custom-key"), &plain(b"custom-value"))),
                )
            },
            Status(200)
        ),
        case!(
            "5/13",
            Hpack,
            "literal never indexed, new name, Huffman",
            |c| {
                req(
                    c,
                    get_plus(&fresh(0x10, &huff(HUFF_KEY), &huff(HUFF_VALUE))),
                )
            },
            Status(200)
        ),
        case!(
            "5/14",
            Hpack,
            "sends a dynamic table size update",
            |c| {
                req(
                    c,
                    Block::new().raw(&[0x20]).raw(Block::get("/hello").bytes()),
                )
            },
            Status(200)
        ),
        case!(
            "5/15",
            Hpack,
            "sends two dynamic table size updates",
            |c| {
                let mut updates = vec![0x20];
                updates.extend(super::raw::hpack_int(0x20, 5, 4096));
                req(
                    c,
                    Block::new().raw(&updates).raw(Block::get("/hello").bytes()),
                )
            },
            Status(200)
        ),
    ]
}
