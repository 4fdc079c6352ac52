//! Response encoding, byte for byte, and the date cache.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::handler::Response;
use crate::proto::h1::{
    empty_headers, encode_error, encode_response, reason_phrase, DateCache, EncodeOpts, H1Conn,
    Limits, Poll, CONTINUE,
};

/// 1994-11-06T08:49:37Z, the RFC's example date.
const SUNDAY: u64 = 784_111_777;
const SUNDAY_TEXT: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn date() -> DateCache {
    DateCache::new(UNIX_EPOCH + Duration::from_secs(SUNDAY))
}

fn encode(resp: &Response, opts: EncodeOpts) -> String {
    let mut out = Vec::new();
    encode_response(resp, opts, &date(), &mut out);
    String::from_utf8(out).expect("ascii")
}

const KEEP: EncodeOpts = EncodeOpts {
    head_request: false,
    close: false,
    until_close: false,
    http10: false,
};

#[test]
fn text_200_is_encoded_exactly() {
    let mut resp = Response::new();
    resp.text("hello").header("x-a", "1");
    assert_eq!(
        encode(&resp, KEEP),
        format!(
            "HTTP/1.1 200 OK\r\ndate: {SUNDAY_TEXT}\r\ncontent-type: text/plain\r\nx-a: 1\r\n\
             content-length: 5\r\n\r\nhello"
        )
    );
}

#[test]
fn empty_200_has_content_length_zero() {
    assert_eq!(
        encode(&Response::new(), KEEP),
        format!("HTTP/1.1 200 OK\r\ndate: {SUNDAY_TEXT}\r\ncontent-length: 0\r\n\r\n")
    );
}

#[test]
fn bodiless_404_has_content_length_zero() {
    let mut resp = Response::new();
    resp.no_content(404);
    assert_eq!(
        encode(&resp, KEEP),
        format!("HTTP/1.1 404 Not Found\r\ndate: {SUNDAY_TEXT}\r\ncontent-length: 0\r\n\r\n")
    );
}

#[test]
fn no_content_204_has_no_content_length() {
    let mut resp = Response::new();
    resp.no_content(204);
    assert_eq!(
        encode(&resp, KEEP),
        format!("HTTP/1.1 204 No Content\r\ndate: {SUNDAY_TEXT}\r\n\r\n")
    );
}

#[test]
fn not_modified_304_has_no_content_length_and_no_body() {
    let mut resp = Response::new();
    resp.text("ignored").set_status(304);
    resp.header("etag", "\"v1\"");
    assert_eq!(
        encode(&resp, KEEP),
        format!(
            "HTTP/1.1 304 Not Modified\r\ndate: {SUNDAY_TEXT}\r\ncontent-type: text/plain\r\n\
             etag: \"v1\"\r\n\r\n"
        )
    );
}

#[test]
fn head_response_keeps_content_length_without_body() {
    let mut resp = Response::new();
    resp.text("hello");
    let opts = EncodeOpts {
        head_request: true,
        close: false,
        until_close: false,
        http10: false,
    };
    assert_eq!(
        encode(&resp, opts),
        format!(
            "HTTP/1.1 200 OK\r\ndate: {SUNDAY_TEXT}\r\ncontent-type: text/plain\r\n\
             content-length: 5\r\n\r\n"
        )
    );
}

#[test]
fn streamed_body_is_chunked_and_skips_empty_chunks() {
    let mut resp = Response::new();
    resp.start_stream("text/plain");
    resp.write_chunk(b"hello")
        .write_chunk(b"")
        .write_chunk(&[b'x'; 26]);
    assert_eq!(
        encode(&resp, KEEP),
        format!(
            "HTTP/1.1 200 OK\r\ndate: {SUNDAY_TEXT}\r\ncontent-type: text/plain\r\n\
             transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1a\r\n{}\r\n0\r\n\r\n",
            "x".repeat(26)
        )
    );
}

#[test]
fn close_adds_connection_close() {
    let closing = format!(
        "HTTP/1.1 200 OK\r\ndate: {SUNDAY_TEXT}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    assert_eq!(
        encode(
            &Response::new(),
            EncodeOpts {
                head_request: false,
                close: true,
                until_close: false,
                http10: false,
            }
        ),
        closing
    );
    let mut resp = Response::new();
    resp.set_close();
    assert_eq!(encode(&resp, KEEP), closing);
}

