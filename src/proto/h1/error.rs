//! `H1Error`: why a request could not be accepted, and the status that says so.

use std::fmt;

/// A request the connection cannot serve.
///
/// Every kind ends the connection: the caller answers with
/// [`encode_error`](super::encode_error) and closes, because the framing of
/// whatever follows can no longer be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H1Error {
    /// What went wrong; private so new kinds stay a non-breaking change.
    kind: Kind,
}

/// The private error kinds, one per distinct reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The request line (or the empty lines before it) passed `max_request_line`.
    RequestLineTooLong,
    /// The header block passed `max_header_block` bytes.
    HeaderBlockTooLarge,
    /// More header fields than `max_headers`.
    TooManyHeaders,
    /// A chunked body's trailer section passed `max_trailers` bytes.
    TrailersTooLarge,
    /// An `HTTP/x.y` version other than 1.0 and 1.1.
    UnsupportedVersion,
    /// A malformed request line: method, target, spacing or version syntax.
    BadRequestLine,
    /// A malformed header line: name, value, folding or line ending.
    BadHeader,
    /// An HTTP/1.1 request without `Host`, any request with two, or a
    /// `Host` value that is not `host[:port]`.
    BadHost,
    /// An absolute-form request-target whose authority is empty or invalid.
    BadTarget,
    /// A `Content-Length` that is not digits, overflows, or conflicts.
    BadContentLength,
    /// `Content-Length` and `Transfer-Encoding` on one request.
    LengthAndTransferEncoding,
    /// `chunked` not final, applied twice, or `Transfer-Encoding` on HTTP/1.0.
    BadTransferEncoding,
    /// A transfer coding other than a single `chunked`.
    UnsupportedTransferCoding,
    /// The declared or decoded body is larger than `max_body`.
    BodyTooLarge,
    /// Invalid chunked framing (size line, chunk terminator or trailers).
    BadChunk,
}

impl H1Error {
    /// Wraps a kind.
    pub(crate) const fn new(kind: Kind) -> Self {
        H1Error { kind }
    }

    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        match self.kind {
            Kind::RequestLineTooLong => 414,
            Kind::HeaderBlockTooLarge | Kind::TooManyHeaders | Kind::TrailersTooLarge => 431,
            Kind::UnsupportedVersion => 505,
            Kind::UnsupportedTransferCoding => 501,
            Kind::BodyTooLarge => 413,
            Kind::BadRequestLine
            | Kind::BadHeader
            | Kind::BadHost
            | Kind::BadTarget
            | Kind::BadContentLength
            | Kind::LengthAndTransferEncoding
            | Kind::BadTransferEncoding
            | Kind::BadChunk => 400,
        }
    }

    /// The text sent as the error response's body.
    pub fn reason(&self) -> &'static str {
        match self.kind {
            Kind::RequestLineTooLong => "URI Too Long",
            Kind::HeaderBlockTooLarge | Kind::TooManyHeaders | Kind::TrailersTooLarge => {
                "Request Header Fields Too Large"
            }
            Kind::UnsupportedVersion => "HTTP Version Not Supported",
            Kind::UnsupportedTransferCoding => "Not Implemented",
            Kind::BodyTooLarge => "Request body too large",
            Kind::BadChunk => "Invalid chunked encoding",
            Kind::BadTarget => "Invalid request target",
            Kind::BadRequestLine
            | Kind::BadHeader
            | Kind::BadHost
            | Kind::BadContentLength
            | Kind::LengthAndTransferEncoding
            | Kind::BadTransferEncoding => "Bad Request",
        }
    }

    /// Whether the request line was longer than allowed (414).
    pub fn is_request_line_too_long(&self) -> bool {
        self.kind == Kind::RequestLineTooLong
    }

    /// Whether the header block was larger than allowed (431).
    pub fn is_header_block_too_large(&self) -> bool {
        self.kind == Kind::HeaderBlockTooLarge
    }

    /// Whether there were more header fields than allowed (431).
    pub fn is_too_many_headers(&self) -> bool {
        self.kind == Kind::TooManyHeaders
    }

    /// Whether a chunked body's trailers were larger than allowed (431).
    pub fn is_trailers_too_large(&self) -> bool {
        self.kind == Kind::TrailersTooLarge
    }

    /// Whether the HTTP version is not 1.0 or 1.1 (505).
    pub fn is_unsupported_version(&self) -> bool {
        self.kind == Kind::UnsupportedVersion
    }

    /// Whether the transfer coding is not a single `chunked` (501).
    pub fn is_unsupported_transfer_coding(&self) -> bool {
        self.kind == Kind::UnsupportedTransferCoding
    }

    /// Whether the body is larger than `max_body` (413).
    pub fn is_body_too_large(&self) -> bool {
        self.kind == Kind::BodyTooLarge
    }

    /// Whether the request was malformed (any 400).
    pub fn is_bad_request(&self) -> bool {
        self.status() == 400
    }

    /// Whether the chunked body framing was invalid (400).
    pub fn is_bad_chunk(&self) -> bool {
        self.kind == Kind::BadChunk
    }

    /// Whether `Host` was missing on HTTP/1.1, repeated or invalid (400).
    pub fn is_bad_host(&self) -> bool {
        self.kind == Kind::BadHost
    }

    /// Whether an absolute-form target had an empty or invalid authority (400).
    pub fn is_bad_target(&self) -> bool {
        self.kind == Kind::BadTarget
    }

    /// Whether `Content-Length` was invalid or conflicting (400).
    pub fn is_bad_content_length(&self) -> bool {
        self.kind == Kind::BadContentLength
    }

    /// Whether `Content-Length` came with `Transfer-Encoding` (400).
    pub fn is_length_and_transfer_encoding(&self) -> bool {
        self.kind == Kind::LengthAndTransferEncoding
    }
}

impl fmt::Display for H1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::RequestLineTooLong => "request line too long",
            Kind::HeaderBlockTooLarge => "header block too large",
            Kind::TooManyHeaders => "too many header fields",
            Kind::TrailersTooLarge => "trailer section too large",
            Kind::UnsupportedVersion => "unsupported HTTP version",
            Kind::BadRequestLine => "malformed request line",
            Kind::BadHeader => "malformed header field",
            Kind::BadHost => "missing, repeated or invalid Host header",
            Kind::BadTarget => "invalid absolute-form request target",
            Kind::BadContentLength => "invalid Content-Length",
            Kind::LengthAndTransferEncoding => "both Content-Length and Transfer-Encoding",
            Kind::BadTransferEncoding => "invalid Transfer-Encoding",
            Kind::UnsupportedTransferCoding => "unsupported transfer coding",
            Kind::BodyTooLarge => "request body too large",
            Kind::BadChunk => "invalid chunked encoding",
        };
        write!(f, "{what} ({})", self.status())
    }
}

impl std::error::Error for H1Error {}
