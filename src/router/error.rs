//! `RouteError`: why a route definition was refused (a pattern no path could
//! match, a method that is not a token, too many custom methods).

use std::fmt;

use super::MAX_PARAMS;

/// A route definition the router refuses.
///
/// [`Router::try_handle`](super::Router::try_handle) returns it; the
/// panicking forms (`get`, `handle`, ...) panic with its text.
///
/// # Examples
///
/// ```
/// use switchyard::{Handler, Router};
///
/// let mut router = Router::new();
/// let h = Handler::plain(|ctx| { ctx.text("hi"); Ok(()) });
///
/// let err = router.try_handle("GET", "/files/*rest/more", h.clone()).unwrap_err();
/// assert!(err.is_invalid_pattern());
/// assert_eq!(err.subject(), "/files/*rest/more");
/// println!("{err}"); // route pattern `/files/*rest/more`: catch-all `*rest` must be the last segment
///
/// let err = router.try_handle("GET POST", "/x", h).unwrap_err();
/// assert!(err.is_invalid_method());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteError {
    /// The refused pattern or method, as given.
    subject: Box<str>,
    /// What is wrong with it; private so new causes stay non-breaking.
    kind: Kind,
}

/// The private causes of a [`RouteError`].
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// The pattern does not start with `/`.
    NoLeadingSlash,
    /// `:` or `*` without a name.
    EmptyName { catch_all: bool },
    /// A catch-all that is not the last segment.
    CatchAllNotLast(Box<str>),
    /// `//` inside the pattern.
    EmptySegment,
    /// A parameter name used twice.
    DuplicateParam(Box<str>),
    /// More than [`MAX_PARAMS`] parameters.
    TooManyParams(usize),
    /// The method is not an HTTP token.
    BadMethod,
    /// One non-standard method more than the router supports.
    TooManyMethods(usize),
    /// Building the route table panicked (a bug); the routes are unchanged.
    Internal,
}

impl RouteError {
    fn new(subject: &str, kind: Kind) -> Self {
        RouteError {
            subject: subject.into(),
            kind,
        }
    }

    pub(crate) fn no_leading_slash(pattern: &str) -> Self {
        Self::new(pattern, Kind::NoLeadingSlash)
    }

    pub(crate) fn empty_name(pattern: &str, catch_all: bool) -> Self {
        Self::new(pattern, Kind::EmptyName { catch_all })
    }

    pub(crate) fn catch_all_not_last(pattern: &str, name: &str) -> Self {
        Self::new(pattern, Kind::CatchAllNotLast(name.into()))
    }

    pub(crate) fn empty_segment(pattern: &str) -> Self {
        Self::new(pattern, Kind::EmptySegment)
    }

    pub(crate) fn duplicate_param(pattern: &str, name: &str) -> Self {
        Self::new(pattern, Kind::DuplicateParam(name.into()))
    }

    pub(crate) fn too_many_params(pattern: &str, count: usize) -> Self {
        Self::new(pattern, Kind::TooManyParams(count))
    }

    pub(crate) fn bad_method(method: &str) -> Self {
        Self::new(method, Kind::BadMethod)
    }

    pub(crate) fn too_many_methods(method: &str, max: usize) -> Self {
        Self::new(method, Kind::TooManyMethods(max))
    }

    pub(crate) fn internal() -> Self {
        Self::new("", Kind::Internal)
    }

    /// Whether the pattern is malformed: no leading `/`, an empty parameter
    /// or catch-all name, a catch-all before the end, an empty segment, a
    /// parameter name used twice, or too many parameters.
    pub fn is_invalid_pattern(&self) -> bool {
        !matches!(
            self.kind,
            Kind::BadMethod | Kind::TooManyMethods(_) | Kind::Internal
        )
    }

    /// Whether the method is not an HTTP method token, or is one
    /// non-standard method more than the router supports.
    pub fn is_invalid_method(&self) -> bool {
        matches!(self.kind, Kind::BadMethod | Kind::TooManyMethods(_))
    }

    /// The pattern or method that was refused, as given.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.subject;
        match &self.kind {
            Kind::NoLeadingSlash => write!(f, "route pattern `{s}` must start with `/`"),
            Kind::EmptyName { catch_all: false } => {
                write!(f, "route pattern `{s}` has an empty parameter name (`:`)")
            }
            Kind::EmptyName { catch_all: true } => {
                write!(f, "route pattern `{s}` has an empty catch-all name (`*`)")
            }
            Kind::CatchAllNotLast(name) => write!(
                f,
                "route pattern `{s}`: catch-all `*{name}` must be the last segment"
            ),
            Kind::EmptySegment => write!(
                f,
                "route pattern `{s}` has an empty segment (`//`), which no path can match"
            ),
            Kind::DuplicateParam(name) => write!(
                f,
                "route pattern `{s}` uses the parameter name `{name}` twice"
            ),
            Kind::TooManyParams(n) => write!(
                f,
                "route pattern `{s}` declares {n} parameters; at most {MAX_PARAMS} are supported"
            ),
            Kind::BadMethod => write!(f, "route method `{s}` is not an HTTP method token"),
            Kind::TooManyMethods(max) => write!(
                f,
                "route method `{s}`: at most {max} non-standard methods are supported"
            ),
            Kind::Internal => f.write_str("building the route table failed; routes unchanged"),
        }
    }
}

impl std::error::Error for RouteError {}
