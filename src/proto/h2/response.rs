//! A protocol-neutral [`Response`] as an h2 response head and the pieces of
//! its body (one DATA frame's worth per piece: the whole body, or one chunk
//! of a streamed body).

use crate::handler::{BodyMode, Response};

/// Whether responses with `status` carry no body (RFC 9110 §6.4.1).
fn is_bodiless(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// The response head: status, `date`, the handler's headers (any that are not
/// valid h2 fields are dropped), and `content-length` for a full body (kept
/// for `HEAD`, as on HTTP/1.1).
pub fn response_head(resp: &Response, date: &[u8]) -> http::Response<()> {
    let status = http::StatusCode::from_u16(resp.status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = http::Response::new(());
    *out.status_mut() = status;
    let headers = out.headers_mut();
    if let Ok(d) = http::HeaderValue::from_bytes(date) {
        headers.insert(http::header::DATE, d);
    }
    for (name, value) in resp.headers() {
        match (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) {
            (Ok(n), Ok(v)) if !is_connection_specific(&n) => {
                headers.append(n, v);
            }
            _ => tracing::debug!("response header not valid on h2 dropped"),
        }
    }
    if !is_bodiless(resp.status()) && resp.mode() == BodyMode::Full {
        headers.insert(http::header::CONTENT_LENGTH, resp.body().len().into());
    }
    out
}

/// Whether DATA frames follow the head.
pub fn sends_body(resp: &Response, head_request: bool) -> bool {
    !head_request
        && !is_bodiless(resp.status())
        && (resp.mode() == BodyMode::Live || body_pieces(resp).next().is_some())
}

/// The body in the pieces it is sent as.
pub fn body_pieces(resp: &Response) -> Box<dyn Iterator<Item = &[u8]> + '_> {
    match resp.mode() {
        BodyMode::Full if resp.body().is_empty() => Box::new(std::iter::empty()),
        BodyMode::Full => Box::new(std::iter::once(resp.body())),
        // Written whole before the response left the handler: one run of
        // DATA frames (h2 cuts it by frame size), not one frame per chunk —
        // clients count many small DATA frames as abuse.
        BodyMode::Streamed if resp.body().is_empty() => Box::new(std::iter::empty()),
        BodyMode::Streamed => Box::new(std::iter::once(resp.body())),
        // Sent as the handler produces it.
        BodyMode::Live => Box::new(std::iter::empty()),
    }
}

/// Fields RFC 9113 §8.2.2 forbids in h2.
fn is_connection_specific(name: &http::HeaderName) -> bool {
    use http::header::{CONNECTION, TRANSFER_ENCODING, UPGRADE};
    name == CONNECTION
        || name == TRANSFER_ENCODING
        || name == UPGRADE
        || name == "keep-alive"
        || name == "proxy-connection"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_body_gets_length_and_a_streamed_body_goes_in_one_piece() {
        let mut r = Response::new();
        r.text("hi").header("x-a", "1");
        let head = response_head(&r, b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(head.headers()["content-length"], "2");
        assert_eq!(head.headers()["x-a"], "1");
        assert!(sends_body(&r, false));
        assert!(!sends_body(&r, true));
        let mut s = Response::new();
        s.start_stream("text/plain");
        s.write_chunk(b"a").write_chunk(b"bc");
        assert_eq!(body_pieces(&s).collect::<Vec<_>>(), vec![&b"abc"[..]]);
        assert!(response_head(&s, b"x")
            .headers()
            .get("content-length")
            .is_none());
    }
}
