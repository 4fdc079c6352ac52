//! `Route`: one compiled route of a table — method, pattern, handler, its
//! composed middleware and its resolved dispatch.

use std::fmt;

use super::pattern::Pattern;
use super::Dispatch;
use crate::handler::{Handler, SharedMiddleware};

/// A route as compiled into a [`RouteTable`](super::RouteTable).
pub struct Route {
    /// Method token it answers (case-sensitive).
    pub(super) method: Box<str>,
    /// Its validated pattern, group prefix included.
    pub(super) pattern: Pattern,
    /// Its handler.
    pub(super) handler: Handler,
    /// Global, then group, then route middleware.
    pub(super) middleware: Box<[SharedMiddleware]>,
    /// Where its handler runs, precedence already resolved.
    pub(super) dispatch: Dispatch,
    /// Its name for URL reversal.
    pub(super) name: Option<Box<str>>,
}

impl Route {
    /// The method token this route answers.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The pattern, as registered (`/users/:id`).
    pub fn pattern(&self) -> &str {
        self.pattern.text()
    }

    /// The `:param` and `*catch-all` names, by position (the order of a
    /// lookup's [`Params`](super::Params)).
    pub fn param_names(&self) -> &[Box<str>] {
        self.pattern.param_names()
    }

    /// The handler.
    pub fn handler(&self) -> &Handler {
        &self.handler
    }

    /// The middleware to run around the handler: global, group, then route.
    pub fn middleware(&self) -> &[SharedMiddleware] {
        &self.middleware
    }

    /// Where the handler runs.
    pub fn dispatch(&self) -> Dispatch {
        self.dispatch
    }

    /// The route's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The validated pattern (for URL reversal).
    pub(crate) fn parsed_pattern(&self) -> &Pattern {
        &self.pattern
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("pattern", &self.pattern.text())
            .field("handler", &self.handler)
            .field("middleware", &self.middleware.len())
            .field("dispatch", &self.dispatch)
            .field("name", &self.name)
            .finish()
    }
}
