//! Sans-IO protocol code: engines feed bytes in and take bytes out; nothing here
//! touches a socket, a clock or a thread.

pub(crate) mod chars;
pub mod detect;
pub mod h1;
pub mod h2;

use std::fmt;

/// The protocol version a request arrived with
/// ([`Ctx::version`](crate::Ctx::version),
/// [`Request::version`](crate::Request::version)).
///
/// # Examples
///
/// ```
/// use switchyard::{Router, Version};
///
/// let mut router = Router::new();
/// router.get("/version", |ctx| {
///     let body = match ctx.version() {
///         Version::H2 => "h2c",
///         v => v.as_str(), // "HTTP/1.0", "HTTP/1.1"
///     };
///     ctx.text(body);
///     Ok(())
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0.
    Http10,
    /// HTTP/1.1.
    Http11,
    /// HTTP/2 (h2c).
    H2,
}

impl Version {
    /// The version as written in a status line or a log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
            Version::H2 => "HTTP/2",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
