//! Request heads: fields, keep-alive, `Expect`, and every head error status.

use super::{check, check_default, only_error, only_request, small_limits, Event};
use crate::proto::h1::{Framing, Limits};
use crate::proto::Version;

#[test]
fn get_parses_method_target_path_query_version_and_headers() {
    let input = b"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nX-Pad:  v  \r\n\r\n";
    let r = only_request(check_default(input));
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/a/b?x=1&y=2");
    assert_eq!(r.path, "/a/b");
    assert_eq!(r.query, "x=1&y=2");
    assert_eq!(r.version, Version::Http11);
    assert_eq!(
        r.headers,
        vec![
            ("Host".into(), b"example.com".to_vec()),
            ("X-Pad".into(), b"v".to_vec())
        ]
    );
    assert_eq!(r.framing, Framing::None);
    assert!(r.body.is_empty());
    assert_eq!(r.head_len, input.len());
    assert_eq!(r.len, input.len());
}

#[test]
fn target_without_query_has_empty_query() {
    let r = only_request(check_default(b"GET /plain HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert_eq!((r.path.as_str(), r.query.as_str()), ("/plain", ""));
}

#[test]
fn any_token_method_is_accepted() {
    let r = only_request(check_default(b"M-SEARCH /x HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert_eq!((r.method.as_str(), r.target.as_str()), ("M-SEARCH", "/x"));
}

#[test]
fn leading_empty_lines_are_skipped_and_counted_in_len() {
    let input = b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    let r = only_request(check_default(input));
    assert_eq!(r.method, "GET");
    assert_eq!(r.len, input.len());
    assert_eq!(r.head_len, input.len());
}

#[test]
fn http11_keeps_alive_by_default() {
    assert!(only_request(check_default(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")).keep_alive);
}

#[test]
fn http11_connection_close_token_in_a_list_closes() {
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive , CLOSE\r\n\r\n";
    assert!(!only_request(check_default(input)).keep_alive);
}

#[test]
fn http11_close_as_a_substring_does_not_close() {
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed-captions\r\n\r\n";
    assert!(only_request(check_default(input)).keep_alive);
}

#[test]
fn http10_closes_by_default_and_needs_no_host() {
    let r = only_request(check_default(b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!(r.version, Version::Http10);
    assert!(!r.keep_alive);
}

#[test]
fn http10_keep_alive_token_keeps_alive() {
    let input = b"GET / HTTP/1.0\r\nConnection: upgrade, keep-alive\r\n\r\n";
    assert!(only_request(check_default(input)).keep_alive);
}

#[test]
fn expect_continue_is_flagged_when_a_body_is_expected() {
    let input =
        b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi";
    assert!(only_request(check_default(input)).expect_continue);
    let input =
        b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert!(only_request(check_default(input)).expect_continue);
}

#[test]
fn expect_continue_is_not_flagged_without_a_body() {
    let input = b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n";
    assert!(!only_request(check_default(input)).expect_continue);
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n";
    assert!(!only_request(check_default(input)).expect_continue);
}

#[test]
fn expect_continue_is_ignored_on_http10() {
    let input = b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi";
    assert!(!only_request(check_default(input)).expect_continue);
}

#[test]
fn missing_host_on_http11_is_400() {
    assert_eq!(
        only_error(check_default(b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")),
        400
    );
}

#[test]
fn repeated_host_is_400() {
    assert_eq!(
        only_error(check_default(
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
        )),
        400
    );
}

#[test]
fn invalid_host_values_are_400() {
    for host in ["a b/c@d", "u@h", "a/b", "h:po", "[::1", "a\"b"] {
        let input = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        assert_eq!(only_error(check_default(input.as_bytes())), 400, "{host}");
    }
    for host in ["", "h", "example.com:8080", "[::1]:80", "127.0.0.1"] {
        let input = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
        only_request(check_default(input.as_bytes()));
    }
    // HTTP/1.0 may omit Host, but not send a bad one.
    only_request(check_default(b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!(
        only_error(check_default(b"GET / HTTP/1.0\r\nHost: a b\r\n\r\n")),
        400
    );
}

#[test]
fn absolute_form_routes_by_path_and_carries_the_authority() {
    let input = b"GET http://example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: other\r\n\r\n";
    let r = only_request(check_default(input));
    assert_eq!(r.target, "http://example.com:8080/a/b?x=1");
    assert_eq!((r.path.as_str(), r.query.as_str()), ("/a/b", "x=1"));
    assert_eq!(r.authority.as_deref(), Some("example.com:8080"));
    let r = only_request(check_default(b"GET HTTP://x HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_eq!((r.path.as_str(), r.authority.as_deref()), ("/", Some("x")));
    let r = only_request(check_default(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_eq!(r.authority, None);
    for bad in ["http:///a", "http://u@h/a", "http://h:x/a"] {
        let input = format!("GET {bad} HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(only_error(check_default(input.as_bytes())), 400, "{bad}");
    }
    // Host is still required on HTTP/1.1 (RFC 9112 §3.2).
    assert_eq!(
        only_error(check_default(b"GET http://x/ HTTP/1.1\r\n\r\n")),
        400
    );
}

#[test]
fn request_line_at_the_limit_is_accepted() {
    // "GET /" + padding + " HTTP/1.0" is exactly 32 bytes.
    let line = format!("GET /{} HTTP/1.0", "a".repeat(32 - 14));
    assert_eq!(line.len(), 32);
    let input = format!("{line}\r\n\r\n");
    only_request(check(small_limits(), input.as_bytes()));
}

#[test]
fn request_line_over_the_limit_is_414() {
    let input = format!("GET /{} HTTP/1.0\r\n\r\n", "a".repeat(32 - 13));
    assert_eq!(only_error(check(small_limits(), input.as_bytes())), 414);
}

#[test]
fn request_line_over_the_limit_is_414_before_its_crlf_arrives() {
    let input = format!("GET /{}", "a".repeat(40));
    assert_eq!(only_error(check(small_limits(), input.as_bytes())), 414);
}

#[test]
fn request_line_over_8192_bytes_is_414_with_default_limits() {
    let input = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(8192));
    assert_eq!(
        only_error(super::feed(Limits::default(), &[input.as_bytes()]).events),
        414
    );
    let at_limit = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(8192 - 14));
    only_request(super::feed(Limits::default(), &[at_limit.as_bytes()]).events);
}

#[test]
fn too_many_leading_empty_lines_are_414() {
    let input = "\r\n".repeat(17);
    assert_eq!(only_error(check(small_limits(), input.as_bytes())), 414);
}

#[test]
fn header_block_at_the_limit_is_accepted() {
    // Block = "Host: h\r\n" (9) + "X: " + value + "\r\n" + "\r\n" = 64.
    let input = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "v".repeat(64 - 16)
    );
    only_request(check(small_limits(), input.as_bytes()));
}

#[test]
fn header_block_over_the_limit_is_431() {
    let input = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "v".repeat(64 - 15)
    );
    assert_eq!(only_error(check(small_limits(), input.as_bytes())), 431);
}

#[test]
fn header_block_over_the_limit_is_431_before_it_ends() {
    let input = format!("GET / HTTP/1.1\r\nHost: h\r\nX: {}", "v".repeat(100));
    assert_eq!(only_error(check(small_limits(), input.as_bytes())), 431);
}

#[test]
fn header_block_over_16384_bytes_is_431_with_default_limits() {
    let input = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "v".repeat(16384)
    );
    assert_eq!(
        only_error(super::feed(Limits::default(), &[input.as_bytes()]).events),
        431
    );
}

#[test]
fn max_headers_fields_are_accepted() {
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(only_request(check(small_limits(), input)).headers.len(), 4);
}

#[test]
fn more_than_max_headers_fields_is_431() {
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    assert_eq!(only_error(check(small_limits(), input)), 431);
}

#[test]
fn more_than_100_headers_is_431_with_default_limits() {
    let fields = |n: usize| (0..n).map(|i| format!("X-{i}: v\r\n")).collect::<String>();
    let ok = format!("GET / HTTP/1.1\r\nHost: h\r\n{}\r\n", fields(99));
    assert_eq!(
        only_request(super::feed(Limits::default(), &[ok.as_bytes()]).events)
            .headers
            .len(),
        100
    );
    let over = format!("GET / HTTP/1.1\r\nHost: h\r\n{}\r\n", fields(100));
    assert_eq!(
        only_error(super::feed(Limits::default(), &[over.as_bytes()]).events),
        431
    );
}

#[test]
fn http_2_0_version_is_505() {
    assert_eq!(
        only_error(check_default(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n")),
        505
    );
    assert_eq!(
        only_error(check_default(b"GET / HTTP/1.2\r\nHost: h\r\n\r\n")),
        505
    );
    assert_eq!(
        only_error(check_default(b"GET / HTTP/3\r\nHost: h\r\n\r\n")),
        505
    );
}

#[test]
fn malformed_version_is_400() {
    assert_eq!(
        only_error(check_default(b"GET / http/1.1\r\nHost: h\r\n\r\n")),
        400
    );
    assert_eq!(
        only_error(check_default(b"GET / HTTX/1.1\r\nHost: h\r\n\r\n")),
        400
    );
}

/// Each input must be refused with 400, whole and split.
fn assert_all_400(inputs: &[&[u8]]) {
    for input in inputs {
        let events = check_default(input);
        assert_eq!(
            events,
            vec![Event::Error(400)],
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn malformed_request_lines_are_400() {
    assert_all_400(&[
        b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\nHost: h\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
    ]);
}

#[test]
fn malformed_header_lines_are_400() {
    assert_all_400(&[
        b"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A\t: v\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7fb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\nX-B: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nno-colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n",
    ]);
}

#[test]
fn content_length_that_is_not_plain_digits_is_400() {
    for value in ["+5", "-1", "0x5", "5 5", "5a", "", " , ", "1.0"] {
        let input = format!("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {value}\r\n\r\n");
        assert_eq!(
            check_default(input.as_bytes()),
            vec![Event::Error(400)],
            "{value:?}"
        );
    }
}

#[test]
fn content_length_overflow_is_400() {
    let input = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n";
    assert_eq!(only_error(check_default(input)), 400);
}

#[test]
fn conflicting_content_lengths_are_400() {
    let repeated =
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
    assert_eq!(only_error(check_default(repeated)), 400);
    let listed = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 1\r\n\r\nab";
    assert_eq!(only_error(check_default(listed)), 400);
}

#[test]
fn identical_duplicate_content_lengths_are_accepted() {
    let repeated =
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab";
    assert_eq!(only_request(check_default(repeated)).body, b"ab");
    let listed = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2,2 , 2\r\n\r\nab";
    assert_eq!(
        only_request(check_default(listed)).framing,
        Framing::Length(2)
    );
}

#[test]
fn content_length_with_transfer_encoding_is_400_in_either_order() {
    let cl_first = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(only_error(check_default(cl_first)), 400);
    let te_first = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n";
    assert_eq!(only_error(check_default(te_first)), 400);
}

/// A POST with these `Transfer-Encoding` field values and an empty chunked body.
fn with_te(version: &str, values: &[&str]) -> Vec<u8> {
    let fields: String = values
        .iter()
        .map(|v| format!("Transfer-Encoding: {v}\r\n"))
        .collect();
    format!("POST / {version}\r\nHost: h\r\n{fields}\r\n0\r\n\r\n").into_bytes()
}

#[test]
fn transfer_encoding_chunked_is_case_insensitive() {
    let r = only_request(check_default(&with_te("HTTP/1.1", &["Chunked"])));
    assert_eq!(r.framing, Framing::Chunked);
}

#[test]
fn transfer_codings_other_than_a_single_chunked_are_501() {
    for values in [
        &["gzip"][..],
        &["gzip, chunked"],
        &["gzip", "chunked"],
        &["identity"],
    ] {
        let events = check_default(&with_te("HTTP/1.1", values));
        assert_eq!(events, vec![Event::Error(501)], "{values:?}");
    }
}

#[test]
fn chunked_not_final_or_twice_is_400() {
    for values in [
        &["chunked, gzip"][..],
        &["chunked", "chunked"],
        &["chunked,chunked"],
        &[""],
    ] {
        let events = check_default(&with_te("HTTP/1.1", values));
        assert_eq!(events, vec![Event::Error(400)], "{values:?}");
    }
}

#[test]
fn transfer_encoding_on_http10_is_400() {
    assert_eq!(
        only_error(check_default(&with_te("HTTP/1.0", &["chunked"]))),
        400
    );
}

#[test]
fn content_length_over_max_body_is_413_as_soon_as_the_head_completes() {
    // No body byte has arrived: the error must not wait for it.
    let input = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n";
    assert_eq!(only_error(check(small_limits(), input)), 413);
    let input = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 104857601\r\n\r\n";
    assert_eq!(only_error(check_default(input)), 413);
}

#[test]
fn content_length_at_max_body_is_accepted() {
    let input = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 16\r\n\r\n0123456789abcdef";
    assert_eq!(
        only_request(check(small_limits(), input)).body,
        b"0123456789abcdef"
    );
}

#[test]
fn an_error_is_sticky() {
    let mut engine = super::feed(Limits::default(), &[b"GET / HTTP/9.9\r\n\r\n"]);
    let mut headers = crate::proto::h1::empty_headers();
    match engine.conn.poll(&engine.buf, &mut headers) {
        crate::proto::h1::Poll::Error(e) => assert!(e.is_unsupported_version()),
        other => panic!("expected the error again, got {other:?}"),
    }
}
