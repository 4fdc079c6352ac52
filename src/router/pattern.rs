//! Route patterns: parsing and validating `/static/:param/*catch-all` text into
//! segments, refusing with a [`RouteError`] a pattern no path could match.

use super::{RouteError, MAX_PARAMS};

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
    /// Parses `text`, panicking with the [`RouteError`]'s text on an invalid
    /// pattern (see [`Pattern::try_parse`]).
    #[cfg(test)]
    pub(crate) fn parse(text: &str) -> Pattern {
        Self::try_parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Parses and validates `text`.
    ///
    /// Refused: a pattern that does not start with `/`, has an empty
    /// parameter name, a catch-all that is not the last segment, an empty
    /// segment (`//`) other than a trailing slash, a parameter name used
    /// twice, or more than [`MAX_PARAMS`] parameters.
    pub(crate) fn try_parse(text: &str) -> Result<Pattern, RouteError> {
        let Some(rest) = text.strip_prefix('/') else {
            return Err(RouteError::no_leading_slash(text));
        };
        let pieces: Vec<&str> = rest.split('/').collect();
        let last = pieces.len() - 1;
        let mut segments = Vec::with_capacity(pieces.len());
        let mut param_names: Vec<Box<str>> = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let segment = parse_segment(text, piece, i == last)?;
            if let Segment::Param(name) | Segment::CatchAll(name) = &segment {
                if param_names.contains(name) {
                    return Err(RouteError::duplicate_param(text, name));
                }
                param_names.push(name.clone());
            }
            segments.push(segment);
        }
        if param_names.len() > MAX_PARAMS {
            return Err(RouteError::too_many_params(text, param_names.len()));
        }
        Ok(Pattern {
            text: text.into(),
            segments: segments.into(),
            param_names: param_names.into(),
        })
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
fn parse_segment(text: &str, piece: &str, is_last: bool) -> Result<Segment, RouteError> {
    if let Some(name) = piece.strip_prefix(':') {
        if name.is_empty() {
            return Err(RouteError::empty_name(text, false));
        }
        Ok(Segment::Param(name.into()))
    } else if let Some(name) = piece.strip_prefix('*') {
        if name.is_empty() {
            return Err(RouteError::empty_name(text, true));
        }
        if !is_last {
            return Err(RouteError::catch_all_not_last(text, name));
        }
        Ok(Segment::CatchAll(name.into()))
    } else if !is_last && piece.is_empty() {
        Err(RouteError::empty_segment(text))
    } else {
        Ok(Segment::Static(piece.into()))
    }
}
