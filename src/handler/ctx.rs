//! `Ctx`: the request a plain handler reads (borrowed from the connection's
//! buffers) and the response it writes (the connection's reusable `Response`).

use std::borrow::Cow;
use std::net::SocketAddr;

use super::{HttpError, Response};
use crate::config::EngineKind;
use crate::proto::Version;
use crate::router::{Dispatch, Params};

/// The parts of a parsed request a context borrows.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'r> {
    /// Method token as received (case-sensitive).
    pub method: &'r str,
    /// Path, without the query.
    pub path: &'r str,
    /// Raw query (after `?`, not decoded), empty when absent.
    pub query: &'r str,
    /// The request's authority when the protocol carries it apart from
    /// `Host` (an HTTP/1.1 absolute-form target, h2's `:authority`); it
    /// replaces `Host` for [`Ctx::header`] and [`Ctx::host`].
    pub authority: Option<&'r str>,
    /// Protocol version.
    pub version: Version,
    /// Header fields as received.
    pub headers: &'r [httparse::Header<'r>],
    /// The whole request body (de-chunked).
    pub body: &'r [u8],
}

/// Where the request is being served.
#[derive(Clone, Copy, Debug)]
pub struct ServeInfo {
    /// The engine that owns the connection.
    pub engine: EngineKind,
    /// Whether the handler runs on the loop or off it.
    pub dispatch: Dispatch,
    /// The peer's address, when the transport has one.
    pub remote: Option<SocketAddr>,
}

/// The handler's view of one request and its response.
pub struct Ctx<'r> {
    /// Method; owned only when pre-routing middleware rewrote it.
    method: Cow<'r, str>,
    /// Path; owned only when pre-routing middleware rewrote it.
    path: Cow<'r, str>,
    /// The rest of the request, borrowed.
    parts: RequestParts<'r>,
    /// Spans of `path` captured by the route.
    params: Params,
    /// When a captured value had escapes: every value decoded, back to
    /// back, and their spans in it (see [`Ctx::param`]).
    decoded: Option<(String, Params)>,
    /// Names of the captured params, by position.
    param_names: &'r [Box<str>],
    /// The matched route's pattern, empty before routing.
    pattern: &'r str,
    /// Engine, dispatch and peer.
    info: ServeInfo,
    /// The connection's response, reset before the handler runs.
    resp: &'r mut Response,
}

impl<'r> Ctx<'r> {
    /// A context for a request about to be routed.
    pub fn new(parts: RequestParts<'r>, info: ServeInfo, resp: &'r mut Response) -> Self {
        Ctx {
            method: Cow::Borrowed(parts.method),
            path: Cow::Borrowed(parts.path),
            parts,
            params: Params::new(),
            decoded: None,
            param_names: &[],
            pattern: "",
            info,
            resp,
        }
    }

    /// Records the route the request matched (called by the router's caller).
    pub fn set_route(&mut self, pattern: &'r str, names: &'r [Box<str>], params: Params) {
        self.pattern = pattern;
        self.param_names = names;
        self.params = params;
        if !params.is_empty() {
            self.decoded = decode_params(&self.path, &params);
        }
    }

    /// Sets where the handler runs (the dispatch actor sets `Async`).
    pub fn set_dispatch(&mut self, dispatch: Dispatch) {
        self.info.dispatch = dispatch;
    }

    /// Request method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Rewrites the method before routing (pre-routing middleware).
    pub fn set_method(&mut self, method: impl Into<String>) {
        self.method = Cow::Owned(method.into());
    }

    /// Request path, without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Rewrites the path before routing (pre-routing middleware).
    pub fn set_path(&mut self, path: impl Into<String>) {
        self.path = Cow::Owned(path.into());
    }

    /// The matched route's pattern (`/users/:id`), empty when unmatched.
    pub fn pattern(&self) -> &str {
        self.pattern
    }

    /// The raw query string, not decoded.
    pub fn raw_query(&self) -> &str {
        self.parts.query
    }

