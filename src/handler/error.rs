//! `HttpError`: the error a handler returns to answer with a status.

use std::borrow::Cow;
use std::fmt;

/// An error that becomes an HTTP response: its status and a message for the body.
///
/// Handlers return `Result<(), HttpError>`. Any other error converted with `?`
/// becomes a 500 whose body does not leak the error's text — a
/// `serde_json::Error` included, since `?` on one is a response that failed
/// to serialize; a request body that fails to parse is a client error, which
/// [`Ctx::json_body`](super::Ctx::json_body) answers 400 or 422.
///
/// # Examples
///
/// ```
/// use switchyard::{Ctx, HttpError, Router};
///
/// fn download(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
///     let name = ctx.param("name").unwrap_or_default();
///     if name.starts_with('.') {
///         return Err(HttpError::new(403, "hidden files are private"));
///     }
///     let data = std::fs::read(format!("/srv/files/{name}"))
///         .map_err(|_| HttpError::not_found())?;
///     let _config = std::fs::read_to_string("/etc/app.toml")?; // io::Error: a plain 500
///     ctx.bytes("application/octet-stream", &data);
///     Ok(())
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.get("/files/:name", download);
/// # let reply = serve(router, "GET /files/.env HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.starts_with("HTTP/1.1 403 "), "{reply}");
/// # assert!(reply.ends_with("\r\n\r\nhidden files are private"), "{reply}");
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// The response status, 400..=599 by convention (any valid code is kept).
    status: u16,
    /// The response body: `text/plain`, or inside `{"error": ...}`.
    message: Cow<'static, str>,
    /// Whether the body is `application/json` `{"error": message}`.
    json: bool,
}

impl HttpError {
    /// An error answered with `status` and `message` as the body.
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        HttpError {
            status,
            message: message.into(),
            json: false,
        }
    }

    /// The same error answered with an `application/json` body
    /// `{"error": message}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{HttpError, Response};
    ///
    /// let err = HttpError::new(429, "slow down").with_json_body();
    /// let mut resp = Response::new();
    /// resp.set_error(&err);
    /// assert_eq!(resp.status(), 429);
    /// assert_eq!(resp.body(), br#"{"error":"slow down"}"#);
    /// ```
    pub fn with_json_body(mut self) -> Self {
        self.json = true;
        self
    }

    /// Whether the body is `{"error": message}` as `application/json`.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// The error for a request body that `serde_json` could not read: 400
    /// for malformed JSON (a syntax error, a truncated document), 422 for
    /// well-formed JSON of the wrong shape (a missing field, a wrong type);
    /// with a JSON body naming the problem.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::HttpError;
    ///
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Point {
    ///     x: i32,
    ///     y: i32,
    /// }
    ///
    /// let parse = |body: &str| {
    ///     serde_json::from_str::<Point>(body).map_err(|e| HttpError::from_request_json(&e))
    /// };
    /// assert_eq!(parse(r#"{"x": 1, "y": 2"#).unwrap_err().status(), 400); // truncated
    /// assert_eq!(parse(r#"{"x": 1}"#).unwrap_err().status(), 422); // no `y`
    /// assert!(parse(r#"{"x": 1, "y": 2}"#).is_ok());
    /// ```
    pub fn from_request_json(err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let status = match err.classify() {
            Category::Data => 422,
            Category::Syntax | Category::Eof | Category::Io => 400,
        };
        Self::new(status, err.to_string()).with_json_body()
    }

    /// 400 Bad Request with a message.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::HttpError;
    ///
    /// let err = HttpError::bad_request("`limit` must be a number");
    /// assert_eq!(err.status(), 400);
    /// assert_eq!(err.to_string(), "400 `limit` must be a number");
    /// assert!(!err.is_server_error());
    /// ```
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, message)
    }

    /// 404 Not Found.
    pub fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    /// 500 Internal Server Error, with the generic body.
    pub fn internal() -> Self {
        Self::new(500, "Internal Server Error")
    }

    /// The status this error answers with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body text.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is a server-side (5xx) error.
    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

macro_rules! internal_from {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for HttpError {
            fn from(err: $ty) -> Self {
                tracing::debug!(error = %err, "handler error answered with 500");
                HttpError::internal()
            }
        }
    )*};
}

internal_from!(
    std::io::Error,
    std::fmt::Error,
    serde_json::Error,
    Box<dyn std::error::Error + Send + Sync>,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::Response;

    fn parse(body: &str) -> HttpError {
        let err = serde_json::from_str::<(String, i64)>(body).unwrap_err();
        HttpError::from_request_json(&err)
    }

    #[test]
    fn request_json_errors_are_client_errors_and_serialization_stays_500() {
        assert_eq!(parse("[\"a\", 1").status(), 400, "EOF");
        assert_eq!(parse("[\"a\" 1]").status(), 400, "syntax");
        assert_eq!(parse("[1, 1]").status(), 422, "data");
        let err = serde_json::from_str::<i64>("x").unwrap_err();
        assert_eq!(
            HttpError::from(err).status(),
            500,
            "a `?` on serde_json stays 500"
        );
    }

    #[test]
    fn a_json_error_has_a_json_body() {
        let mut resp = Response::new();
        resp.set_error(&HttpError::new(422, "bad \"n\"").with_json_body());
        assert_eq!(resp.status(), 422);
        assert!(resp.has_header("content-type"));
        assert_eq!(resp.body(), br#"{"error":"bad \"n\""}"#);
        resp.set_error(&HttpError::new(400, "plain"));
        assert_eq!(resp.body(), b"plain");
    }
}
