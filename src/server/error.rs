//! `RegisterError`: why a run-time route registration did not take effect.

use std::fmt;

use switchyard_actors::AskError;

use crate::router::RouteError;

/// A run-time registration that did not take effect: the route was refused,
/// or the server actor did not answer.
///
/// # Examples
///
/// ```
/// use switchyard::{Config, Handler, RouteSpec, Server};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() })
/// #     .start()?;
/// // A route read from outside the program, say an admin request.
/// let spec = RouteSpec {
///     method: "GET".into(),
///     path: "/files/*rest/more".into(), // a catch-all must come last
///     handler: Handler::plain(|ctx| { ctx.text("file"); Ok(()) }),
///     dispatch: None,
/// };
/// match handle.register(spec) {
///     Ok(()) => println!("route added"),
///     Err(e) if e.is_invalid_route() => println!("refused, nothing changed: {e}"),
///     Err(e) => return Err(e.into()), // the server did not answer
/// }
/// # handle.shutdown(std::time::Duration::from_secs(5))?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RegisterError {
    /// What went wrong; private so new causes stay non-breaking.
    kind: Kind,
}

/// The private causes of a [`RegisterError`].
#[derive(Clone, Debug)]
enum Kind {
    /// The router refused the definition; the table is unchanged.
    Route(RouteError),
    /// The ask failed (timeout, actor gone, mailbox full).
    Ask(AskError),
}

impl RegisterError {
    pub(crate) fn ask(err: AskError) -> Self {
        RegisterError {
            kind: Kind::Ask(err),
        }
    }

    /// Whether the route itself was refused (an invalid pattern or method);
    /// the served routes are unchanged.
    pub fn is_invalid_route(&self) -> bool {
        matches!(self.kind, Kind::Route(_))
    }

    /// Whether the server actor did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Ask(e) if e.is_timeout())
    }

    /// Whether the server actor has stopped (or is shutting down).
    pub fn is_closed(&self) -> bool {
        matches!(self.kind, Kind::Ask(e) if e.is_closed())
    }

    /// The router's reason, when the route was refused.
    pub fn route_error(&self) -> Option<&RouteError> {
        match &self.kind {
            Kind::Route(e) => Some(e),
            Kind::Ask(_) => None,
        }
    }
}

impl From<RouteError> for RegisterError {
    fn from(err: RouteError) -> Self {
        RegisterError {
            kind: Kind::Route(err),
        }
    }
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Route(e) => write!(f, "route refused: {e}"),
            Kind::Ask(e) => write!(f, "route registration: {e}"),
        }
    }
}

impl std::error::Error for RegisterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Route(e) => Some(e),
            Kind::Ask(e) => Some(e),
        }
    }
}
