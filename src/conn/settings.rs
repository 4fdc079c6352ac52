//! `ConnConfig`: the settings every connection obeys, shared by reference so a
//! connection carries state, not settings.

use std::time::Duration;

use crate::proto::h1::Limits;

/// Limits, timeouts and caps for connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnConfig {
    /// HTTP/1.1 parsing limits (request line, header block, fields, body).
    pub limits: Limits,
    /// From a request head's first byte to its end (slowloris defence).
    pub header_timeout: Duration,
    /// Keep-alive idle time between requests; also the longest pause allowed
    /// inside a request body.
    pub idle_timeout: Duration,
    /// The longest a request body may take in all, from the end of its head.
    pub body_timeout: Duration,
    /// How long a closing connection drains what the peer still sends after
    /// its last response, so that response is not destroyed by a reset.
    pub linger_timeout: Duration,
    /// How long queued response bytes may wait for a client that does not read.
    pub write_timeout: Duration,
    /// Queued response bytes above which no further pipelined request is
    /// answered (nor read) until the client takes them: one response may be
    /// larger; a client that stops reading is cut by the write timeout.
    pub max_pending_output: usize,
    /// Request bytes a connection may hold ahead of its answers (at least one
    /// whole largest request).
    pub max_pending_input: usize,
}

impl Default for ConnConfig {
    fn default() -> Self {
        ConnConfig {
            limits: Limits::default(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            linger_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(30),
            max_pending_output: 4 * 1024 * 1024,
            max_pending_input: 4 * 1024 * 1024,
        }
    }
}
