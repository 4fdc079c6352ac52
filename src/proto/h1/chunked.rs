//! Incremental decoding of a chunked request body (RFC 9112 §7.1).

use super::error::{H1Error, Kind};
use super::Limits;

/// Longest chunk-size line accepted, extensions included (bytes, CRLF
/// included): extensions are ignored, so they only need to be bounded.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

/// Where the decoder is in the chunked grammar.
///
/// ```text
/// chunked-body   = *chunk last-chunk trailer-section CRLF
/// chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// last-chunk     = 1*("0") [ chunk-ext ] CRLF
///
///  Size ─hex─▶ Size ─SP/HTAB─▶ SizeWs ─";"─▶ Ext ─CR─▶ SizeLf ─LF─┬─(size > 0)─▶ Data ─▶ DataCr ─▶ DataLf ─▶ Size
///                                                                 └─(size = 0)─▶ TrailerStart
///  TrailerStart ─tchar─▶ TrailerName ─":"─▶ TrailerValue ─CR─▶ TrailerLf ─LF─▶ TrailerStart
///  TrailerStart ─CR─▶ EndLf ─LF─▶ Done
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size.
    Size,
    /// Whitespace after the size, before `;` or CR.
    SizeWs,
    /// Inside chunk extensions (ignored) until CR.
    Ext,
    /// CR of the size line seen; LF expected.
    SizeLf,
    /// Inside chunk data; `remaining` bytes left.
    Data,
    /// Chunk data done; CR expected.
    DataCr,
    /// CR after chunk data seen; LF expected.
    DataLf,
    /// At the start of a trailer line or of the final empty line.
    TrailerStart,
    /// Inside a trailer field name.
    TrailerName,
    /// Inside a trailer field value.
    TrailerValue,
    /// CR of a trailer line seen; LF expected.
    TrailerLf,
    /// CR of the final empty line seen; LF expected.
    EndLf,
    /// The body is complete.
    Done,
}

/// Decodes a chunked body as its bytes arrive, each byte looked at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChunkedDecoder {
    /// Grammar position.
    state: State,
    /// The chunk size being read, then the data bytes still to copy.
    remaining: u64,
    /// Bytes of the current chunk-size line so far (bounded by [`MAX_CHUNK_LINE`]).
    line: usize,
    /// Bytes of the trailer section so far (bounded by `max_trailers`).
    trailer: usize,
    /// Offset in the caller's buffer of the next byte to decode.
    pos: usize,
}

/// Whether `b` may appear in a field name (RFC 9110 §5.6.2 `tchar`).
fn is_tchar(b: u8) -> bool {
    crate::proto::chars::is_tchar(b)
}

/// Whether `b` may appear in a field value or an ignored extension.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// The invalid-framing error.
const fn bad() -> H1Error {
    H1Error::new(Kind::BadChunk)
}

impl ChunkedDecoder {
    /// A decoder whose body starts at offset `start` of the caller's buffer.
    pub(crate) const fn new(start: usize) -> Self {
        ChunkedDecoder {
            state: State::Size,
            remaining: 0,
            line: 0,
            trailer: 0,
            pos: start,
        }
    }

    /// Offset just past the last byte decoded: once done, the end of the body.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The caller removed the bytes decoded so far, down to offset `to` (the
    /// body's start): the next byte to decode is there now.
    pub(crate) fn rebase(&mut self, to: usize) {
        self.pos = to;
    }

    /// Decodes the bytes of `buf` not decoded yet, appending chunk data to
    /// `out`; `true` once the body (trailers included) is complete.
    pub(crate) fn decode(
        &mut self,
        buf: &[u8],
        out: &mut Vec<u8>,
        limits: &Limits,
    ) -> Result<bool, H1Error> {
        while self.pos < buf.len() {
            if self.state == State::Done {
                return Ok(true);
            }
            if self.state == State::Data {
                let available = buf.len() - self.pos;
                let take = usize::try_from(self.remaining).map_or(available, |r| r.min(available));
                out.extend_from_slice(&buf[self.pos..self.pos + take]);
                self.pos += take;
                self.remaining -= take as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            let b = buf[self.pos];
            self.pos += 1;
            self.step(b, out.len(), limits)?;
        }
        Ok(self.state == State::Done)
    }

    /// One byte outside chunk data; `decoded` is the body size so far.
    fn step(&mut self, b: u8, decoded: usize, limits: &Limits) -> Result<(), H1Error> {
        use State::*;
        match self.state {
            Size | SizeWs | Ext | SizeLf => {
                self.line += 1;
                if self.line > MAX_CHUNK_LINE {
                    return Err(bad());
                }
            }
            TrailerStart | TrailerName | TrailerValue | TrailerLf | EndLf => {
                self.trailer += 1;
                if self.trailer > limits.max_trailers {
                    return Err(H1Error::new(Kind::TrailersTooLarge));
                }
            }
            Data | DataCr | DataLf | Done => {}
        }
        self.state = match (self.state, b) {
            (Size, _) if b.is_ascii_hexdigit() => {
                let digit = u64::from((b as char).to_digit(16).unwrap_or_default());
                self.remaining = self
                    .remaining
                    .checked_mul(16)
                    .and_then(|n| n.checked_add(digit))
                    .ok_or(bad())?;
                Size
            }
            // At least one digit before anything else.
            (Size, _) if self.line == 1 => return Err(bad()),
            (Size | SizeWs, b' ' | b'\t') => SizeWs,
            (Size | SizeWs, b';') => Ext,
            (Size | SizeWs | Ext, b'\r') => SizeLf,
            (Ext, _) if is_text(b) => Ext,
            (SizeLf, b'\n') => self.end_size_line(decoded, limits)?,
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => Size,
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | TrailerName, _) if is_tchar(b) => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerValue, _) if is_text(b) => TrailerValue,
            (TrailerLf, b'\n') => TrailerStart,
            (EndLf, b'\n') => Done,
            _ => return Err(bad()),
        };
        Ok(())
    }

    /// A complete size line: the last chunk, or data (if it fits `max_body`).
    fn end_size_line(&mut self, decoded: usize, limits: &Limits) -> Result<State, H1Error> {
        self.line = 0;
        if self.remaining == 0 {
            return Ok(State::TrailerStart);
        }
        if (decoded as u64).saturating_add(self.remaining) > limits.max_body {
            return Err(H1Error::new(Kind::BodyTooLarge));
        }
        Ok(State::Data)
    }
}
