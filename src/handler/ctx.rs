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
///
/// A plain handler gets `&mut Ctx`: it reads the request (method, path,
/// route parameters, query, headers, body), borrowed from the connection's
/// buffers, and writes the response (status, headers, body) into the
/// connection's reusable [`Response`]. Returning `Err` answers with the
/// [`HttpError`] instead.
///
/// # Examples
///
/// ```
/// use switchyard::{Ctx, HttpError, Router};
///
/// fn show_user(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
///     let id: u64 = ctx
///         .param("id")
///         .and_then(|id| id.parse().ok())
///         .ok_or_else(|| HttpError::bad_request("the id is a number"))?;
///     let verbose = ctx.query("verbose").is_some_and(|v| v == "1");
///     ctx.set_header("cache-control", "max-age=60");
///     ctx.json(&serde_json::json!({ "id": id, "verbose": verbose }))
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.get("/users/:id", show_user);
/// // GET /users/7?verbose=1 answers {"id":7,"verbose":true};
/// // GET /users/ann answers 400.
/// # let reply = serve(router.clone(), "GET /users/7?verbose=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.ends_with(r#"{"id":7,"verbose":true}"#), "{reply}");
/// # assert!(reply.contains("cache-control: max-age=60\r\n"), "{reply}");
/// # let reply = serve(router, "GET /users/ann HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
/// # Ok(())
/// # }
/// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
/// #     use std::io::{Read, Write};
/// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
/// #     let handle = switchyard::ServerActor::spawn(config, router)?;
/// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
/// #     conn.write_all(request.as_bytes())?;
/// #     let mut reply = String::new();
/// #     conn.read_to_string(&mut reply)?;
/// #     drop(conn);
/// #     handle.shutdown(std::time::Duration::from_secs(5))?;
/// #     Ok(reply)
/// # }
/// ```
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

    /// Rewrites the path before routing (pre-routing middleware, see
    /// [`Router::pre`](crate::Router::pre)).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Flow, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// // Serve the old API paths from the new routes.
    /// router.pre(|ctx| {
    ///     if let Some(rest) = ctx.path().strip_prefix("/v1/") {
    ///         let path = format!("/api/{rest}");
    ///         ctx.set_path(path);
    ///     }
    ///     Ok(Flow::Continue)
    /// });
    /// router.get("/api/items", |ctx| {
    ///     ctx.text("items");
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /v1/items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\nitems"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn set_path(&mut self, path: impl Into<String>) {
        self.path = Cow::Owned(path.into());
    }

    /// The matched route's pattern (`/users/:id`), empty when unmatched:
    /// a label for logs and metrics that does not grow with the paths.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::handler::After;
    /// use switchyard::{Ctx, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// // An access log: one line per answer, routes named by their pattern.
    /// router.use_middleware(After(|ctx: &mut Ctx<'_>| {
    ///     let status = ctx.response().status();
    ///     let route = if ctx.pattern().is_empty() { "-" } else { ctx.pattern() };
    ///     let line = format!("{} {route} {status} {:?}", ctx.method(), ctx.dispatch());
    ///     ctx.set_header("x-log", &line); // a real log would write it out
    /// }));
    /// router.get("/users/:id", |ctx| {
    ///     ctx.text("user");
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /users/42 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("x-log: GET /users/:id 200 Inline\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn pattern(&self) -> &str {
        self.pattern
    }

    /// The raw query string, not decoded.
    pub fn raw_query(&self) -> &str {
        self.parts.query
    }

    /// The first value of query parameter `key`, percent-decoded (`+` is a
    /// space, as in a form).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/search", |ctx| {
    ///     let q = ctx.query("q").unwrap_or_default(); // a Cow: borrowed unless decoded
    ///     let page: u32 = ctx.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    ///     let body = format!("{q} (page {page})");
    ///     ctx.text(&body);
    ///     Ok(())
    /// });
    /// // GET /search?q=caf%C3%A9+au+lait answers "café au lait (page 1)".
    /// # let reply = serve(router, "GET /search?q=caf%C3%A9+au+lait HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\ncafé au lait (page 1)"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn query(&self, key: &str) -> Option<Cow<'r, str>> {
        query_value(self.parts.query, key)
    }

    /// A route parameter by name (`:id`, `*path`), percent-decoded, except
    /// `%2F`, which stays as sent: a value holds a `/` only where the
    /// request had a separator (inside a catch-all).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/users/:id/files/*path", |ctx| {
    ///     let body = format!("{} wants {}", ctx.param("id").unwrap_or(""), ctx.param("path").unwrap_or(""));
    ///     ctx.text(&body);
    ///     Ok(())
    /// });
    /// // GET /users/j%C3%BCrgen/files/docs/a.txt answers "jürgen wants docs/a.txt".
    /// # let reply = serve(router, "GET /users/j%C3%BCrgen/files/docs/a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\njürgen wants docs/a.txt"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{HttpError, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/private", |ctx| {
    ///     match ctx.header("authorization") {
    ///         Some("Bearer let-me-in") => {
    ///             ctx.text("welcome");
    ///             Ok(())
    ///         }
    ///         _ => Err(HttpError::new(401, "who are you?")),
    ///     }
    /// });
    /// # let reply = serve(router, "GET /private HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer let-me-in\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\nwelcome"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/", |ctx| {
    ///     let site = match ctx.host().map(|h| h.split(':').next().unwrap_or(h)) {
    ///         Some("blog.example.com") => "blog",
    ///         _ => "main site",
    ///     };
    ///     ctx.text(site);
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET / HTTP/1.1\r\nHost: blog.example.com:8080\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\nblog"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn host(&self) -> Option<&'r str> {
        self.header("host")
    }

    /// Every request header, in order received; a `Host` field carries the
    /// request's authority when the target gave one.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/debug/headers", |ctx| {
    ///     let mut body = String::new();
    ///     for (name, value) in ctx.headers() {
    ///         body.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value)));
    ///     }
    ///     ctx.text(&body);
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /debug/headers HTTP/1.1\r\nHost: localhost\r\nX-Trace: abc\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("\r\n\r\nHost: localhost\nX-Trace: abc\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn headers(&self) -> impl Iterator<Item = (&'r str, &'r [u8])> {
        let authority = self.parts.authority;
        self.parts.headers.iter().map(move |h| match authority {
            Some(a) if h.name.eq_ignore_ascii_case("host") => (h.name, a.as_bytes()),
            _ => (h.name, h.value),
        })
    }

    /// The request body (de-chunked), whole: a handler runs once all of it
    /// has arrived ([`Config::max_body`](crate::Config::max_body) bounds it).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{HttpError, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.post("/count", |ctx| {
    ///     let text = std::str::from_utf8(ctx.body())
    ///         .map_err(|_| HttpError::bad_request("send UTF-8 text"))?;
    ///     let words = text.split_whitespace().count();
    ///     ctx.text(&words.to_string());
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "POST /count HTTP/1.1\r\nHost: localhost\r\nContent-Length: 13\r\nConnection: close\r\n\r\none two three")?;
    /// # assert!(reply.ends_with("\r\n\r\n3"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
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
    /// # Examples
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
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = switchyard::Router::new();
    /// router.post("/greet", greet);
    /// // {"name":"ann"} answers "hello ann"; {"nom":"ann"} answers 422.
    /// # let reply = serve(router.clone(), "POST /greet HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{\"name\":\"ann\"}")?;
    /// # assert!(reply.ends_with("\r\n\r\nhello ann"), "{reply}");
    /// # let reply = serve(router, "POST /greet HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"nom\":\"ann\"}")?;
    /// # assert!(reply.starts_with("HTTP/1.1 422 "), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn json_body<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        if !self.header_bytes("content-type").is_some_and(is_json_type) {
            return Err(HttpError::new(415, "the body must be application/json").with_json_body());
        }
        serde_json::from_slice(self.parts.body).map_err(|e| HttpError::from_request_json(&e))
    }

    /// The query string as `T` (serde; a missing `Option` field is `None`);
    /// 400 when it does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Ctx, HttpError};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Page {
    ///     page: u32,
    ///     per_page: Option<u32>,
    /// }
    ///
    /// // GET /items?page=2 answers "page 2 of 20"; ?page=x answers 400.
    /// fn items(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    ///     let p: Page = ctx.query_as()?;
    ///     let text = format!("page {} of {}", p.page, p.per_page.unwrap_or(20));
    ///     ctx.text(&text);
    ///     Ok(())
    /// }
    /// # let _ = items;
    /// ```
    pub fn query_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        super::extract::query(self.parts.query)
    }

    /// An `application/x-www-form-urlencoded` body as `T`: 415 for another
    /// content type, 422 when it does not fit.
    pub fn form<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        super::extract::form(self.header_bytes("content-type"), self.parts.body)
    }

    /// The route parameter `name`, decoded, parsed as `T`: 400 when it does
    /// not parse (`/users/:id` with `id = "x"` for a `u64`).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Ctx, HttpError};
    ///
    /// fn user(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    ///     let id: u64 = ctx.param_as("id")?;
    ///     let text = format!("user {id}");
    ///     ctx.text(&text);
    ///     Ok(())
    /// }
    /// # let _ = user;
    /// ```
    pub fn param_as<T: std::str::FromStr>(&self, name: &str) -> Result<T, HttpError>
    where
        T::Err: std::fmt::Display,
    {
        super::extract::param(name, self.param(name))
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
    /// A handler on an inline route must not block.
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

    /// Sets the response status; the body and headers are set apart.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.post("/jobs", |ctx| {
    ///     ctx.status(202).header("location", "/jobs/1");
    ///     ctx.text("queued");
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "POST /jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.starts_with("HTTP/1.1 202 "), "{reply}");
    /// # assert!(reply.contains("location: /jobs/1\r\n"), "{reply}");
    /// # assert!(reply.ends_with("\r\n\r\nqueued"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn status(&mut self, status: u16) -> &mut Response {
        self.resp.set_status(status)
    }

    /// Appends a response header (see [`Response::header`] for the names it
    /// refuses and the bytes it drops).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/page", |ctx| {
    ///     ctx.set_header("cache-control", "no-cache");
    ///     ctx.set_header("set-cookie", "a=1");
    ///     ctx.set_header("set-cookie", "b=2"); // appended, not replaced
    ///     ctx.bytes("text/html; charset=utf-8", b"<p>hi</p>");
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /page HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("set-cookie: a=1\r\nset-cookie: b=2\r\n"), "{reply}");
    /// # assert!(reply.contains("content-type: text/html; charset=utf-8\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    #[inline]
    pub fn set_header(&mut self, name: &str, value: &str) -> &mut Response {
        self.resp.header(name, value)
    }

    /// A `text/plain` body.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/hello/:name", |ctx| {
    ///     let greeting = format!("Hello, {}!", ctx.param("name").unwrap_or("World"));
    ///     ctx.text(&greeting);
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /hello/Ada HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("content-type: text/plain\r\n"), "{reply}");
    /// # assert!(reply.ends_with("\r\n\r\nHello, Ada!"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn text(&mut self, body: &str) -> &mut Response {
        self.resp.text(body)
    }

    /// An `application/json` body serialized from `value`; a value that
    /// cannot be serialized is a 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Item {
    ///     id: u32,
    ///     name: &'static str,
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/items", |ctx| ctx.json(&[Item { id: 1, name: "hammer" }]));
    /// // GET /items answers [{"id":1,"name":"hammer"}].
    /// # let reply = serve(router, "GET /items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("content-type: application/json\r\n"), "{reply}");
    /// # assert!(reply.ends_with(r#"[{"id":1,"name":"hammer"}]"#), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HttpError> {
        self.resp.json(value).map(drop)
    }

    /// A body of any content type.
    pub fn bytes(&mut self, content_type: &str, body: &[u8]) -> &mut Response {
        self.resp.bytes(content_type, body)
    }

    /// A redirect (300..=308) to `location`; another status is a 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/old/*rest", |ctx| {
    ///     let location = format!("/new/{}", ctx.param("rest").unwrap_or(""));
    ///     ctx.redirect(308, &location)
    /// });
    /// # let reply = serve(router, "GET /old/a/b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.starts_with("HTTP/1.1 308 "), "{reply}");
    /// # assert!(reply.contains("location: /new/a/b\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn redirect(&mut self, status: u16, location: &str) -> Result<(), HttpError> {
        self.resp.redirect(status, location).map(drop)
    }

    /// A bodiless response (see [`Response::no_content`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.delete("/items/:id", |ctx| {
    ///     ctx.no_content(204);
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "DELETE /items/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.starts_with("HTTP/1.1 204 "), "{reply}");
    /// # assert!(reply.ends_with("\r\n\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn no_content(&mut self, status: u16) -> &mut Response {
        self.resp.no_content(status)
    }

    /// Starts a streamed body (chunked on HTTP/1.1); write it with
    /// [`Response::write_chunk`]. The chunks leave when the handler returns;
    /// for a body produced after that, see [`Response::live`].
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/numbers", |ctx| {
    ///     let resp = ctx.stream("text/plain");
    ///     for i in 1..=3 {
    ///         resp.write_chunk(format!("{i}\n").as_bytes()); // one chunk each
    ///     }
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "GET /numbers HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("transfer-encoding: chunked\r\n"), "{reply}");
    /// # assert!(reply.ends_with("\r\n\r\n2\r\n1\n\r\n2\r\n2\n\r\n2\r\n3\n\r\n0\r\n\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn stream(&mut self, content_type: &str) -> &mut Response {
        self.resp.start_stream(content_type)
    }

    /// An owned copy of the request (method, path, query, headers, route
    /// parameters, body), for work that outlives the handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use switchyard::{Request, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (audit, log) = mpsc::channel::<Request>();
    /// let audit = std::sync::Mutex::new(audit);
    /// let mut router = Router::new();
    /// router.post("/orders/:id", move |ctx| {
    ///     let _ = audit.lock().unwrap().send(ctx.to_request()); // read later, elsewhere
    ///     ctx.no_content(202);
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "POST /orders/9 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\ntwo apples")?;
    /// let req = log.recv()?;
    /// assert_eq!(req.param("id"), Some("9"));
    /// assert_eq!(&req.body()[..], b"two apples");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
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
