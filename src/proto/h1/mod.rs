//! HTTP/1.x, sans-IO: request parsing and body framing ([`H1Conn`]), response
//! encoding ([`encode_response`]) and the `date` header cache ([`DateCache`]).
//!
//! The caller owns the socket and the buffers. It appends what it reads,
//! polls [`H1Conn::poll`] with every unconsumed byte, runs the handler for
//! each [`Poll::Request`], drops [`Request::len`] bytes, and writes what the
//! encoders append. Nothing here reads a clock, spawns, or allocates per
//! request once warm (the header array lives on the caller's stack).
//!
//! Files: `scan` finds the end of a head under the size limits, `parse`
//! turns it into a [`Head`] (`target` splits the request-target), `chunked` decodes chunked bodies, `conn` is the
//! per-connection state machine, `encode` and `date` write responses,
//! `error` says why a request was refused.

use std::mem::MaybeUninit;

mod chunked;
mod conn;
mod date;
mod encode;
mod error;
mod parse;
mod scan;
mod target;

#[cfg(test)]
mod tests;

pub use conn::{H1Conn, Phase, Poll, Request};
pub use date::DateCache;
pub use encode::{
    encode_chunk, encode_error, encode_response, has_body, reason_phrase, EncodeOpts, CONTINUE,
    LAST_CHUNK,
};
pub use error::H1Error;
pub use parse::{Framing, Head};

/// Size of the header array a caller passes to [`H1Conn::poll`]; the upper
/// bound of [`Limits::max_headers`].
pub const MAX_HEADERS: usize = 100;

/// The caller-owned (stack) array the header fields of a head are parsed
/// into. Left uninitialised: the parser writes the fields it finds and hands
/// back only those, so a request does not pay for clearing 100 slots.
pub type HeaderArray<'b> = [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS];

/// A fresh header array (no memory is written).
pub fn empty_headers<'b>() -> HeaderArray<'b> {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// Size limits for one connection's requests; exceeding one is an error
/// response and a closed connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request line, CRLF excluded (414); the empty lines allowed
    /// before it are bounded by the same number. Default 8192.
    pub max_request_line: usize,
    /// Largest header block: the bytes after the request line's CRLF, through
    /// the empty line (431). Default 16384.
    pub max_header_block: usize,
    /// Most header fields (431); at most [`MAX_HEADERS`]. Default 100.
    pub max_headers: usize,
    /// Largest body, declared (`Content-Length`) or decoded (`chunked`) (413).
    /// `u64::MAX` for no limit. Default 100 MiB.
    pub max_body: u64,
    /// Largest trailer section of a chunked body, through its final CRLF (431).
    /// Default 16384.
    pub max_trailers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8192,
            max_header_block: 16384,
            max_headers: MAX_HEADERS,
            max_body: 100 * 1024 * 1024,
            max_trailers: 16384,
        }
    }
}
