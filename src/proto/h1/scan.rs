//! Finds where a request head ends, incrementally, enforcing the size limits
//! before the head is complete.

use super::error::{H1Error, Kind};
use super::Limits;

/// How far the scan of a not-yet-complete head has got, as offsets into the
/// caller's buffer (which always starts at the request's first byte, so the
/// offsets stay valid while the caller appends).
///
/// ```text
///  Leading ──first non-CRLF byte──▶ RequestLine ──CRLF──▶ Fields ──empty line──▶ complete
///  (empty lines skipped,            (≤ max_request_line   (≤ max_header_block bytes,
///   RFC 9112 §2.2)                   bytes, CRLF excluded)  ≤ max_headers lines)
/// ```
///
/// Every byte is looked at once across polls, so a head trickling in one byte
/// at a time still costs O(n) in total; the head is parsed only when complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeadScan {
    /// Skipping empty lines before the request line.
    Leading {
        /// Offset of the first byte not yet known to be a skipped empty line.
        pos: usize,
    },
    /// Inside the request line.
    RequestLine {
        /// Offset of the request line's first byte.
        start: usize,
        /// Offset up to which no LF was found.
        pos: usize,
    },
    /// Inside the header block (after the request line's CRLF).
    Fields {
        /// Offset of the request line's first byte.
        start: usize,
        /// Offset of the header block's first byte.
        block_start: usize,
        /// Offset of the current line's first byte.
        line_start: usize,
        /// Offset up to which no LF was found.
        pos: usize,
        /// Complete field lines seen so far.
        fields: usize,
    },
}

/// Where a complete head lies in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeadBounds {
    /// Offset of the request line (after any skipped empty lines).
    pub(crate) start: usize,
    /// Offset just past the empty line that ends the head: where the body starts.
    pub(crate) end: usize,
}

/// The offset of the first LF at or after `from`.
fn find_lf(buf: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\n', buf.get(from..)?).map(|i| from + i)
}

impl HeadScan {
    /// A scan that has seen nothing.
    pub(crate) const fn new() -> Self {
        HeadScan::Leading { pos: 0 }
    }

    /// Whether no byte of a request has been looked at yet.
    pub(crate) fn is_fresh(&self) -> bool {
        *self == HeadScan::Leading { pos: 0 }
    }

    /// Scans the bytes of `buf` not seen before; `Some` once the head is
    /// complete, `None` while more bytes are needed.
    pub(crate) fn advance(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<HeadBounds>, H1Error> {
        loop {
            match *self {
                HeadScan::Leading { mut pos } => {
                    while buf.get(pos..pos + 2) == Some(b"\r\n") {
                        pos += 2;
                    }
                    if pos > limits.max_request_line {
                        return Err(H1Error::new(Kind::RequestLineTooLong));
                    }
                    *self = match buf.get(pos..) {
                        None | Some([] | [b'\r']) => {
                            *self = HeadScan::Leading { pos };
                            return Ok(None);
                        }
                        Some(_) => HeadScan::RequestLine { start: pos, pos },
                    };
                }
                HeadScan::RequestLine { start, pos } => {
                    let Some(lf) = find_lf(buf, pos) else {
                        let pending_cr = usize::from(buf.last() == Some(&b'\r'));
                        if buf.len().saturating_sub(start + pending_cr) > limits.max_request_line {
                            return Err(H1Error::new(Kind::RequestLineTooLong));
                        }
                        *self = HeadScan::RequestLine {
                            start,
                            pos: buf.len(),
                        };
                        return Ok(None);
                    };
                    // The length first, as a scan of the same bytes in
                    // pieces would have seen it (before the LF arrived), so
                    // the answer never depends on how the bytes came.
                    let cr = lf > start && buf[lf - 1] == b'\r';
                    if lf - start - usize::from(cr) > limits.max_request_line {
                        return Err(H1Error::new(Kind::RequestLineTooLong));
                    }
                    if !cr {
                        return Err(H1Error::new(Kind::BadRequestLine));
                    }
                    let next = lf + 1;
                    *self = HeadScan::Fields {
                        start,
                        block_start: next,
                        line_start: next,
                        pos: next,
                        fields: 0,
                    };
                }
                HeadScan::Fields { .. } => return self.advance_fields(buf, limits),
            }
        }
    }

    /// The `Fields` step: walks header lines until the empty line.
    fn advance_fields(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<HeadBounds>, H1Error> {
        let HeadScan::Fields {
            start,
            block_start,
            mut line_start,
            mut pos,
            mut fields,
        } = *self
        else {
            return Ok(None);
        };
        while let Some(lf) = find_lf(buf, pos) {
            // The size a piecewise scan saw before this LF arrived comes
            // first, so the answer never depends on how the bytes came.
            if lf - block_start > limits.max_header_block {
                return Err(H1Error::new(Kind::HeaderBlockTooLarge));
            }
            // Bare LF line endings are refused: CRLF only (a smuggling vector otherwise).
            if lf == line_start || buf[lf - 1] != b'\r' {
                return Err(H1Error::new(Kind::BadHeader));
            }
            if lf + 1 - block_start > limits.max_header_block {
                return Err(H1Error::new(Kind::HeaderBlockTooLarge));
            }
            if lf - 1 == line_start {
                return Ok(Some(HeadBounds { start, end: lf + 1 }));
            }
            fields += 1;
            if fields > limits.max_headers {
                return Err(H1Error::new(Kind::TooManyHeaders));
            }
            line_start = lf + 1;
            pos = lf + 1;
        }
        if buf.len().saturating_sub(block_start) > limits.max_header_block {
            return Err(H1Error::new(Kind::HeaderBlockTooLarge));
        }
        *self = HeadScan::Fields {
            start,
            block_start,
            line_start,
            pos: buf.len(),
            fields,
        };
        Ok(None)
    }
}
