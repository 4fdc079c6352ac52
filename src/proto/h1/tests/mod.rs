//! Tests for the HTTP/1.x layer, and a harness that feeds a connection the
//! way an engine does: appending reads, keeping unconsumed bytes, dropping
//! each request's `len`, and checking that any split of the input gives the
//! same requests as the whole.

mod body;
mod encode;
mod parse;

use super::{empty_headers, Framing, H1Conn, Limits, Phase, Poll};
use crate::proto::Version;

/// An owned copy of a complete request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Req {
    pub method: String,
    pub target: String,
    pub path: String,
    pub query: String,
    pub authority: Option<String>,
    pub version: Version,
    pub headers: Vec<(String, Vec<u8>)>,
    pub keep_alive: bool,
    pub framing: Framing,
    pub expect_continue: bool,
    pub head_len: usize,
    pub body: Vec<u8>,
    pub len: usize,
}

/// What an engine saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Event {
    /// A complete request.
    Req(Req),
    /// A head whose body had not fully arrived: method and expect_continue.
    HeadOnly(String, bool),
    /// An error, by status.
    Error(u16),
}

/// A fake engine around one connection.
pub(super) struct Engine {
    pub conn: H1Conn,
    /// Bytes received and not consumed.
    pub buf: Vec<u8>,
    pub events: Vec<Event>,
    /// A HeadOnly was returned for the request in progress.
    head_only_seen: bool,
    failed: bool,
}

impl Engine {
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
}

/// Feeds `input` in the given pieces.
pub(super) fn feed(limits: Limits, pieces: &[&[u8]]) -> Engine {
    let mut engine = Engine::new(limits);
    for piece in pieces {
        engine.push(piece);
    }
    engine
}

/// Feeds `input` whole, then split in two at every byte boundary, then one
/// byte at a time; asserts every run gives the same requests and errors and,
/// unless it failed, leaves the same bytes unconsumed. Returns the events of the whole run.
pub(super) fn check(limits: Limits, input: &[u8]) -> Vec<Event> {
    let whole = feed(limits, &[input]);
    let expected = whole.settled();
    for k in 0..=input.len() {
        let split = feed(limits, &[&input[..k], &input[k..]]);
        assert_eq!(split.settled(), expected, "split at {k}");
        if !matches!(expected.last(), Some(Event::Error(_))) {
            assert_eq!(split.buf.len(), whole.buf.len(), "leftover, split at {k}");
        }
    }
    let mut bytewise = Engine::new(limits);
    for b in input {
        bytewise.push(std::slice::from_ref(b));
    }
    assert_eq!(bytewise.settled(), expected, "byte at a time");
    whole.events
}

/// `check`ed with default limits.
pub(super) fn check_default(input: &[u8]) -> Vec<Event> {
    check(Limits::default(), input)
}

/// The only event of `events`, which must be a request.
pub(super) fn only_request(events: Vec<Event>) -> Req {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Req(r)]) => r,
        Ok([other]) => panic!("expected a request, got {other:?}"),
        Err(events) => panic!("expected one request, got {events:?}"),
    }
}

/// The status of the only event, which must be an error.
pub(super) fn only_error(events: Vec<Event>) -> u16 {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Error(status)]) => status,
        other => panic!("expected one error, got {other:?}"),
    }
}

/// Small limits, so limit tests stay quick when split at every byte.
pub(super) fn small_limits() -> Limits {
    Limits {
        max_request_line: 32,
        max_header_block: 64,
        max_headers: 4,
        max_body: 16,
        max_trailers: 24,
    }
}
