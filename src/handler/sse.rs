//! Server-sent events (the `text/event-stream` format of the WHATWG HTML
//! standard, §9.2) on a live body: [`Response::sse`] starts the stream and
//! returns an [`SseSender`], each [`Event`] leaves the server as it is sent.
//!
//! # Examples
//!
//! ```
//! use switchyard::handler::sse::Event;
//! use switchyard::{HttpError, Request, Response};
//!
//! // A future handler: `GET /ticks` streams three events, resuming after
//! // the `Last-Event-ID` the browser sends when it reconnects.
//! async fn ticks(req: Request) -> Result<Response, HttpError> {
//!     let first = req
//!         .header("last-event-id")
//!         .and_then(|id| id.parse::<u32>().ok())
//!         .map_or(0, |id| id + 1);
//!     let mut resp = Response::new();
//!     let events = resp.sse();
//!     std::thread::spawn(move || {
//!         for i in first..3 {
//!             let event = Event::data(format!("tick {i}")).id(i.to_string());
//!             if events.send(&event).is_err() {
//!                 return; // the client is gone
//!             }
//!         }
//!     });
//!     Ok(resp)
//! }
//! # let _ = ticks;
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;

use super::{BodyClosed, BodySender, Response};

/// One event: optional `id`, `event` name and `retry`, and its data (any
/// text; each of its lines becomes a `data:` line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// `id:` — what the client sends back as `Last-Event-ID`.
    id: Option<String>,
    /// `event:` — the event type (`message` when none).
    event: Option<String>,
    /// `retry:` — the client's reconnection delay.
    retry: Option<Duration>,
    /// The data, possibly several lines.
    data: String,
}

impl Event {
    /// An event carrying `data`.
    pub fn data(data: impl Into<String>) -> Self {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// Sets the id. Line breaks and NUL (which a client would read as the
    /// end of the field, or ignore the id for) are removed.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(one_line(id.into(), true));
        self
    }

    /// Sets the event type (line breaks removed).
    pub fn event(mut self, name: impl Into<String>) -> Self {
        self.event = Some(one_line(name.into(), false));
        self
    }

    /// Sets the client's reconnection delay.
    pub fn retry(mut self, after: Duration) -> Self {
        self.retry = Some(after);
        self
    }

    /// The event in the wire format, ending with its blank line.
    ///
    /// ```
    /// use switchyard::handler::sse::Event;
    ///
    /// let e = Event::data("a\nb").id("7").event("tick");
    /// assert_eq!(e.encode(), "id: 7\nevent: tick\ndata: a\ndata: b\n\n");
    /// ```
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(id) = &self.id {
            let _ = writeln!(out, "id: {id}");
        }
        if let Some(event) = &self.event {
            let _ = writeln!(out, "event: {event}");
        }
        if let Some(retry) = self.retry {
            let _ = writeln!(out, "retry: {}", retry.as_millis());
        }
        // CRLF, CR and LF all end a line for the client.
        for line in self.data.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
            let _ = writeln!(out, "data: {line}");
        }
        out.push('\n');
        out
    }
}

/// `value` without CR and LF (and, for an id, NUL).
fn one_line(mut value: String, id: bool) -> String {
    value.retain(|c| c != '\r' && c != '\n' && !(id && c == '\0'));
    value
}

/// The sending end of an event stream (see [`Response::sse`]). Dropping it
/// ends the stream.
#[derive(Clone, Debug)]
pub struct SseSender(BodySender);

impl SseSender {
    /// Sends an event, waiting while the connection is behind; for threads.
    pub fn send(&self, event: &Event) -> Result<(), BodyClosed> {
        self.0.send(Bytes::from(event.encode()))
    }

    /// Sends an event, awaiting room while the connection is behind; for
    /// tasks.
    pub async fn send_async(&self, event: &Event) -> Result<(), BodyClosed> {
        self.0.send_async(Bytes::from(event.encode())).await
    }

    /// Sends a comment line (`: text`), which clients ignore: a keep-alive
    /// that stops proxies from closing a quiet stream.
    pub fn comment(&self, text: &str) -> Result<(), BodyClosed> {
        self.0.send(Bytes::from(format!(
            ": {}\n\n",
            one_line(text.into(), false)
        )))
    }

    /// Whether the client is gone (no later send can succeed).
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

impl Response {
    /// Starts a server-sent event stream: `content-type: text/event-stream`,
    /// `cache-control: no-cache`, a live body; see the [module](self) docs.
    pub fn sse(&mut self) -> SseSender {
        self.header("cache-control", "no-cache");
        SseSender(self.live("text/event-stream"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines_split_on_every_line_break() {
        let e = Event::data("a\r\nb\rc\nd");
        assert_eq!(e.encode(), "data: a\ndata: b\ndata: c\ndata: d\n\n");
        assert_eq!(Event::data("").encode(), "data: \n\n");
    }

    #[test]
    fn fields_cannot_break_their_line() {
        let e = Event::data("x")
            .id("1\n\0data: forged")
            .event("a\r\nb")
            .retry(Duration::from_secs(3));
        assert_eq!(
            e.encode(),
            "id: 1data: forged\nevent: ab\nretry: 3000\ndata: x\n\n"
        );
    }
}
