//! Parses a complete request head into a [`Head`] and decides its framing,
//! keep-alive and `Expect` semantics (RFC 9112 §3, §6; RFC 9110 §7.2, §10.1.1).

use super::error::{H1Error, Kind};
use super::scan::HeadBounds;
use super::target;
use super::Limits;
use crate::proto::Version;
use std::mem::MaybeUninit;

/// How the request's body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body: neither `Content-Length` nor `Transfer-Encoding`.
    None,
    /// Exactly this many bytes follow the head (`Content-Length`).
    Length(u64),
    /// A chunked body (`Transfer-Encoding: chunked`).
    Chunked,
}

impl Framing {
    /// Whether body bytes are expected after the head.
    pub fn expects_body(self) -> bool {
        matches!(self, Framing::Length(1..) | Framing::Chunked)
    }
}

/// A parsed request head, borrowing the caller's buffer and header array.
#[derive(Clone, Copy, Debug)]
pub struct Head<'b> {
    /// The method, as sent (a token; case-sensitive).
    pub method: &'b str,
    /// The raw request-target, query included.
    pub target: &'b str,
    /// The path: the target up to the first `?`, or the path of an
    /// absolute-form target (`/` when it has none).
    pub path: &'b str,
    /// The target after the first `?`; empty when there is none.
    pub query: &'b str,
    /// The authority of an absolute-form target (`GET http://host/path`),
    /// which replaces the `Host` field (RFC 9112 §3.2.2); `None` otherwise.
    pub authority: Option<&'b str>,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The header fields in arrival order, names as sent, values trimmed of
    /// surrounding spaces and tabs.
    pub headers: &'b [httparse::Header<'b>],
    /// Whether the connection stays open after this request's response.
    pub keep_alive: bool,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the client sent `Expect: 100-continue` and a body is expected,
    /// so it may wait for [`CONTINUE`](super::CONTINUE) before sending it.
    pub expect_continue: bool,
    /// Bytes of the buffer before the body: skipped empty lines, request line
    /// and header block.
    pub head_len: usize,
}

impl<'b> Head<'b> {
    /// The first value of the header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

/// Parses the complete head at `bounds` in `buf` into `headers`.
pub(crate) fn parse_head<'b>(
    buf: &'b [u8],
    bounds: HeadBounds,
    headers: &'b mut [MaybeUninit<httparse::Header<'b>>],
    limits: &Limits,
) -> Result<Head<'b>, H1Error> {
    let raw = &buf[bounds.start..bounds.end];
    let max = limits.max_headers.min(headers.len());
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(raw, &mut headers[..max]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(H1Error::new(Kind::BadHeader)),
        Err(e) => return Err(H1Error::new(error_kind(e, raw))),
    }
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(H1Error::new(Kind::BadRequestLine));
    };
    let version = if minor == 1 {
        Version::Http11
    } else {
        Version::Http10
    };
    let fields: &'b [httparse::Header<'b>] = req.headers;
    let sem = Semantics::collect(fields)?;
    let framing = sem.framing(version, limits)?;
    // RFC 9112 §3.2: no Host on HTTP/1.1, more than one, or an invalid
    // value is a 400 (an absolute-form target does not excuse a missing Host).
    if (version == Version::Http11 && sem.hosts != 1) || sem.hosts > 1 || sem.bad_host {
        return Err(H1Error::new(Kind::BadHost));
    }
    let split = target::split(method, target).ok_or(H1Error::new(Kind::BadTarget))?;
    let keep_alive = match version {
        Version::Http11 => !sem.close,
        _ => sem.keep_alive && !sem.close,
    };
    Ok(Head {
        method,
        target,
        path: split.path,
        query: split.query,
        authority: split.authority,
        version,
        headers: fields,
        keep_alive,
        framing,
        // RFC 9110 §10.1.1: ignored on HTTP/1.0, pointless without a body.
        expect_continue: sem.expect_continue
            && version == Version::Http11
            && framing.expects_body(),
        head_len: bounds.end,
    })
}

/// Maps an httparse error to a kind; a syntactically versioned but unknown
/// protocol version (`HTTP/2.0`, `HTTP/3`) is a 505, any other bad version a 400.
fn error_kind(e: httparse::Error, raw: &[u8]) -> Kind {
    match e {
        httparse::Error::Version => {
            let line_end = raw.iter().position(|&b| b == b'\r').unwrap_or(raw.len());
            let line = &raw[..line_end];
            // What httparse read as the version: everything after the second space.
            let version = line.splitn(3, |&b| b == b' ').nth(2).unwrap_or_default();
            match version.strip_prefix(b"HTTP/") {
                Some([major, b'.', minor]) if major.is_ascii_digit() && minor.is_ascii_digit() => {
                    Kind::UnsupportedVersion
                }
                Some([major]) if major.is_ascii_digit() => Kind::UnsupportedVersion,
                _ => Kind::BadRequestLine,
            }
        }
        httparse::Error::TooManyHeaders => Kind::TooManyHeaders,
        httparse::Error::HeaderName | httparse::Error::HeaderValue => Kind::BadHeader,
        _ => Kind::BadRequestLine,
    }
}

