//! The path rules applied before routing: percent-escapes must be
//! well-formed and decode to UTF-8 (else 400), dot segments are removed
//! (RFC 3986 §5.2.4), and captured values are percent-decoded after the
//! path was split into segments, `%2F` excepted.
//!
//! Clean paths — no `%`, no `.` or `..` segment — pass without allocating.

use std::borrow::Cow;

use crate::handler::Ctx;

/// Why a path cannot be routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    /// `%` not followed by two hex digits.
    BadEscape,
    /// A segment whose escapes decode to bytes that are not UTF-8.
    NotUtf8,
}

impl PathError {
    /// The 400 body.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            PathError::BadEscape => "invalid percent-encoding in the request path",
            PathError::NotUtf8 => "the request path does not decode to UTF-8",
        }
    }
}

/// The value of a hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte `%XX` at `i` of `s` encodes, if it is a well-formed escape.
fn escape_at(s: &[u8], i: usize) -> Option<u8> {
    Some(hex(*s.get(i + 1)?)? << 4 | hex(*s.get(i + 2)?)?)
}

/// Applies the path rules to the request's path before routing: a clean
/// path passes untouched; dot segments are removed; a malformed escape or
/// one that does not decode to UTF-8 is the error (answered 400).
#[inline]
pub(crate) fn apply(ctx: &mut Ctx<'_>) -> Result<(), PathError> {
    if is_plain(ctx.path()) {
        return Ok(());
    }
    normalize(ctx)
}

/// [`apply`] for a path with an escape or a dot.
#[cold]
fn normalize(ctx: &mut Ctx<'_>) -> Result<(), PathError> {
    check(ctx.path())?;
    if let Some(normalized) = remove_dot_segments(ctx.path()) {
        ctx.set_path(normalized);
    }
    Ok(())
}

/// Whether `path` has neither an escape nor a dot, so no path rule applies
/// (nearly every request).
pub(crate) fn is_plain(path: &str) -> bool {
    let b = path.as_bytes();
    // PERF: request paths are short; a branch-free pass costs less than the
    // set-up of a vectorised search.
    if b.len() <= 64 {
        return b
            .iter()
            .fold(true, |plain, &c| plain & (c != b'%') & (c != b'.'));
    }
    memchr::memchr2(b'%', b'.', b).is_none()
}

/// Checks every escape of `path` and that each segment decodes to UTF-8.
pub(crate) fn check(path: &str) -> Result<(), PathError> {
    if memchr::memchr(b'%', path.as_bytes()).is_none() {
        return Ok(());
    }
    let mut decoded = Vec::new();
    for segment in path.split('/') {
        decoded.clear();
        let s = segment.as_bytes();
        let mut i = 0;
        while i < s.len() {
            if s[i] == b'%' {
                decoded.push(escape_at(s, i).ok_or(PathError::BadEscape)?);
                i += 3;
            } else {
                decoded.push(s[i]);
                i += 1;
            }
        }
        std::str::from_utf8(&decoded).map_err(|_| PathError::NotUtf8)?;
    }
    Ok(())
}

/// Whether `segment` is `.` (`dots == 1`) or `..` (`dots == 2`), with any
/// dot possibly written `%2E` / `%2e`.
fn is_dots(segment: &str, dots: usize) -> bool {
    let s = segment.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < s.len() {
        if s[i] == b'.' {
            i += 1;
        } else if s[i] == b'%'
            && s.get(i + 1) == Some(&b'2')
            && matches!(s.get(i + 2), Some(b'e' | b'E'))
        {
            i += 3;
        } else {
            return false;
        }
        n += 1;
    }
    n == dots
}

/// `path` with its dot segments removed (RFC 3986 §5.2.4), or `None` when it
/// has none (the common case, decided without allocating). A `..` never
/// climbs above the root; a path ending in a dot segment keeps its
/// trailing slash (`/a/b/..` → `/a/`).
pub(crate) fn remove_dot_segments(path: &str) -> Option<String> {
    let b = path.as_bytes();
    if !path.starts_with('/') {
        return None;
    }
    // A dot segment needs a `.` (or its escape `%2E`): one scan rules most
    // paths out.
    let suspicious = memchr::memchr2(b'.', b'%', b).is_some();
    if !suspicious || !path.split('/').any(|s| is_dots(s, 1) || is_dots(s, 2)) {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path[1..].split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        if is_dots(segment, 1) {
            if i == last {
                out.push("");
            }
        } else if is_dots(segment, 2) {
            out.pop();
            if i == last {
                out.push("");
            }
        } else {
            out.push(segment);
        }
    }
    let mut normalized = String::with_capacity(path.len());
    for segment in &out {
        normalized.push('/');
        normalized.push_str(segment);
    }
    if normalized.is_empty() {
        normalized.push('/');
    }
    Some(normalized)
}

/// A captured value, percent-decoded, except `%2F`, which stays as sent so
/// a decoded value never holds a `/` that was not a separator in the
/// request. Never fails: a malformed escape is kept as is and bytes that are
/// not UTF-8 become U+FFFD (a path [`check`] accepted has neither).
pub(crate) fn decode(value: &str) -> Cow<'_, str> {
    if memchr::memchr(b'%', value.as_bytes()).is_none() {
        return Cow::Borrowed(value);
    }
    let s = value.as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (s[i], escape_at(s, i)) {
            (b'%', Some(byte)) if byte != b'/' => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}
