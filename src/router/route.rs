//! `Route`: one compiled route of a table — method, pattern, handler, its
//! composed middleware, its resolved dispatch and, for a learning route, the
//! state that decides it per request.

use std::fmt;
use std::sync::Arc;

use super::learn::{Learner, Verdict};
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
    /// A [`Dispatch::Learn`] route's state (shared with the other snapshots
    /// holding the route); `None` for every other route.
    pub(super) learner: Option<Arc<Learner>>,
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

    /// Where the handler runs, as configured ([`Dispatch::Learn`] for a
    /// learning route; [`dispatch_now`](Self::dispatch_now) says where it
    /// runs now).
    pub fn dispatch(&self) -> Dispatch {
        self.dispatch
    }

    /// Where the handler of a request arriving now runs:
    /// [`Dispatch::Inline`] or [`Dispatch::Async`], never `Learn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::Lookup;
    /// use switchyard::{Dispatch, Router};
    ///
    /// let mut router = Router::new();
    /// router.get("/report", |ctx| { ctx.text("done"); Ok(()) }).learn();
    /// let table = router.table();
    /// let Lookup::Found(m) = table.lookup("GET", "/report") else { panic!() };
    /// assert_eq!(m.route.dispatch(), Dispatch::Learn);
    /// assert_eq!(m.route.dispatch_now(), Dispatch::Inline); // until it proves slow
    /// ```
    #[inline]
    pub fn dispatch_now(&self) -> Dispatch {
        self.decide().0
    }

    /// Where a request arriving now runs, and the learner to time it with
    /// when it runs inline while its route is learning.
    #[inline]
    pub(crate) fn decide(&self) -> (Dispatch, Option<&Learner>) {
        match &self.learner {
            None => (self.dispatch, None),
            Some(l) => match l.verdict() {
                Verdict::Inline => (Dispatch::Inline, None),
                Verdict::Timed => (Dispatch::Inline, Some(l)),
                Verdict::Async => (Dispatch::Async, None),
            },
        }
    }

    /// A learning route's state and telemetry.
    pub(crate) fn learner(&self) -> Option<&Learner> {
        self.learner.as_deref()
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
