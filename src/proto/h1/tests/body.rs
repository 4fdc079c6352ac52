//! Bodies, `HeadOnly`, pipelining, phases and the chunked decoder.

use super::{check, check_default, feed, only_error, only_request, small_limits, Event};
use crate::proto::h1::{empty_headers, Framing, H1Conn, Limits, Phase, Poll};

const POST_HEAD: &[u8] = b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
const CHUNKED_HEAD: &[u8] = b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn content_length_body_is_delivered_with_its_length() {
    let input = cat(&[POST_HEAD, b"hello"]);
    let r = only_request(check_default(&input));
    assert_eq!(r.framing, Framing::Length(5));
    assert_eq!(r.body, b"hello");
    assert_eq!((r.head_len, r.len), (POST_HEAD.len(), input.len()));
}

#[test]
fn content_length_body_borrows_the_callers_buffer() {
    let input = cat(&[POST_HEAD, b"hello"]);
    let mut conn = H1Conn::new(Limits::default());
    let mut headers = empty_headers();
    let Poll::Request(r) = conn.poll(&input, &mut headers) else {
        panic!("no request")
    };
    assert_eq!(r.body.as_ptr(), input[POST_HEAD.len()..].as_ptr());
}

#[test]
fn body_complete_on_the_first_poll_skips_head_only() {
    let engine = feed(Limits::default(), &[&cat(&[POST_HEAD, b"hello"])]);
    assert!(
        matches!(engine.events.as_slice(), [Event::Req(_)]),
        "{:?}",
        engine.events
    );
}

#[test]
fn head_only_then_request_when_the_body_arrives_later() {
    let mut conn = H1Conn::new(Limits::default());
    let mut buf = POST_HEAD.to_vec();
    let mut headers = empty_headers();
    match conn.poll(&buf, &mut headers) {
        Poll::HeadOnly(h) => {
            assert_eq!(
                (h.method, h.path, h.framing),
                ("POST", "/up", Framing::Length(5))
            );
            assert_eq!(h.head_len, POST_HEAD.len());
        }
        other => panic!("expected HeadOnly, got {other:?}"),
    }
    assert_eq!(conn.phase(buf.len()), Phase::PartialBody);
    buf.extend_from_slice(b"hel");
    let mut headers = empty_headers();
    assert!(matches!(conn.poll(&buf, &mut headers), Poll::NeedMore));
    buf.extend_from_slice(b"lo");
    let mut headers = empty_headers();
    match conn.poll(&buf, &mut headers) {
        Poll::Request(r) => {
            assert_eq!(
                (r.head.method, r.head.path, r.body),
                ("POST", "/up", &b"hello"[..])
            );
            assert_eq!(r.len, buf.len());
        }
        other => panic!("expected Request, got {other:?}"),
    }
    assert_eq!(conn.phase(0), Phase::Boundary);
}

#[test]
fn head_only_is_returned_once_per_request() {
    let mut conn = H1Conn::new(Limits::default());
    let mut headers = empty_headers();
    assert!(matches!(
        conn.poll(CHUNKED_HEAD, &mut headers),
        Poll::HeadOnly(_)
    ));
    let mut headers = empty_headers();
    assert!(matches!(
        conn.poll(CHUNKED_HEAD, &mut headers),
        Poll::NeedMore
    ));
}

#[test]
fn head_only_carries_expect_continue() {
    let head = b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
    let engine = feed(Limits::default(), &[head, b"x"]);
    assert_eq!(engine.events[0], Event::HeadOnly("PUT".into(), true));
    assert!(matches!(&engine.events[1], Event::Req(r) if r.body == b"x"));
}

#[test]
fn phase_follows_the_request() {
    let mut conn = H1Conn::new(Limits::default());
    assert_eq!(conn.phase(0), Phase::Boundary);
    let mut headers = empty_headers();
    assert!(matches!(
        conn.poll(b"GET / HT", &mut headers),
        Poll::NeedMore
    ));
    assert_eq!(conn.phase(8), Phase::PartialHead);
    let mut headers = empty_headers();
    assert!(matches!(
        conn.poll(CHUNKED_HEAD, &mut headers),
        Poll::HeadOnly(_)
    ));
    assert_eq!(conn.phase(CHUNKED_HEAD.len()), Phase::PartialBody);
}

#[test]
fn chunked_body_is_decoded_ignoring_extensions() {
    let input = cat(&[
        CHUNKED_HEAD,
        b"5;name=val\r\nhello\r\nA ; x\r\n, world!!!\r\n0\r\n\r\n",
    ]);
    let r = only_request(check_default(&input));
    assert_eq!(r.framing, Framing::Chunked);
    assert_eq!(r.body, b"hello, world!!!");
    assert_eq!(r.len, input.len());
}

