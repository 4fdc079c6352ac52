//! `Group`: routes registered under a shared prefix, middleware and dispatch
//! setting, with sub-groups that copy their parent's settings at creation.

use std::fmt;
use std::sync::Arc;

use super::{Dispatch, RouteError, RouteRef, Router};
use crate::handler::{Handler, Middleware, SharedMiddleware};

/// A route group. Its middleware and dispatch setting apply to routes
/// registered on it *afterwards*: each route captures them at registration.
///
/// # Examples
///
/// ```
/// use switchyard::handler::Before;
/// use switchyard::{Ctx, Flow, HttpError, Router};
///
/// let mut router = Router::new();
/// router.get("/", |ctx| { ctx.text("home"); Ok(()) });
/// {
///     let mut admin = router.group("/admin");
///     admin.use_middleware(Before(|ctx: &mut Ctx<'_>| match ctx.header("x-admin") {
///         Some(_) => Ok(Flow::Continue),
///         None => Err(HttpError::new(403, "admins only")),
///     }));
///     admin.get("/stats", |ctx| { ctx.text("stats"); Ok(()) });
///     admin.post("/flush", |ctx| { ctx.no_content(204); Ok(()) });
/// } // the group borrows the router until here
/// let table = router.table();
/// let middleware = |path| table.routes().find(|r| r.pattern() == path).unwrap().middleware().len();
/// assert_eq!((middleware("/"), middleware("/admin/stats")), (0, 1));
/// ```
pub struct Group<'r> {
    /// The router routes are registered into.
    router: &'r mut Router,
    /// Prepended to every pattern (plain concatenation).
    prefix: String,
    /// Middleware of routes registered from now on, after the global ones.
    middleware: Vec<SharedMiddleware>,
    /// Explicit dispatch of routes registered from now on.
    dispatch: Option<Dispatch>,
}

impl<'r> Group<'r> {
    /// A group over `router`.
    pub(crate) fn new(
        router: &'r mut Router,
        prefix: String,
        middleware: Vec<SharedMiddleware>,
        dispatch: Option<Dispatch>,
    ) -> Self {
        Group {
            router,
            prefix,
            middleware,
            dispatch,
        }
    }

    /// Adds middleware to routes registered on this group from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::handler::After;
    /// use switchyard::{Ctx, Router};
    ///
    /// let mut router = Router::new();
    /// let mut api = router.group("/api");
    /// api.get("/before", |ctx| { ctx.text("no header"); Ok(()) });
    /// api.use_middleware(After(|ctx: &mut Ctx<'_>| {
    ///     ctx.set_header("cache-control", "no-store");
    /// }));
    /// api.get("/after", |ctx| { ctx.text("with header"); Ok(()) });
    /// let table = router.table();
    /// let middleware = |path| table.routes().find(|r| r.pattern() == path).unwrap().middleware().len();
    /// assert_eq!((middleware("/api/before"), middleware("/api/after")), (0, 1));
    /// ```
    pub fn use_middleware(&mut self, mw: impl Middleware) -> &mut Self {
        self.middleware.push(Arc::new(mw));
        self
    }

    /// Routes registered from now on run inline unless they say otherwise.
    pub fn sync(&mut self) -> &mut Self {
        self.dispatch(Dispatch::Inline)
    }

    /// Routes registered from now on run async unless they say otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// let mut db = router.group("/db");
    /// db.asynchronous();
    /// db.get("/rows", |ctx| {
    ///     std::thread::sleep(std::time::Duration::from_millis(5)); // a blocking query
    ///     ctx.text("rows");
    ///     Ok(())
    /// });
    /// assert!(router.table().route_async("GET", "/db/rows"));
    /// ```
    pub fn asynchronous(&mut self) -> &mut Self {
        self.dispatch(Dispatch::Async)
    }

    /// Routes registered from now on learn where they run
    /// ([`Dispatch::Learn`]) unless they say otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// let mut reports = router.group("/reports");
    /// reports.learn();
    /// reports.get("/daily", |ctx| { ctx.text("daily"); Ok(()) });
    /// reports.get("/live", |ctx| { ctx.text("live"); Ok(()) }).sync();
    /// assert_eq!(router.table().learning_routes().len(), 1);
    /// ```
    pub fn learn(&mut self) -> &mut Self {
        self.dispatch(Dispatch::Learn)
    }

    /// Sets the dispatch of routes registered from now on, overriding the
    /// server default; a route's own setting still wins.
    pub fn dispatch(&mut self, dispatch: Dispatch) -> &mut Self {
        self.dispatch = Some(dispatch);
        self
    }

    /// A sub-group: its prefix is this group's prefix followed by `prefix`;
    /// it starts with a copy of this group's middleware and dispatch setting.
    /// Later changes on either side do not reach the other.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// let mut api = router.group("/api");
    /// api.asynchronous();
    /// let mut v2 = api.group("/v2"); // async too, from its parent
    /// assert_eq!(v2.prefix(), "/api/v2");
    /// v2.get("/items", |ctx| { ctx.text("items"); Ok(()) });
    /// assert!(router.table().route_async("GET", "/api/v2/items"));
    /// ```
    pub fn group(&mut self, prefix: &str) -> Group<'_> {
        let prefix = format!("{}{prefix}", self.prefix);
        Group::new(self.router, prefix, self.middleware.clone(), self.dispatch)
    }

    method_shortcuts!(
        "let mut router = switchyard::Router::new();\nlet mut r = router.group(\"/api\");"
    );

    /// Registers `handler` for any method token under this group's prefix.
    ///
    /// # Panics
    /// As [`Router::handle`].
    pub fn handle(&mut self, method: &str, path: &str, handler: Handler) -> RouteRef<'_> {
        self.try_handle(method, path, handler)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`handle`](Self::handle) returning an invalid definition as an error
    /// (see [`Router::try_handle`](super::Router::try_handle)).
    pub fn try_handle(
        &mut self,
        method: &str,
        path: &str,
        handler: Handler,
    ) -> Result<RouteRef<'_>, RouteError> {
        let pattern = format!("{}{path}", self.prefix);
        let mw = self.middleware.clone();
        let index = self
            .router
            .register(method, &pattern, handler, mw, self.dispatch)?;
        Ok(RouteRef::new(self.router, index))
    }

    /// The group's prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Debug for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("prefix", &self.prefix)
            .field("middleware", &self.middleware.len())
            .field("dispatch", &self.dispatch)
            .finish()
    }
}
