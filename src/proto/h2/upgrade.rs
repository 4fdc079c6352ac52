//! HTTP/1.1 → h2c upgrade (RFC 7540 §3.2), sans-IO: which requests qualify,
//! the 101 answer, the request carried over as stream 1, and where the
//! client's preface and first SETTINGS frame end on the upgraded bytes.
//!
//! The `h2` server cannot be told that stream 1 already exists, so after the
//! client's preface and SETTINGS the connection splices in
//! [`STREAM1_OPENER`], a HEADERS frame that opens stream 1 half-closed; the
//! server answers that stream with the original request instead of the
//! opener's placeholder headers. The opener uses static-table indices only,
//! so the client's and server's HPACK tables stay in step.

use bytes::Bytes;

use super::super::detect::PREFACE;
use crate::proto::h1::{Head, Request};
use crate::proto::Version;

/// The 101 answer to an accepted upgrade.
pub const SWITCHING_PROTOCOLS: &[u8] =
    b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";

/// A HEADERS frame (END_STREAM | END_HEADERS) on stream 1 carrying
/// `:method GET`, `:path /`, `:scheme http` as static-table indices.
pub const STREAM1_OPENER: [u8; 12] = [0, 0, 3, 0x1, 0x5, 0, 0, 0, 1, 0x82, 0x84, 0x86];

/// Frame type of SETTINGS.
const SETTINGS: u8 = 0x4;

/// Largest first SETTINGS payload accepted before the opener is spliced in.
const MAX_FIRST_SETTINGS: usize = 16_384;

/// Where the client's opening bytes end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    /// The preface and the SETTINGS frame end at this offset.
    EndsAt(usize),
    /// Not all received yet.
    NeedMore,
    /// Not a preface followed by SETTINGS: a connection error.
    Invalid,
}

/// Finds the end of the client preface and the SETTINGS frame after it.
pub fn opening_frames_end(buf: &[u8]) -> Opening {
    let n = buf.len().min(PREFACE.len());
    if buf[..n] != PREFACE[..n] {
        return Opening::Invalid;
    }
    let Some(header) = buf.get(PREFACE.len()..PREFACE.len() + 9) else {
        return Opening::NeedMore;
    };
    let len = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    if header[3] != SETTINGS || len > MAX_FIRST_SETTINGS {
        return Opening::Invalid;
    }
    let end = PREFACE.len() + 9 + len;
    if buf.len() >= end {
        Opening::EndsAt(end)
    } else {
        Opening::NeedMore
    }
}

/// The request as stream 1 when `req` is a valid h2c upgrade request: an
/// HTTP/1.1 request with exactly one `Upgrade` header whose value is exactly
/// `h2c` (a list such as `websocket, h2c` does not qualify), exactly one
/// non-empty, well-formed `HTTP2-Settings`, and a `Connection` header naming
/// both `upgrade` and `http2-settings`. Anything else is served as HTTP/1.1.
pub fn h2c_upgrade(req: &Request<'_>) -> Option<http::Request<Bytes>> {
    let head = &req.head;
    if head.version != Version::Http11 || !qualifies(head) {
        return None;
    }
    let mut b = http::Request::builder()
        .method(head.method)
        .uri(head.target)
        .version(http::Version::HTTP_2);
    for h in head.headers {
        if is_hop_by_hop(h.name) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(h.name.as_bytes()),
            http::HeaderValue::from_bytes(h.value),
        ) {
            b = b.header(name, value);
        }
    }
    b.body(Bytes::copy_from_slice(req.body)).ok()
}

/// The header rules of an upgrade request. Every HTTP/1.1 request of a
/// connection that may upgrade is asked, so a request without an `Upgrade`
/// header costs one pass over the header names and nothing more.
fn qualifies(head: &Head<'_>) -> bool {
    let named = |n: &'static str| {
        head.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(n))
    };
    let mut upgrade = named("upgrade");
    let upgrade_ok = matches!((upgrade.next(), upgrade.next()),
        (Some(u), None) if u.value.trim_ascii().eq_ignore_ascii_case(b"h2c"));
    if !upgrade_ok {
        return false;
    }
    let mut settings = named("http2-settings");
    let settings_ok = matches!((settings.next(), settings.next()),
        (Some(s), None) if valid_settings(s.value.trim_ascii()));
    let tokens =
        || named("connection").flat_map(|h| h.value.split(|&b| b == b',').map(<[u8]>::trim_ascii));
    let connection_ok = tokens().any(|t| t.eq_ignore_ascii_case(b"upgrade"))
        && tokens().any(|t| t.eq_ignore_ascii_case(b"http2-settings"));
    settings_ok && connection_ok
}

/// Whether `value` is base64url (padding allowed) of a whole number of
/// 6-byte settings. The settings themselves are not applied: the client
/// sends its SETTINGS frame after the preface, which the server obeys.
fn valid_settings(value: &[u8]) -> bool {
    let data = value
        .strip_suffix(b"==")
        .or_else(|| value.strip_suffix(b"="))
        .unwrap_or(value);
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    if data.is_empty() || !data.iter().all(alphabet) || data.len() % 4 == 1 {
        return false;
    }
    (data.len() * 6 / 8) % 6 == 0
}

/// Headers that belong to the HTTP/1.1 hop and have no place in h2.
fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "upgrade",
        "http2-settings",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
    ]
    .iter()
    .any(|h| h.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::h1::{empty_headers, H1Conn, Limits, Poll};

    fn upgrade_of(raw: &[u8]) -> Option<http::Request<Bytes>> {
        let mut conn = H1Conn::new(Limits::default());
        let mut headers = empty_headers();
        match conn.poll(raw, &mut headers) {
            Poll::Request(req) => h2c_upgrade(&req),
            other => panic!("not a request: {other:?}"),
        }
    }

    const OK: &[u8] = b"GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";

    #[test]
    fn a_valid_upgrade_becomes_stream_one() {
        let req = upgrade_of(OK).expect("upgrade");
        assert_eq!(req.uri().path(), "/hello");
        assert_eq!(req.uri().query(), Some("x=1"));
        assert_eq!(req.headers()["host"], "a");
        assert!(req.headers().get("upgrade").is_none());
        assert!(req.headers().get("http2-settings").is_none());
    }

    #[test]
    fn lists_missing_tokens_and_bad_settings_do_not_upgrade() {
        let swap =
            |from: &str, to: &str| String::from_utf8_lossy(OK).replace(from, to).into_bytes();
        assert!(upgrade_of(&swap("Upgrade: h2c", "Upgrade: websocket, h2c")).is_none());
        assert!(upgrade_of(&swap("Upgrade, HTTP2-Settings", "Upgrade")).is_none());
        assert!(upgrade_of(&swap("AAMAAABkAAQAoAAAAAIAAAAA", "AAMA*")).is_none());
        assert!(upgrade_of(&swap("AAMAAABkAAQAoAAAAAIAAAAA", "AAMAAA")).is_none());
        assert!(upgrade_of(&swap("HTTP/1.1\r\n", "HTTP/1.0\r\n")).is_none());
    }

    #[test]
    fn opening_frames_are_found_across_partial_input() {
        let mut bytes = PREFACE.to_vec();
        bytes.extend_from_slice(&[0, 0, 6, SETTINGS, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
        for i in 0..bytes.len() {
            assert_eq!(opening_frames_end(&bytes[..i]), Opening::NeedMore, "at {i}");
        }
        assert_eq!(opening_frames_end(&bytes), Opening::EndsAt(bytes.len()));
        assert_eq!(opening_frames_end(b"GET / HTTP/1.1"), Opening::Invalid);
    }
}