#[test]
fn chunked_trailers_are_consumed_and_the_next_request_follows() {
    let first = cat(&[
        CHUNKED_HEAD,
        b"3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Other: two\r\n\r\n",
    ]);
    let second = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    let events = check_default(&cat(&[&first, second]));
    let [Event::Req(a), Event::Req(b)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!((a.body.as_slice(), a.len), (&b"abc"[..], first.len()));
    assert_eq!((b.path.as_str(), b.len), ("/next", second.len()));
}

#[test]
fn pipelined_requests_are_returned_in_order() {
    let input = cat(&[
        b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ntwo",
        b"POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nthree\r\n0\r\nT: t\r\n\r\n",
        b"\r\nGET /4 HTTP/1.0\r\n\r\n",
    ]);
    let events = check_default(&input);
    let seen: Vec<(String, Vec<u8>)> = events
        .into_iter()
        .map(|e| match e {
            Event::Req(r) => (r.path, r.body),
            other => panic!("{other:?}"),
        })
        .collect();
    let expected = [
        ("/1", &b""[..]),
        ("/2", b"two"),
        ("/3", b"three"),
        ("/4", b""),
    ];
    let expected: Vec<(String, Vec<u8>)> = expected
        .iter()
        .map(|(p, b)| (p.to_string(), b.to_vec()))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_request_after_an_incomplete_one_waits() {
    let engine = feed(Limits::default(), &[&cat(&[POST_HEAD, b"hel"])]);
    assert_eq!(engine.events, vec![Event::HeadOnly("POST".into(), false)]);
    assert_eq!(engine.conn.phase(engine.buf.len()), Phase::PartialBody);
}

#[test]
fn chunked_body_over_max_body_is_413_as_soon_as_declared() {
    // 16 bytes allowed: the 0x11-byte chunk is refused before its data arrives.
    let input = cat(&[CHUNKED_HEAD, b"8\r\n01234567\r\n11\r\n"]);
    assert_eq!(only_error(check(small_limits(), &input)), 413);
    let at_limit = cat(&[CHUNKED_HEAD, b"8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n"]);
    assert_eq!(
        only_request(check(small_limits(), &at_limit)).body.len(),
        16
    );
}

/// Each chunked body must be refused with 400, whole and split.
fn assert_chunked_400(bodies: &[&[u8]]) {
    for body in bodies {
        let events = check_default(&cat(&[CHUNKED_HEAD, body]));
        assert_eq!(
            events,
            vec![Event::Error(400)],
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn invalid_chunk_framing_is_400() {
    assert_chunked_400(&[
        b"g\r\n",
        b"\r\n",
        b";ext\r\n",
        b"5\r\nhelloXY",
        b"5\r\nhello\rX",
        b"5\nhello\r\n",
        b"5 x\r\n",
        b"5;a\x00\r\n",
        b"-5\r\n",
        b"10000000000000000\r\n",
        b"0\r\n: no-name\r\n\r\n",
        b"0\r\n folded\r\n\r\n",
        b"0\r\nX: a\x01\r\n\r\n",
        b"0\r\nX: a\nY: b\r\n\r\n",
        b"0\r\n\rX",
    ]);
}

#[test]
fn chunk_size_line_is_bounded() {
    let body = format!(
        "1;{}\r\n",
        "e".repeat(crate::proto::h1::chunked::MAX_CHUNK_LINE)
    );
    let input = cat(&[CHUNKED_HEAD, body.as_bytes()]);
    assert_eq!(only_error(feed(Limits::default(), &[&input]).events), 400);
}

#[test]
fn leading_zeros_in_a_chunk_size_are_fine() {
    let input = cat(&[CHUNKED_HEAD, b"00000000000000000003\r\nabc\r\n000\r\n\r\n"]);
    assert_eq!(only_request(check_default(&input)).body, b"abc");
}

#[test]
fn trailers_over_max_trailers_are_431() {
    // 24 bytes allowed, counting through the final CRLF.
    let at_limit = cat(&[CHUNKED_HEAD, b"0\r\nX: 0123456789abcdefg\r\n\r\n"]);
    only_request(check(small_limits(), &at_limit));
    let over = cat(&[CHUNKED_HEAD, b"0\r\nX: 0123456789abcdefgh\r\n\r\n"]);
    assert_eq!(only_error(check(small_limits(), &over)), 431);
    let mut conn = H1Conn::new(small_limits());
    let mut headers = empty_headers();
    let polled = conn.poll(&over, &mut headers);
    assert!(
        matches!(polled, Poll::Error(e) if e.is_trailers_too_large()),
        "{polled:?}"
    );
}

#[test]
fn decoded_chunked_bytes_can_be_released_mid_body() {
    let tail = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    let input = cat(&[
        CHUNKED_HEAD,
        b"5\r\nhello\r\n7;x=y\r\n, world\r\n3\r\n!!!\r\n0\r\n\r\n",
        tail,
    ]);
    let mut conn = H1Conn::new(Limits::default());
    // The caller's buffer: bytes arrive one at a time, and whatever the
    // machine has decoded is cut out between polls.
    let mut buf: Vec<u8> = Vec::new();
    let mut released = 0;
    let mut done = None;
    for &b in &input {
        buf.push(b);
        let mut headers = empty_headers();
        if let Poll::Request(r) = conn.poll(&buf, &mut headers) {
            done = Some((r.body.to_vec(), r.len));
            break;
        }
        if let Some(range) = conn.release_decoded(1) {
            released += range.len();
            buf.drain(range);
        }
    }
    let (body, len) = done.expect("the request completes");
    assert_eq!(body, b"hello, world!!!");
    assert!(released > 0, "raw body bytes were released");
    assert_eq!(len, buf.len(), "len counts what is left of the request");
    assert!(buf.starts_with(CHUNKED_HEAD), "the head stays");
    assert_eq!(
        len + released,
        input.len() - tail.len(),
        "released + kept = the raw request"
    );
}