/// What the framing-relevant header fields said, gathered in one pass.
#[derive(Default)]
struct Semantics {
    /// Number of `Host` fields.
    hosts: usize,
    /// A `Host` value that is not `host[:port]`.
    bad_host: bool,
    /// The agreed `Content-Length`, if any was sent.
    content_length: Option<u64>,
    /// Whether any `Transfer-Encoding` field was sent.
    te_present: bool,
    /// Non-empty transfer codings seen, across all `Transfer-Encoding` fields.
    te_codings: usize,
    /// Whether the last coding seen so far is `chunked`.
    te_chunked_last: bool,
    /// Whether a coding followed `chunked` (chunked not final, or applied twice).
    te_chunked_not_final: bool,
    /// A `close` connection option.
    close: bool,
    /// A `keep-alive` connection option.
    keep_alive: bool,
    /// `Expect: 100-continue`.
    expect_continue: bool,
}

/// The elements of a comma-separated list, trimmed of spaces and tabs; empty
/// elements are skipped (RFC 9110 §5.6.1).
fn list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|e| e.trim_ascii())
        .filter(|e| !e.is_empty())
}

impl Semantics {
    /// One pass over the fields.
    fn collect(fields: &[httparse::Header<'_>]) -> Result<Self, H1Error> {
        let mut sem = Semantics::default();
        for field in fields {
            let (name, value) = (field.name, field.value);
            if name.eq_ignore_ascii_case("host") {
                sem.hosts += 1;
                sem.bad_host |= !target::is_valid_authority(value);
            } else if name.eq_ignore_ascii_case("content-length") {
                sem.add_content_length(value)?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                sem.add_transfer_encoding(value);
            } else if name.eq_ignore_ascii_case("connection") {
                for option in list(value) {
                    sem.close |= option.eq_ignore_ascii_case(b"close");
                    sem.keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            } else if name.eq_ignore_ascii_case("expect") {
                sem.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
            }
        }
        Ok(sem)
    }

    /// A `Content-Length` field: a list of identical runs of digits.
    fn add_content_length(&mut self, value: &[u8]) -> Result<(), H1Error> {
        let bad = H1Error::new(Kind::BadContentLength);
        let mut elements = 0;
        for element in value.split(|&b| b == b',').map(|e| e.trim_ascii()) {
            let n = parse_decimal(element).ok_or(bad)?;
            if self.content_length.is_some_and(|seen| seen != n) {
                return Err(bad);
            }
            self.content_length = Some(n);
            elements += 1;
        }
        if elements == 0 {
            return Err(bad);
        }
        Ok(())
    }

    /// A `Transfer-Encoding` field: codings appended to the ones seen before.
    fn add_transfer_encoding(&mut self, value: &[u8]) {
        self.te_present = true;
        for coding in list(value) {
            self.te_chunked_not_final |= self.te_chunked_last;
            self.te_chunked_last = coding.eq_ignore_ascii_case(b"chunked");
            self.te_codings += 1;
        }
    }

    /// The body framing (RFC 9112 §6.3), or why it cannot be trusted.
    fn framing(&self, version: Version, limits: &Limits) -> Result<Framing, H1Error> {
        if self.te_present {
            if self.content_length.is_some() {
                return Err(H1Error::new(Kind::LengthAndTransferEncoding));
            }
            // RFC 9112 §6.1: HTTP/1.0 with Transfer-Encoding is faulty framing;
            // `chunked` not final (or twice) MUST be a 400.
            if version == Version::Http10 || self.te_chunked_not_final || self.te_codings == 0 {
                return Err(H1Error::new(Kind::BadTransferEncoding));
            }
            if self.te_codings != 1 || !self.te_chunked_last {
                return Err(H1Error::new(Kind::UnsupportedTransferCoding));
            }
            return Ok(Framing::Chunked);
        }
        match self.content_length {
            Some(n) if n > limits.max_body => Err(H1Error::new(Kind::BodyTooLarge)),
            Some(n) => Ok(Framing::Length(n)),
            None => Ok(Framing::None),
        }
    }
}

/// A non-empty run of ASCII digits as a `u64`; `None` on anything else or overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}
