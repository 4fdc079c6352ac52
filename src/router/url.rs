//! URL reversal for named routes, and `UrlError`, the error naming and
//! reversal report.

use std::fmt;

use super::pattern::{Pattern, Segment};

/// Why a URL could not be built or a route could not be named.
///
/// # Examples
///
/// ```
/// use switchyard::Router;
///
/// let mut router = Router::new();
/// router.get("/users/:id", |ctx| { ctx.text("user"); Ok(()) }).name("user");
/// let err = router.url("user", &["1", "2"]).unwrap_err();
/// assert!(err.is_too_many_params());
/// assert_eq!(err.to_string(), "too many params: expected 1, got 2");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError {
    /// What went wrong.
    kind: Kind,
}

/// The private cause of a [`UrlError`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// No route has this name.
    UnknownName(Box<str>),
    /// The name is already taken by another route.
    DuplicateName(Box<str>),
    /// Fewer values than the pattern has parameters.
    NotEnoughParams { expected: usize, got: usize },
    /// More values than the pattern has parameters.
    TooManyParams { expected: usize, got: usize },
}

impl UrlError {
    /// No route is registered under `name`.
    pub(crate) fn unknown_name(name: &str) -> Self {
        UrlError {
            kind: Kind::UnknownName(name.into()),
        }
    }

    /// `name` is already used by another route.
    pub(crate) fn duplicate_name(name: &str) -> Self {
        UrlError {
            kind: Kind::DuplicateName(name.into()),
        }
    }

    /// Whether no route has the requested name.
    pub fn is_unknown_name(&self) -> bool {
        matches!(self.kind, Kind::UnknownName(_))
    }

    /// Whether the name given to a route was already in use.
    pub fn is_duplicate_name(&self) -> bool {
        matches!(self.kind, Kind::DuplicateName(_))
    }

    /// Whether fewer values were given than the pattern has parameters.
    pub fn is_not_enough_params(&self) -> bool {
        matches!(self.kind, Kind::NotEnoughParams { .. })
    }

    /// Whether more values were given than the pattern has parameters.
    pub fn is_too_many_params(&self) -> bool {
        matches!(self.kind, Kind::TooManyParams { .. })
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::UnknownName(name) => write!(f, "no route is named `{name}`"),
            Kind::DuplicateName(name) => write!(f, "route name `{name}` is already in use"),
            Kind::NotEnoughParams { expected, got } => {
                write!(f, "not enough params: expected {expected}, got {got}")
            }
            Kind::TooManyParams { expected, got } => {
                write!(f, "too many params: expected {expected}, got {got}")
            }
        }
    }
}

impl std::error::Error for UrlError {}

/// Builds a path from `pattern`, each `:param` and `*catch-all` taking the next
/// value verbatim (no encoding). A catch-all value's leading `/` is not
/// doubled, and an empty catch-all value drops the `/` before it.
pub(crate) fn reverse(pattern: &Pattern, values: &[&str]) -> Result<String, UrlError> {
    let expected = pattern.param_names().len();
    let got = values.len();
    if got < expected {
        return Err(UrlError {
            kind: Kind::NotEnoughParams { expected, got },
        });
    }
    if got > expected {
        return Err(UrlError {
            kind: Kind::TooManyParams { expected, got },
        });
    }
    let mut values = values.iter();
    let mut out = String::with_capacity(pattern.text().len() + 16);
    for segment in pattern.segments() {
        out.push('/');
        match segment {
            Segment::Static(text) => out.push_str(text),
            Segment::Param(_) => out.push_str(values.next().copied().unwrap_or_default()),
            Segment::CatchAll(_) => {
                let value = values.next().copied().unwrap_or_default();
                if value.is_empty() && out.len() > 1 {
                    out.pop();
                }
                out.push_str(value.strip_prefix('/').unwrap_or(value));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(pattern: &str, values: &[&str]) -> Result<String, UrlError> {
        reverse(&Pattern::parse(pattern), values)
    }

    #[test]
    fn root_catch_all_with_empty_value_keeps_the_root() {
        assert_eq!(url("/*p", &[""]).unwrap(), "/");
        assert_eq!(url("/*p", &["/a/b"]).unwrap(), "/a/b");
    }

    #[test]
    fn static_patterns_reverse_to_themselves() {
        assert_eq!(url("/", &[]).unwrap(), "/");
        assert_eq!(url("/users/", &[]).unwrap(), "/users/");
    }
}
