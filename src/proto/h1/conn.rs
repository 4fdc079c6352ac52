//! `H1Conn`: the per-connection request state machine that turns the bytes a
//! caller holds into complete requests, in order.

use super::chunked::ChunkedDecoder;
use super::error::{H1Error, Kind};
use super::parse::{parse_head, Framing, Head};
use super::scan::{HeadBounds, HeadScan};
use super::{HeaderArray, Limits, MAX_HEADERS};

/// Capacity of the decoded-body buffer kept between requests; a larger one
/// (left by an unusually big chunked body) is shrunk back to this.
const RETAINED_BODY_CAPACITY: usize = 1 << 20;

/// A complete request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'b> {
    /// The head.
    pub head: Head<'b>,
    /// The body: borrowed from the caller's buffer for `Content-Length`,
    /// from the connection's decode buffer (de-chunked) for `chunked`.
    pub body: &'b [u8],
    /// Bytes of the caller's buffer this request used (head and raw body); the
    /// caller drops them before polling again.
    pub len: usize,
}

/// What [`H1Conn::poll`] found.
#[derive(Debug)]
pub enum Poll<'b> {
    /// A complete request; the connection is ready for the next one.
    Request(Request<'b>),
    /// The head is complete but the body is not (returned once per request):
    /// the caller may stop here, or write [`CONTINUE`](super::CONTINUE).
    HeadOnly(Head<'b>),
    /// Nothing complete yet: keep every byte, poll again with more appended.
    NeedMore,
    /// The request cannot be served: answer with
    /// [`encode_error`](super::encode_error) and close.
    Error(H1Error),
}

/// Where the connection is relative to request boundaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between requests, nothing buffered.
    Boundary,
    /// Some bytes of a request whose head is not complete (or a failed one).
    PartialHead,
    /// A complete head whose body has not fully arrived.
    PartialBody,
}

/// How a body that has not fully arrived is being read.
#[derive(Clone, Copy, Debug)]
enum BodyRead {
    /// `Content-Length`: complete once the buffer reaches `end`.
    Length {
        /// Offset just past the body.
        end: usize,
    },
    /// `chunked`: decoded as it arrives.
    Chunked {
        /// The decoder.
        decoder: ChunkedDecoder,
        /// Offset of the body's first byte (just past the head).
        start: usize,
    },
}

/// The connection's state.
///
/// ```text
///            ┌──────── Request (body complete on the same poll) ────────┐
///            ▼                                                          │
///   Head(scan) ──head complete, body not──▶ Body{..} ──body complete──▶ Head(new)
///        │                                      │
///        └───────────── bad input ──────────────┴──▶ Failed (sticky)
/// ```
#[derive(Clone, Copy, Debug)]
enum State {
    /// Reading a head.
    Head(HeadScan),
    /// The head was returned as [`Poll::HeadOnly`]; reading its body.
    Body {
        /// Where the head lies, to re-parse it when the body completes.
        bounds: HeadBounds,
        /// Body progress.
        body: BodyRead,
    },
    /// An error was returned; every later poll returns it again.
    Failed(H1Error),
}

/// The HTTP/1.x request state machine of one connection.
///
/// The caller owns the bytes: it passes every unconsumed byte to
/// [`H1Conn::poll`], starting at the current request's first byte, and drops
/// [`Request::len`] bytes after each request. Partial progress is remembered
/// as offsets into that buffer, so splitting the input anywhere gives the same
/// requests, and each byte is examined once.
#[derive(Debug)]
pub struct H1Conn {
    /// Size limits, fixed for the connection.
    limits: Limits,
    /// Where the current request is.
    state: State,
    /// De-chunked body of the current request; capacity kept across requests.
    body: Vec<u8>,
}

/// What one step of the machine produced, before the head is borrowed.
enum Step {
    /// Nothing complete.
    NeedMore,
    /// A head completed on this poll (its body may be anything yet).
    NewHead(HeadBounds),
    /// A body started on an earlier poll completed.
    BodyDone {
        /// Where the head lies.
        bounds: HeadBounds,
        /// Offset just past the raw body.
        end: usize,
        /// Whether the body lives in the decode buffer.
        chunked: bool,
    },
}