    /// The first value of query parameter `key`, percent-decoded.
    pub fn query(&self, key: &str) -> Option<Cow<'r, str>> {
        query_value(self.parts.query, key)
    }

    /// A route parameter by name (`:id`, `*path`), percent-decoded, except
    /// `%2F`, which stays as sent: a value holds a `/` only where the
    /// request had a separator (inside a catch-all).
    pub fn param(&self, name: &str) -> Option<&str> {
        let i = self.param_names.iter().position(|n| &**n == name)?;
        self.param_at(i)
    }

    /// The `i`-th captured value, decoded.
    fn param_at(&self, i: usize) -> Option<&str> {
        match &self.decoded {
            Some((text, spans)) => spans.value(text, i),
            None => self.params.value(&self.path, i),
        }
    }

    /// A request header's value (name matched ASCII case-insensitively), when it
    /// is valid UTF-8. `host` is the request's authority (see [`Ctx::host`]).
    pub fn header(&self, name: &str) -> Option<&'r str> {
        self.header_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// A request header's raw value.
    pub fn header_bytes(&self, name: &str) -> Option<&'r [u8]> {
        match self.parts.authority {
            Some(authority) if name.eq_ignore_ascii_case("host") => Some(authority.as_bytes()),
            _ => header_value(self.parts.headers, name),
        }
    }

    /// The host the request is for: the authority of an absolute-form
    /// target or h2's `:authority` when present, else the `Host` field.
    pub fn host(&self) -> Option<&'r str> {
        self.header("host")
    }

    /// Every request header, in order received; a `Host` field carries the
    /// request's authority when the target gave one.
    pub fn headers(&self) -> impl Iterator<Item = (&'r str, &'r [u8])> {
        let authority = self.parts.authority;
        self.parts.headers.iter().map(move |h| match authority {
            Some(a) if h.name.eq_ignore_ascii_case("host") => (h.name, a.as_bytes()),
            _ => (h.name, h.value),
        })
    }

    /// The request body (de-chunked).
    pub fn body(&self) -> &'r [u8] {
        self.parts.body
    }

    /// The request body parsed as JSON into `T`.
    ///
    /// Errors, each with a JSON body `{"error": "..."}`: 415 when the
    /// content type is not `application/json` (or `application/*+json`),
    /// 400 when the body is not well-formed JSON, 422 when it is JSON of
    /// the wrong shape. (A body over the size limit never gets here: the
    /// protocol layer answers 413 first.)
    ///
    /// ```
    /// use switchyard::{Ctx, HttpError};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Greeting { name: String }
    ///
    /// fn greet(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    ///     let g: Greeting = ctx.json_body()?;
    ///     ctx.text(&format!("hello {}", g.name));
    ///     Ok(())
    /// }
    /// # let _ = greet;
    /// ```
    pub fn json_body<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        if !self.header_bytes("content-type").is_some_and(is_json_type) {
            return Err(HttpError::new(415, "the body must be application/json").with_json_body());
        }
        serde_json::from_slice(self.parts.body).map_err(|e| HttpError::from_request_json(&e))
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.info.remote
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.parts.version
    }

    /// Where this handler runs: `Inline` on the loop worker, `Async` off it.
    pub fn dispatch(&self) -> Dispatch {
        self.info.dispatch
    }

    /// The engine serving the connection.
    pub fn engine(&self) -> EngineKind {
        self.info.engine
    }

    /// The response being written.
    pub fn response(&mut self) -> &mut Response {
        self.resp
    }

    /// Sets the response status.
    pub fn status(&mut self, status: u16) -> &mut Response {
        self.resp.set_status(status)
    }

    /// Appends a response header.
    #[inline]
    pub fn set_header(&mut self, name: &str, value: &str) -> &mut Response {
        self.resp.header(name, value)
    }

    /// A `text/plain` body.
    pub fn text(&mut self, body: &str) -> &mut Response {
        self.resp.text(body)
    }

    /// An `application/json` body.
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HttpError> {
        self.resp.json(value).map(drop)
    }

    /// A body of any content type.
    pub fn bytes(&mut self, content_type: &str, body: &[u8]) -> &mut Response {
        self.resp.bytes(content_type, body)
    }

    /// A redirect (300..=308) to `location`.
    pub fn redirect(&mut self, status: u16, location: &str) -> Result<(), HttpError> {
        self.resp.redirect(status, location).map(drop)
    }

    /// A bodiless response.
    pub fn no_content(&mut self, status: u16) -> &mut Response {
        self.resp.no_content(status)
    }

    /// Starts a streamed body (chunked on HTTP/1.1); write it with
    /// [`Response::write_chunk`].
    pub fn stream(&mut self, content_type: &str) -> &mut Response {
        self.resp.start_stream(content_type)
    }

    /// An owned copy of the request, for a future handler.
    pub fn to_request(&self) -> super::Request {
        super::Request::from_ctx(self)
    }

    /// The borrowed parts (for the owned copy).
    pub(crate) fn parts(&self) -> &RequestParts<'r> {
        &self.parts
    }

    /// Names and values of the captured params.
    pub(crate) fn param_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.param_names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((&**n, self.param_at(i)?)))
    }

    /// Where this request is served.
    pub(crate) fn info(&self) -> ServeInfo {
        self.info
    }
}

