//! Route patterns: parsing and validating `/static/:param/*catch-all` text into
//! segments, panicking with a clear message on a pattern no path could match.

use super::MAX_PARAMS;

/// One `/`-separated piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Literal text; empty only as the last segment (a trailing slash, or `/`).
    Static(Box<str>),
    /// `:name`: one whole, non-empty path segment.
    Param(Box<str>),
    /// `*name`: the rest of the path; always the last segment.
    CatchAll(Box<str>),
}

/// A validated pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    /// The text as registered (group prefix included).
    text: Box<str>,
    /// The text split on `/`, after the leading one.
    segments: Box<[Segment]>,
    /// The `:param` and `*catch-all` names, in order.
    param_names: Box<[Box<str>]>,
}

impl Pattern {
    /// Parses `text`.
    ///
    /// # Panics
    /// When the pattern does not start with `/`, has an empty parameter name,
    /// a catch-all that is not the last segment, an empty segment (`//`) other
    /// than a trailing slash, a parameter name used twice, or more than
    /// [`MAX_PARAMS`] parameters.
    pub(crate) fn parse(text: &str) -> Pattern {
        assert!(
            text.starts_with('/'),
            "route pattern `{text}` must start with `/`"
        );
        let pieces: Vec<&str> = text[1..].split('/').collect();
        let last = pieces.len() - 1;
        let mut segments = Vec::with_capacity(pieces.len());
        let mut param_names: Vec<Box<str>> = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let segment = parse_segment(text, piece, i == last);
            if let Segment::Param(name) | Segment::CatchAll(name) = &segment {
                assert!(
                    !param_names.contains(name),
                    "route pattern `{text}` uses the parameter name `{name}` twice"
                );
                param_names.push(name.clone());
            }
            segments.push(segment);
        }
        assert!(
            param_names.len() <= MAX_PARAMS,
            "route pattern `{text}` declares {} parameters; at most {MAX_PARAMS} are supported",
            param_names.len()
        );
        Pattern {
            text: text.into(),
            segments: segments.into(),
            param_names: param_names.into(),
        }
    }

    /// The text as registered.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The segments after the leading `/`.
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Parameter names, by position.
    pub(crate) fn param_names(&self) -> &[Box<str>] {
        &self.param_names
    }

    /// The pattern with parameter names erased: two patterns with the same
    /// shape match exactly the same paths, so they are the same route.
    pub(crate) fn shape(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        for segment in self.segments.iter() {
            out.push('/');
            match segment {
                Segment::Static(s) => out.push_str(s),
                Segment::Param(_) => out.push(':'),
                Segment::CatchAll(_) => out.push('*'),
            }
        }
        out
    }
}

/// Classifies one piece of `text`, validating it.
fn parse_segment(text: &str, piece: &str, is_last: bool) -> Segment {
    if let Some(name) = piece.strip_prefix(':') {
        assert!(
            !name.is_empty(),
            "route pattern `{text}` has an empty parameter name (`:`)"
        );
        Segment::Param(name.into())
    } else if let Some(name) = piece.strip_prefix('*') {
        assert!(
            !name.is_empty(),
            "route pattern `{text}` has an empty catch-all name (`*`)"
        );
        assert!(
            is_last,
            "route pattern `{text}`: catch-all `*{name}` must be the last segment"
        );
        Segment::CatchAll(name.into())
    } else {
        assert!(
            is_last || !piece.is_empty(),
            "route pattern `{text}` has an empty segment (`//`), which no path can match"
        );
        Segment::Static(piece.into())
    }
}