impl H1Conn {
    /// A connection at a request boundary. `limits.max_headers` is capped at
    /// [`MAX_HEADERS`].
    pub fn new(mut limits: Limits) -> Self {
        limits.max_headers = limits.max_headers.min(MAX_HEADERS);
        H1Conn {
            limits,
            state: State::Head(HeadScan::new()),
            body: Vec::new(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Where the connection is, given the `buffered` unconsumed bytes the
    /// caller holds.
    pub fn phase(&self, buffered: usize) -> Phase {
        match self.state {
            State::Head(scan) if scan.is_fresh() && buffered == 0 => Phase::Boundary,
            State::Head(_) | State::Failed(_) => Phase::PartialHead,
            State::Body { .. } => Phase::PartialBody,
        }
    }

    /// How many bytes, counted from the current request's first byte, the
    /// request needs in all, when its head told (a `Content-Length` body):
    /// a reader sizes its buffer by it instead of doubling past it.
    pub fn wanted(&self) -> Option<usize> {
        match self.state {
            State::Body {
                body: BodyRead::Length { end },
                ..
            } => Some(end),
            _ => None,
        }
    }

    /// For a chunked body in progress whose decoded raw bytes reach `min`:
    /// their range in the caller's buffer (just past the head). The caller
    /// removes that range from its buffer; the machine continues from there,
    /// so a large chunked upload is held once (decoded), not twice.
    pub fn release_decoded(&mut self, min: usize) -> Option<std::ops::Range<usize>> {
        let State::Body {
            body: BodyRead::Chunked { decoder, start },
            ..
        } = &mut self.state
        else {
            return None;
        };
        let pos = decoder.pos();
        if pos - *start < min.max(1) {
            return None;
        }
        decoder.rebase(*start);
        Some(*start..pos)
    }

    /// Advances over `buf` (every unconsumed byte, from the current request's
    /// first byte); `headers` receives the header fields of a returned head.
    pub fn poll<'b>(&'b mut self, buf: &'b [u8], headers: &'b mut HeaderArray<'b>) -> Poll<'b> {
        match self.step(buf) {
            Ok(Step::NeedMore) => Poll::NeedMore,
            Ok(Step::NewHead(bounds)) => match parse_head(buf, bounds, headers, &self.limits) {
                Ok(head) => self.start_body(buf, bounds, head),
                Err(e) => self.fail(e),
            },
            Ok(Step::BodyDone {
                bounds,
                end,
                chunked,
            }) => match parse_head(buf, bounds, headers, &self.limits) {
                Ok(head) => self.complete(buf, head, end, chunked),
                Err(e) => self.fail(e),
            },
            Err(e) => self.fail(e),
        }
    }

    /// Scans the head or reads the body, without borrowing headers.
    fn step(&mut self, buf: &[u8]) -> Result<Step, H1Error> {
        match &mut self.state {
            State::Failed(e) => Err(*e),
            State::Head(scan) => Ok(scan
                .advance(buf, &self.limits)?
                .map_or(Step::NeedMore, Step::NewHead)),
            State::Body {
                bounds,
                body: BodyRead::Length { end },
            } => Ok(if buf.len() >= *end {
                Step::BodyDone {
                    bounds: *bounds,
                    end: *end,
                    chunked: false,
                }
            } else {
                Step::NeedMore
            }),
            State::Body {
                bounds,
                body: BodyRead::Chunked { decoder, .. },
            } => Ok(if decoder.decode(buf, &mut self.body, &self.limits)? {
                Step::BodyDone {
                    bounds: *bounds,
                    end: decoder.pos(),
                    chunked: true,
                }
            } else {
                Step::NeedMore
            }),
        }
    }

    /// A head just completed: returns the request if its body is already
    /// here, otherwise remembers the body's progress and returns the head.
    fn start_body<'b>(&'b mut self, buf: &'b [u8], bounds: HeadBounds, head: Head<'b>) -> Poll<'b> {
        let start = head.head_len;
        match head.framing {
            Framing::None => self.complete(buf, head, start, false),
            Framing::Length(n) => {
                let Some(end) = usize::try_from(n).ok().and_then(|n| start.checked_add(n)) else {
                    return self.fail(H1Error::new(Kind::BodyTooLarge));
                };
                if buf.len() >= end {
                    return self.complete(buf, head, end, false);
                }
                self.wait_for_body(bounds, head, BodyRead::Length { end })
            }
            Framing::Chunked => {
                self.body.clear();
                self.body.shrink_to(RETAINED_BODY_CAPACITY);
                let mut decoder = ChunkedDecoder::new(start);
                match decoder.decode(buf, &mut self.body, &self.limits) {
                    Ok(true) => self.complete(buf, head, decoder.pos(), true),
                    Ok(false) => {
                        let body = BodyRead::Chunked { decoder, start };
                        self.wait_for_body(bounds, head, body)
                    }
                    Err(e) => self.fail(e),
                }
            }
        }
    }

    /// Remembers a body in progress and hands out its head.
    fn wait_for_body<'b>(
        &'b mut self,
        bounds: HeadBounds,
        head: Head<'b>,
        body: BodyRead,
    ) -> Poll<'b> {
        self.state = State::Body { bounds, body };
        Poll::HeadOnly(head)
    }

    /// Resets for the next request and returns this one, its raw bytes
    /// ending at `end`.
    fn complete<'b>(
        &'b mut self,
        buf: &'b [u8],
        head: Head<'b>,
        end: usize,
        chunked: bool,
    ) -> Poll<'b> {
        self.state = State::Head(HeadScan::new());
        let this: &'b H1Conn = self;
        let body = if chunked {
            &this.body[..]
        } else {
            &buf[head.head_len..end]
        };
        Poll::Request(Request {
            head,
            body,
            len: end,
        })
    }

    /// Makes the connection fail with `e` from now on.
    fn fail<'b>(&mut self, e: H1Error) -> Poll<'b> {
        self.state = State::Failed(e);
        Poll::Error(e)
    }
}
