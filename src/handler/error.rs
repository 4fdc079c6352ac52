//! `HttpError`: the error a handler returns to answer with a status.

use std::borrow::Cow;
use std::fmt;

/// An error that becomes an HTTP response: its status and a message for the body.
///
/// Handlers return `Result<(), HttpError>`. Any other error converted with `?`
/// becomes a 500 whose body does not leak the error's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// The response status, 400..=599 by convention (any valid code is kept).
    status: u16,
    /// The response body, `text/plain`.
    message: Cow<'static, str>,
}

impl HttpError {
    /// An error answered with `status` and `message` as the body.
    pub fn new(status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        HttpError {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request with a message.
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
