//! Serializes responses (and error answers) as HTTP/1.1 bytes (RFC 9112 §4, §6, §7.1).

use super::date::DateCache;
use super::error::H1Error;
use crate::handler::{BodyMode, Response};

/// The interim response sent to a client waiting on `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How a response is written on this connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeOpts {
    /// The request was `HEAD`: headers only, `content-length` kept.
    pub head_request: bool,
    /// The connection closes after this response: `connection: close` is sent.
    pub close: bool,
    /// A live body is delimited by the close (HTTP/1.0 has no chunked coding).
    pub until_close: bool,
    /// The request was HTTP/1.0, whose connections close by default: when the
    /// connection stays open (`close` false), `connection: keep-alive` is
    /// sent so the client does not wait for EOF (RFC 9112 §9.3, Appendix C.2.2).
    pub http10: bool,
}

/// The last chunk of a chunked body, with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Whether a response with `status` may carry a body.
pub fn has_body(status: u16) -> bool {
    !is_bodiless(status)
}

/// Appends one chunk of a chunked body (nothing for an empty piece, which
/// would end the body).
pub fn encode_chunk(chunk: &[u8], out: &mut Vec<u8>) {
    if chunk.is_empty() {
        return;
    }
    put_hex(out, chunk.len() as u64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(chunk);
    out.extend_from_slice(b"\r\n");
}

/// Whether responses with `status` never carry a body or body framing
/// (RFC 9110 §6.4.1: 1xx, 204, 304).
fn is_bodiless(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// Appends `n` in decimal.
fn put_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends `n` in lower-case hex (a chunk size).
fn put_hex(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Appends the status line and the `date` line.
fn put_status_and_date(out: &mut Vec<u8>, status: u16, date: &DateCache) {
    if status == 200 {
        // The status line of nearly every response, in one copy.
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\ndate: ");
    } else {
        out.extend_from_slice(b"HTTP/1.1 ");
        put_decimal(out, u64::from(status));
        out.push(b' ');
        out.extend_from_slice(reason_phrase(status).as_bytes());
        out.extend_from_slice(b"\r\ndate: ");
    }
    out.extend_from_slice(date.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends `resp` as an HTTP/1.1 response.
///
/// ```text
/// HTTP/1.1 <code> <reason>\r\n
/// date: <IMF-fixdate>\r\n
/// <the response's header lines, as stored>
/// content-length: N\r\n          (full body; not for 1xx, 204, 304)
/// transfer-encoding: chunked\r\n (streamed body; not for 1xx, 204, 304)
/// connection: close\r\n          (when closing)
/// connection: keep-alive\r\n     (HTTP/1.0 request, connection kept)
/// \r\n
/// <body, or chunks "<hex>\r\n<data>\r\n" ending "0\r\n\r\n"; none for HEAD>
/// ```
pub fn encode_response(resp: &Response, opts: EncodeOpts, date: &DateCache, out: &mut Vec<u8>) {
    let status = resp.status();
    let bodiless = is_bodiless(status);
    out.reserve(128 + resp.header_block().len() + resp.body().len());
    put_status_and_date(out, status, date);
    out.extend_from_slice(resp.header_block());
    if !bodiless {
        match resp.mode() {
            BodyMode::Full => {
                out.extend_from_slice(b"content-length: ");
                put_decimal(out, resp.body().len() as u64);
                out.extend_from_slice(b"\r\n");
            }
            BodyMode::Streamed | BodyMode::Live if !opts.until_close => {
                out.extend_from_slice(b"transfer-encoding: chunked\r\n");
            }
            // HTTP/1.0: a live body is delimited by the connection's close.
            BodyMode::Streamed | BodyMode::Live => {}
        }
    }
    if opts.close || resp.wants_close() {
        out.extend_from_slice(b"connection: close\r\n");
    } else if opts.http10 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if bodiless || opts.head_request {
        return;
    }
    match resp.mode() {
        BodyMode::Full => out.extend_from_slice(resp.body()),
        BodyMode::Streamed => {
            for chunk in resp.chunks() {
                encode_chunk(chunk, out);
            }
            out.extend_from_slice(LAST_CHUNK);
        }
        // The pieces follow as the handler produces them.
        BodyMode::Live => {}
    }
}

/// Appends the answer to a request that failed to parse: its status,
/// `text/plain; charset=utf-8`, `content-length`, `connection: close`, and
/// [`H1Error::reason`] as the body.
pub fn encode_error(err: &H1Error, date: &DateCache, out: &mut Vec<u8>) {
    let body = err.reason().as_bytes();
    put_status_and_date(out, err.status(), date);
    out.extend_from_slice(b"content-type: text/plain; charset=utf-8\r\ncontent-length: ");
    put_decimal(out, body.len() as u64);
    out.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    out.extend_from_slice(body);
}

/// The reason phrase for `status` (RFC 9110 §15); empty for unknown codes,
/// which the status line allows.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