#[test]
fn encoding_appends_to_the_output() {
    let mut out = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
    encode_response(&Response::new(), KEEP, &date(), &mut out);
    assert!(out.starts_with(CONTINUE));
    assert!(out[CONTINUE.len()..].starts_with(b"HTTP/1.1 200 OK\r\n"));
}

/// The error a connection returns for `input`.
fn error_for(input: &[u8]) -> crate::proto::h1::H1Error {
    let mut conn = H1Conn::new(Limits {
        max_body: 4,
        ..Limits::default()
    });
    let mut headers = empty_headers();
    match conn.poll(input, &mut headers) {
        Poll::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn errors_are_encoded_as_plain_text_and_close() {
    let mut out = Vec::new();
    encode_error(&error_for(b"GET / HTTP/1.1\r\n\r\n"), &date(), &mut out);
    assert_eq!(
        String::from_utf8(out).expect("ascii"),
        format!(
            "HTTP/1.1 400 Bad Request\r\ndate: {SUNDAY_TEXT}\r\ncontent-type: text/plain; \
             charset=utf-8\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Request"
        )
    );
    let mut out = Vec::new();
    let too_large = error_for(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
    assert!(too_large.is_body_too_large());
    encode_error(&too_large, &date(), &mut out);
    assert_eq!(
        String::from_utf8(out).expect("ascii"),
        format!(
            "HTTP/1.1 413 Content Too Large\r\ndate: {SUNDAY_TEXT}\r\ncontent-type: text/plain; \
             charset=utf-8\r\ncontent-length: 22\r\nconnection: close\r\n\r\nRequest body too large"
        )
    );
}

#[test]
fn error_display_names_the_problem_and_status() {
    assert_eq!(
        error_for(b"GET / HTTP/1.1\r\n\r\n").to_string(),
        "missing, repeated or invalid Host header (400)"
    );
}

#[test]
fn reason_phrases_cover_known_codes_and_leave_unknown_empty() {
    assert_eq!(reason_phrase(200), "OK");
    assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
    assert_eq!(reason_phrase(505), "HTTP Version Not Supported");
    assert_eq!(reason_phrase(799), "");
}

#[test]
fn unknown_status_keeps_a_valid_status_line() {
    let mut resp = Response::new();
    resp.set_status(799);
    assert!(encode(&resp, KEEP).starts_with("HTTP/1.1 799 \r\n"));
}

#[test]
fn date_cache_formats_imf_fixdate_in_gmt() {
    let cache = date();
    assert_eq!(cache.as_bytes(), SUNDAY_TEXT.as_bytes());
    assert_eq!(cache.as_bytes().len(), 29);
    assert!(cache.as_bytes().ends_with(b" GMT"));
}

#[test]
fn date_cache_changes_only_when_the_second_changes() {
    let base = UNIX_EPOCH + Duration::from_secs(SUNDAY);
    let mut cache = DateCache::new(base + Duration::from_millis(10));
    cache.update(base + Duration::from_millis(999));
    assert_eq!(cache.as_bytes(), SUNDAY_TEXT.as_bytes());
    cache.update(base + Duration::from_secs(1));
    assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:38 GMT");
    cache.update(base + Duration::from_millis(1500));
    assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:38 GMT");
    cache.update(base + Duration::from_secs(2));
    assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:49:39 GMT");
    cache.update(base + Duration::from_secs(61));
    assert_eq!(cache.as_bytes(), b"Sun, 06 Nov 1994 08:50:38 GMT");
}

#[test]
fn date_cache_clamps_times_it_cannot_show() {
    let early = DateCache::new(UNIX_EPOCH - Duration::from_secs(5));
    assert_eq!(early.as_bytes(), b"Thu, 01 Jan 1970 00:00:00 GMT");
    let late = DateCache::new(SystemTime::UNIX_EPOCH + Duration::from_secs(300_000_000_000));
    assert_eq!(late.as_bytes(), b"Fri, 31 Dec 9999 23:59:59 GMT");
}

#[test]
fn http10_kept_open_says_keep_alive_and_closing_says_close() {
    let opts = EncodeOpts {
        http10: true,
        ..KEEP
    };
    assert_eq!(
        encode(&Response::new(), opts),
        format!(
            "HTTP/1.1 200 OK\r\ndate: {SUNDAY_TEXT}\r\ncontent-length: 0\r\n\
             connection: keep-alive\r\n\r\n"
        )
    );
    let closing = EncodeOpts {
        close: true,
        ..opts
    };
    assert!(encode(&Response::new(), closing).ends_with("connection: close\r\n\r\n"));
}
