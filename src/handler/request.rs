//! `Request`: an owned copy of a request, handed to future handlers, which
//! outlive the connection buffers a [`Ctx`](super::Ctx) borrows.

use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::Bytes;

use super::ctx::{query_value, Ctx};
use super::HttpError;
use crate::config::EngineKind;
use crate::proto::Version;
use crate::router::Dispatch;

/// An owned request: what a future handler receives (see
/// [`Router::get_future`](crate::Router::get_future)). It holds copies of
/// everything a [`Ctx`] borrows, so the handler may await for as long as it
/// needs.
///
/// # Examples
///
/// ```
/// use switchyard::{HttpError, Request, Response, Router};
///
/// async fn lookup(req: Request) -> Result<Response, HttpError> {
///     let id = req.param("id").ok_or_else(HttpError::not_found)?;
///     let lang = req.header("accept-language").unwrap_or("en");
///     // ... await a database here ...
///     Ok(Response::with_text(&format!("order {id} ({lang})")))
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.get_future("/orders/:id", lookup);
/// # let reply = serve(router, "GET /orders/12 HTTP/1.1\r\nHost: localhost\r\nAccept-Language: fr\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.ends_with("\r\n\r\norder 12 (fr)"), "{reply}");
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
#[derive(Clone, Debug)]
pub struct Request {
    /// Method token.
    method: String,
    /// Path without query.
    path: String,
    /// Raw query.
    query: String,
    /// Version received.
    version: Version,
    /// Header fields, names as received.
    headers: Vec<(String, Bytes)>,
    /// Captured route params, `(name, value)`.
    params: Vec<(String, String)>,
    /// The body.
    body: Bytes,
    /// Peer address.
    remote: Option<SocketAddr>,
    /// Serving engine.
    engine: EngineKind,
}

impl Request {
    /// Copies what a context borrows.
    pub(crate) fn from_ctx(ctx: &Ctx<'_>) -> Self {
        let parts = ctx.parts();
        let info = ctx.info();
        Request {
            method: ctx.method().to_owned(),
            path: ctx.path().to_owned(),
            query: parts.query.to_owned(),
            version: parts.version,
            headers: ctx
                .headers()
                .map(|(name, value)| (name.to_owned(), Bytes::copy_from_slice(value)))
                .collect(),
            params: ctx
                .param_pairs()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: Bytes::copy_from_slice(parts.body),
            remote: info.remote,
            engine: info.engine,
        }
    }

    /// Request method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Path without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query.
    pub fn raw_query(&self) -> &str {
        &self.query
    }

    /// The first value of query parameter `key`, percent-decoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Request, Response, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get_future("/search", |req: Request| async move {
    ///     let q = req.query("q").unwrap_or_default();
    ///     Ok(Response::with_text(&format!("results for {q}")))
    /// });
    /// # let reply = serve(router, "GET /search?q=red+shoes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\nresults for red shoes"), "{reply}");
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
    pub fn query(&self, key: &str) -> Option<Cow<'_, str>> {
        query_value(&self.query, key)
    }

    /// A route parameter by name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header value (ASCII case-insensitive name), when valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// Every header, in order received.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_str(), &v[..]))
    }

    /// The body, whole (a cheap clone of it can move into another task).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{HttpError, Request, Response, Router};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Order {
    ///     item: String,
    ///     count: u32,
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.post_future("/orders", |req: Request| async move {
    ///     let order: Order = serde_json::from_slice(req.body())
    ///         .map_err(|e| HttpError::from_request_json(&e))?; // 400 or 422
    ///     let mut resp = Response::with_text(&format!("{} x {}", order.count, order.item));
    ///     resp.set_status(201);
    ///     Ok(resp)
    /// });
    /// # let reply = serve(router, "POST /orders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 25\r\nConnection: close\r\n\r\n{\"item\":\"pear\",\"count\":2}")?;
    /// # assert!(reply.starts_with("HTTP/1.1 201 "), "{reply}");
    /// # assert!(reply.ends_with("\r\n\r\n2 x pear"), "{reply}");
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
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The query string as `T`; 400 when it does not fit (as
    /// [`Ctx::query_as`](super::Ctx::query_as)).
    pub fn query_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        super::extract::query(&self.query)
    }

    /// An `application/x-www-form-urlencoded` body as `T`: 415 for another
    /// content type, 422 when it does not fit.
    pub fn form<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        super::extract::form(self.header("content-type").map(str::as_bytes), &self.body)
    }

    /// The route parameter `name` parsed as `T`: 400 when it does not parse.
    pub fn param_as<T: std::str::FromStr>(&self, name: &str) -> Result<T, HttpError>
    where
        T::Err: std::fmt::Display,
    {
        super::extract::param(name, self.param(name))
    }

    /// Peer address.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// Protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Future handlers always run off the loop.
    pub fn dispatch(&self) -> Dispatch {
        Dispatch::Async
    }

    /// The engine serving the connection.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }
}
