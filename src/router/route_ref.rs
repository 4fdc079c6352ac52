//! `RouteRef`: the handle a registration returns, to set a route's dispatch,
//! name and route-level middleware.

use std::fmt;
use std::sync::Arc;

use super::url::UrlError;
use super::{Dispatch, Router};
use crate::handler::Middleware;

/// A just-registered route; its methods chain:
/// `router.get("/db", h).asynchronous().name("db")`.
///
/// # Examples
///
/// ```
/// use switchyard::handler::After;
/// use switchyard::{Ctx, Router};
///
/// let mut router = Router::new();
/// let route = router
///     .get("/reports/:year", |ctx| { ctx.text("report"); Ok(()) })
///     .asynchronous()
///     .name("report")
///     .with(After(|ctx: &mut Ctx<'_>| { ctx.set_header("cache-control", "max-age=86400"); }));
/// assert_eq!((route.method(), route.pattern()), ("GET", "/reports/:year"));
/// assert_eq!(router.url("report", &["2025"]).unwrap(), "/reports/2025");
/// assert!(router.table().route_async("GET", "/reports/2025"));
/// ```
pub struct RouteRef<'r> {
    /// The router holding the route.
    router: &'r mut Router,
    /// The route's index in the router.
    index: usize,
}

impl<'r> RouteRef<'r> {
    /// A handle on the route at `index`.
    pub(crate) fn new(router: &'r mut Router, index: usize) -> Self {
        RouteRef { router, index }
    }

    /// Runs the handler inline on the loop worker, whatever the group or
    /// server default says. Ignored, with a warning, for a future handler.
    pub fn sync(self) -> Self {
        self.dispatch(Dispatch::Inline)
    }

    /// Runs the handler off the loop, whatever the group or server default
    /// says.
    pub fn asynchronous(self) -> Self {
        self.dispatch(Dispatch::Async)
    }

    /// Lets the route learn where its handler runs ([`Dispatch::Learn`]):
    /// inline and timed at first, async for a while after slow runs, inline
    /// for good after 256 fast ones in a row. Ignored, with a warning, for a
    /// future handler.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Dispatch, Router};
    ///
    /// let mut router = Router::new();
    /// router
    ///     .get("/report", |ctx| { ctx.text("a report, quick or not"); Ok(()) })
    ///     .learn();
    /// let table = router.table();
    /// assert!(!table.route_async("GET", "/report")); // inline until it proves slow
    /// assert_eq!(table.learning_routes().len(), 1);
    /// ```
    pub fn learn(self) -> Self {
        self.dispatch(Dispatch::Learn)
    }

    /// Sets where the handler runs; overrides the group and server default.
    pub fn dispatch(self, dispatch: Dispatch) -> Self {
        self.router.set_route_dispatch(self.index, dispatch);
        self
    }

    /// Names the route for [`Router::url`].
    ///
    /// # Panics
    /// When another route already has this name;
    /// [`try_name`](Self::try_name) returns the error instead.
    pub fn name(self, name: &str) -> Self {
        if self.router.name_route(self.index, name).is_err() {
            let (method, pattern) = match self.router.named(name) {
                Some(other) => (&*other.method, other.pattern.text()),
                None => ("", ""),
            };
            panic!("route name `{name}` is already used by {method} {pattern}");
        }
        self
    }

    /// Names the route for [`Router::url`]; an error when another route
    /// already has this name.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/a", |ctx| { ctx.text("a"); Ok(()) }).name("home");
    /// let err = router
    ///     .get("/b", |ctx| { ctx.text("b"); Ok(()) })
    ///     .try_name("home")
    ///     .unwrap_err();
    /// assert!(err.is_duplicate_name());
    /// ```
    pub fn try_name(self, name: &str) -> Result<Self, UrlError> {
        self.router.name_route(self.index, name)?;
        Ok(self)
    }

    /// Adds middleware run after the global and group middleware, just
    /// before the handler. The route keeps its dispatch setting.
    pub fn with(self, mw: impl Middleware) -> Self {
        self.router.add_route_middleware(self.index, Arc::new(mw));
        self
    }

    /// The route's method token.
    pub fn method(&self) -> &str {
        &self.router.def(self.index).method
    }

    /// The route's full pattern, group prefix included.
    pub fn pattern(&self) -> &str {
        self.router.def(self.index).pattern.text()
    }
}

impl fmt::Debug for RouteRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteRef")
            .field("method", &self.method())
            .field("pattern", &self.pattern())
            .finish()
    }
}
