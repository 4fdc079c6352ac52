//! tower interoperability: any `tower::Service` over `http` types — an axum
//! `Router`, a stack of tower layers — mounted under a path prefix as an
//! async route group ([`Router::service`]).
//!
//! Each request reaches the service as an `http::Request<`[`Body`]`>` whose
//! path is the part after the prefix (`/` for the prefix itself), the query
//! kept, as axum's `nest_service` does. Its response comes back with its
//! status and headers; a body of known length up to 64 KiB is sent whole
//! (with its length), any other body is streamed frame by frame as the
//! service produces it (chunked on HTTP/1.1, DATA frames on h2c), with
//! backpressure: a slow client makes the body's producer wait. Trailers are
//! dropped. A service error, or a body error before anything was sent, is a
//! 500.
//!
//! The request body is read by the connection before the service is called
//! (bounded by `Config::max_body`, as for every route), so the service
//! always sees a complete [`Body`].

use std::fmt::Display;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body::Body as HttpBody;
use http_body_util::BodyExt;
use tower_service::Service;

use crate::handler::{Handler, HttpError, Request, Response};
use crate::proto::Version;
use crate::router::Router;

/// The request body a mounted service receives: the whole body.
pub type Body = http_body_util::Full<Bytes>;

/// The methods a mounted service is routed for.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// Largest body of known length sent whole rather than streamed.
const WHOLE_MAX: u64 = 64 * 1024;

/// Response headers the connection writes itself.
const FRAMING: [http::HeaderName; 4] = [
    http::header::CONTENT_LENGTH,
    http::header::TRANSFER_ENCODING,
    http::header::CONNECTION,
    http::header::CONTENT_TYPE,
];

impl Router {
    /// Mounts `svc` under `prefix` for every common method (GET, HEAD,
    /// POST, PUT, DELETE, PATCH, OPTIONS): requests to `prefix` and below
    /// run it as future handlers, on the async side (see the
    /// [module docs](crate::tower) for what it receives and returns).
    ///
    /// # Panics
    /// When `prefix` is not a valid route prefix (it must start with `/`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use switchyard::tower::Body;
    /// use switchyard::Router;
    ///
    /// // Any tower service over `http` types; here one written by hand.
    /// let svc = tower::service_fn(|req: http::Request<Body>| async move {
    ///     let text = format!("legacy saw {}", req.uri().path());
    ///     Ok::<_, Infallible>(http::Response::new(Body::from(text)))
    /// });
    /// let mut router = Router::new();
    /// router.service("/legacy", svc);
    /// ```
    pub fn service<S, B>(&mut self, prefix: &str, svc: S) -> &mut Self
    where
        S: Service<http::Request<Body>, Response = http::Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Display,
        B: HttpBody + Send + 'static,
        B::Data: Send,
        B::Error: Display,
    {
        let base = prefix.trim_end_matches('/');
        let mounted: std::sync::Arc<str> = base.into();
        let handler = Handler::future(move |req: Request| {
            let svc = svc.clone();
            let mounted = mounted.clone();
            async move { call(svc, &mounted, req).await }
        });
        let below = format!("{base}/*rest");
        for method in METHODS {
            if !base.is_empty() {
                self.handle(method, base, handler.clone());
            }
            self.handle(method, &below, handler.clone());
        }
        self
    }
}

/// Runs one request through the service.
async fn call<S, B>(mut svc: S, mounted: &str, req: Request) -> Result<Response, HttpError>
where
    S: Service<http::Request<Body>, Response = http::Response<B>>,
    S::Error: Display,
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Display,
{
    let request = to_http(mounted, &req)?;
    poll_fn(|cx| svc.poll_ready(cx))
        .await
        .map_err(|e| failed("not ready", e))?;
    let response = svc.call(request).await.map_err(|e| failed("failed", e))?;
    from_http(response).await
}

/// The service's error as a 500 (its text logged, not sent).
fn failed(what: &str, e: impl Display) -> HttpError {
    tracing::error!(error = %e, "mounted service {what}");
    HttpError::internal()
}

/// The request as the service sees it: the path below the mount point.
fn to_http(mounted: &str, req: &Request) -> Result<http::Request<Body>, HttpError> {
    let rest = req.path().strip_prefix(mounted).unwrap_or(req.path());
    let path = if rest.is_empty() { "/" } else { rest };
    let uri = match req.raw_query() {
        "" => path.to_owned(),
        q => format!("{path}?{q}"),
    };
    let version = match req.version() {
        Version::Http10 => http::Version::HTTP_10,
        Version::Http11 => http::Version::HTTP_11,
        Version::H2 => http::Version::HTTP_2,
    };
    let mut b = http::Request::builder()
        .method(req.method())
        .uri(uri)
        .version(version);
    for (name, value) in req.headers() {
        b = b.header(name, value);
    }
    b.body(Body::new(req.body().clone()))
        .map_err(|e| HttpError::bad_request(format!("request not representable: {e}")))
}

/// The service's response as a switchyard one.
async fn from_http<B>(resp: http::Response<B>) -> Result<Response, HttpError>
where
    B: HttpBody + Send + 'static,
    B::Data: Send,
    B::Error: Display,
{
    let (parts, body) = resp.into_parts();
    let mut out = Response::new();
    out.set_status(parts.status.as_u16());
    for (name, value) in &parts.headers {
        if !FRAMING.contains(name) {
            out.header_bytes(name.as_str(), value.as_bytes());
        }
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    match body.size_hint().exact() {
        Some(n) if n <= WHOLE_MAX => {
            let whole = body
                .collect()
                .await
                .map_err(|e| failed("body failed", e))?
                .to_bytes();
            if content_type.is_some() || !whole.is_empty() {
                out.bytes(content_type.unwrap_or("application/octet-stream"), &whole);
            }
        }
        _ => {
            let ct = content_type.unwrap_or("application/octet-stream");
            out.stream_from(ct, Frames(Box::pin(body)));
        }
    }
    Ok(out)
}

/// A body's data frames as a stream of bytes; trailers are skipped, and an
/// error ends the stream (logged).
struct Frames<B>(Pin<Box<B>>);

impl<B> futures_core::Stream for Frames<B>
where
    B: HttpBody,
    B::Error: Display,
{
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        loop {
            match self.0.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    tracing::warn!(error = %e, "mounted service's body failed; ending it");
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(mut data) = frame.into_data() {
                        let n = data.remaining();
                        if n > 0 {
                            return Poll::Ready(Some(data.copy_to_bytes(n)));
                        }
                    }
                }
            }
        }
    }
}
