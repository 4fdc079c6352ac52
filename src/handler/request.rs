//! `Request`: an owned copy of a request, handed to future handlers, which
//! outlive the connection buffers a [`Ctx`](super::Ctx) borrows.

use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::Bytes;

use super::ctx::{query_value, Ctx};
use crate::config::EngineKind;
use crate::proto::Version;
use crate::router::Dispatch;

/// An owned request.
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

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
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