/// Whether a `Content-Type` value is `application/json` or
/// `application/*+json`, parameters ignored (ASCII case-insensitive).
fn is_json_type(value: &[u8]) -> bool {
    let essence = value
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let lower = essence.to_ascii_lowercase();
    lower == b"application/json"
        || (lower.starts_with(b"application/") && lower.ends_with(b"+json"))
}

/// Every captured value of `path` decoded into one string, with their spans
/// in it; `None` (and no allocation) when no value has an escape.
fn decode_params(path: &str, params: &Params) -> Option<(String, Params)> {
    let values = || (0..params.len()).filter_map(|i| params.value(path, i));
    if !values().any(|v| v.contains('%')) {
        return None;
    }
    let mut text = String::new();
    let mut spans = Params::new();
    for value in values() {
        let start = text.len();
        text.push_str(&crate::router::decode_param(value));
        spans.push(start, text.len());
    }
    Some((text, spans))
}

/// The first value of `key` in a raw query, percent-decoded.
pub(crate) fn query_value<'q>(query: &'q str, key: &str) -> Option<Cow<'q, str>> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The value of header `name` (ASCII case-insensitive).
pub(crate) fn header_value<'h>(headers: &[httparse::Header<'h>], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'r>(
        headers: &'r [httparse::Header<'r>],
        authority: Option<&'r str>,
    ) -> RequestParts<'r> {
        RequestParts {
            method: "GET",
            path: "/",
            query: "",
            authority,
            version: Version::Http11,
            headers,
            body: b"",
        }
    }

    const INFO: ServeInfo = ServeInfo {
        engine: EngineKind::Std,
        dispatch: Dispatch::Inline,
        remote: None,
    };

    #[test]
    fn the_targets_authority_replaces_host() {
        let headers = [
            httparse::Header {
                name: "Host",
                value: b"from-header",
            },
            httparse::Header {
                name: "x-a",
                value: b"1",
            },
        ];
        let mut resp = Response::new();
        let ctx = Ctx::new(parts(&headers, Some("from-target:81")), INFO, &mut resp);
        assert_eq!(ctx.host(), Some("from-target:81"));
        assert_eq!(ctx.header("HOST"), Some("from-target:81"));
        assert_eq!(ctx.header("x-a"), Some("1"));
        let all: Vec<_> = ctx.headers().collect();
        assert_eq!(all[0], ("Host", &b"from-target:81"[..]));
        assert_eq!(ctx.to_request().header("host"), Some("from-target:81"));

        let mut resp = Response::new();
        let ctx = Ctx::new(parts(&headers, None), INFO, &mut resp);
        assert_eq!(ctx.host(), Some("from-header"));
    }
}
