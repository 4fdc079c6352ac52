//! An h2 request head as the protocol-neutral [`RequestParts`] a `Ctx`
//! borrows: the header list borrows the `HeaderMap` (one allocation per
//! stream, which h2's own per-stream allocations dwarf).

use crate::handler::RequestParts;
use crate::proto::Version;

/// The request's headers as `httparse` fields borrowing `head`. A `host`
/// field is added from `:authority` when the client sent none, so handlers
/// read the host the same way on both protocols.
pub fn header_list(head: &http::request::Parts) -> Vec<httparse::Header<'_>> {
    let mut list = Vec::with_capacity(head.headers.len() + 1);
    if !head.headers.contains_key(http::header::HOST) {
        if let Some(authority) = head.uri.authority() {
            list.push(httparse::Header {
                name: "host",
                value: authority.as_str().as_bytes(),
            });
        }
    }
    list.extend(head.headers.iter().map(|(name, value)| httparse::Header {
        name: name.as_str(),
        value: value.as_bytes(),
    }));
    list
}

/// The parts a context borrows, from a request head, its header list (from
/// [`header_list`]) and its whole body.
pub fn request_parts<'a>(
    head: &'a http::request::Parts,
    headers: &'a [httparse::Header<'a>],
    body: &'a [u8],
) -> RequestParts<'a> {
    RequestParts {
        method: head.method.as_str(),
        path: head.uri.path(),
        query: head.uri.query().unwrap_or(""),
        authority: head.uri.authority().map(|a| a.as_str()),
        version: Version::H2,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_becomes_host_and_query_is_split() {
        let (head, ()) = http::Request::get("http://example.test:8080/users/7?a=b")
            .header("x-one", "1")
            .body(())
            .expect("request")
            .into_parts();
        let list = header_list(&head);
        let parts = request_parts(&head, &list, b"");
        assert_eq!(parts.path, "/users/7");
        assert_eq!(parts.query, "a=b");
        assert_eq!(parts.method, "GET");
        assert_eq!(list[0].name, "host");
        assert_eq!(list[0].value, b"example.test:8080");
        assert_eq!(list[1].name, "x-one");
    }
}
