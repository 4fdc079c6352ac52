//! `Router`: the mutable set of route definitions, global and pre-routing
//! middleware, and the server's default dispatch, compiled into
//! [`RouteTable`] snapshots.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::learn::Learner;
use super::methods::{standard_slot, MAX_CUSTOM_METHODS};
use super::pattern::Pattern;
use super::route::Route;
use super::url::{reverse, UrlError};
use super::{Dispatch, Group, PreFn, RouteError, RouteRef, RouteTable};
use crate::handler::{Ctx, Flow, Handler, HttpError, Middleware, SharedMiddleware};

/// A route as registered, before global middleware and the server default
/// are applied.
#[derive(Clone)]
pub(crate) struct RouteDef {
    /// Method token.
    pub(crate) method: Box<str>,
    /// Validated pattern, group prefix included.
    pub(crate) pattern: Pattern,
    /// Handler.
    handler: Handler,
    /// The group's middleware as of registration.
    group_mw: Vec<SharedMiddleware>,
    /// Middleware added with `RouteRef::with`.
    route_mw: Vec<SharedMiddleware>,
    /// The group's explicit dispatch as of registration.
    group_dispatch: Option<Dispatch>,
    /// The route's explicit dispatch.
    route_dispatch: Option<Dispatch>,
    /// What the route learnt, if it resolves to [`Dispatch::Learn`]: kept
    /// across table builds, started afresh when its dispatch is set again.
    learner: Arc<Learner>,
    /// Name for URL reversal.
    pub(crate) name: Option<Box<str>>,
}

impl RouteDef {
    /// Route explicit, else group explicit, else the server default; a future
    /// handler is always async.
    fn resolve(&self, default: Dispatch) -> Dispatch {
        if self.handler.is_future() {
            return Dispatch::Async;
        }
        self.route_dispatch
            .or(self.group_dispatch)
            .unwrap_or(default)
    }

    /// The compiled route: middleware composed global, group, route.
    pub(crate) fn compile(&self, global: &[SharedMiddleware], default: Dispatch) -> Route {
        let middleware: Vec<SharedMiddleware> = global
            .iter()
            .chain(&self.group_mw)
            .chain(&self.route_mw)
            .cloned()
            .collect();
        let dispatch = self.resolve(default);
        Route {
            method: self.method.clone(),
            pattern: self.pattern.clone(),
            handler: self.handler.clone(),
            middleware: middleware.into(),
            dispatch,
            learner: (dispatch == Dispatch::Learn).then(|| self.learner.clone()),
            name: self.name.clone(),
        }
    }
}

/// The route definitions of a server. Register routes, groups and
/// middleware, then compile an immutable [`RouteTable`] with
/// [`Router::table`]; the router stays usable, so a later registration can
/// build the next snapshot.
///
/// # Examples
///
/// ```
/// use switchyard::router::Lookup;
/// use switchyard::{Dispatch, Router};
///
/// let mut router = Router::new();
/// router.get("/", |ctx| { ctx.text("home"); Ok(()) });
/// router.get("/users/:id", |ctx| { ctx.text("a user"); Ok(()) });
/// router.get("/users/me", |ctx| { ctx.text("you"); Ok(()) }); // static beats :id
/// router.get("/files/*path", |ctx| { ctx.text("a file"); Ok(()) });
/// router.post("/reports", |ctx| { ctx.text("queued"); Ok(()) }).asynchronous();
///
/// let table = router.table();
/// let Lookup::Found(m) = table.lookup("GET", "/users/me") else { panic!() };
/// assert_eq!(m.route.pattern(), "/users/me");
/// let Lookup::Found(m) = table.lookup("GET", "/files/a/b.txt") else { panic!() };
/// assert_eq!(m.params.value("/files/a/b.txt", 0), Some("a/b.txt"));
/// let Lookup::Found(m) = table.lookup("POST", "/reports") else { panic!() };
/// assert_eq!(m.route.dispatch(), Dispatch::Async);
/// assert!(matches!(table.lookup("DELETE", "/reports"), Lookup::MethodNotAllowed(_)));
/// assert!(matches!(table.lookup("GET", "/nothing"), Lookup::NotFound));
/// ```
#[derive(Clone, Default)]
pub struct Router {
    /// Definitions in registration order; a duplicate replaces in place.
    pub(crate) defs: Vec<RouteDef>,
    /// `"METHOD shape"` → index in `defs`, to find duplicates.
    by_shape: HashMap<String, usize>,
    /// Route names → index in `defs`.
    names: HashMap<Box<str>, usize>,
    /// Distinct non-standard method tokens, capped at `MAX_CUSTOM_METHODS`.
    custom_methods: Vec<Box<str>>,
    /// Middleware applied to every route and to the 404/405 fallbacks.
    pub(crate) global: Vec<SharedMiddleware>,
    /// Hooks run before routing.
    pub(crate) pre: Vec<PreFn>,
    /// Dispatch of routes with no explicit setting, applied at table build.
    pub(crate) default_dispatch: Dispatch,
}

impl Router {
    /// An empty router; routes default to [`Dispatch::Inline`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the dispatch of routes that neither they nor their group chose;
    /// applied when a table is built, whatever the registration order.
    /// A server sets it from [`Config::async_handlers`](crate::Config::async_handlers).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::Lookup;
    /// use switchyard::{Dispatch, Router};
    ///
    /// let mut router = Router::new();
    /// router.get("/a", |ctx| { ctx.text("a"); Ok(()) });
    /// router.get("/b", |ctx| { ctx.text("b"); Ok(()) }).sync(); // its own choice wins
    /// router.set_default_dispatch(Dispatch::Async);
    ///
    /// let table = router.table();
    /// let dispatch = |path| match table.lookup("GET", path) {
    ///     Lookup::Found(m) => m.route.dispatch(),
    ///     _ => unreachable!(),
    /// };
    /// assert_eq!(dispatch("/a"), Dispatch::Async);
    /// assert_eq!(dispatch("/b"), Dispatch::Inline);
    /// ```
    pub fn set_default_dispatch(&mut self, dispatch: Dispatch) {
        self.default_dispatch = dispatch;
    }

    method_shortcuts!("let mut r = switchyard::Router::new();");

    /// Registers `handler` for any method token (case-sensitive), such as
    /// `PROPFIND`. A second registration of the same method and pattern shape
    /// replaces the first, with a warning.
    ///
    /// # Panics
    /// With the [`RouteError`]'s text on an invalid pattern (see the module
    /// docs), a method that is not an HTTP token, or a 65th distinct
    /// non-standard method; [`try_handle`](Self::try_handle) returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::Lookup;
    /// use switchyard::{Handler, Router};
    ///
    /// let mut router = Router::new();
    /// router.handle("PROPFIND", "/dav/*path", Handler::plain(|ctx| {
    ///     ctx.status(207).bytes("application/xml", b"<multistatus/>");
    ///     Ok(())
    /// }));
    /// assert!(matches!(router.table().lookup("PROPFIND", "/dav/a"), Lookup::Found(_)));
    /// ```
    pub fn handle(&mut self, method: &str, path: &str, handler: Handler) -> RouteRef<'_> {
        self.try_handle(method, path, handler)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`handle`](Self::handle) for definitions that come from outside the
    /// program (a config file, a request): an invalid pattern or method is
    /// an error instead of a panic, and the router is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Handler, Router};
    ///
    /// let mut r = Router::new();
    /// let ok = Handler::plain(|ctx| { ctx.text("hi"); Ok(()) });
    /// assert!(r.try_handle("GET", "/users/:id", ok.clone()).is_ok());
    /// let err = r.try_handle("GET", "/users/:", ok).unwrap_err();
    /// assert!(err.is_invalid_pattern());
    /// ```
    pub fn try_handle(
        &mut self,
        method: &str,
        path: &str,
        handler: Handler,
    ) -> Result<RouteRef<'_>, RouteError> {
        let index = self.register(method, path, handler, Vec::new(), None)?;
        Ok(RouteRef::new(self, index))
    }

    /// Adds middleware run around every route — including routes registered
    /// earlier — and around the 404/405 fallbacks. Global middleware runs
    /// before group and route middleware.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::handler::After;
    /// use switchyard::{Ctx, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// router.get("/", |ctx| { ctx.text("home"); Ok(()) });
    /// router.use_middleware(After(|ctx: &mut Ctx<'_>| {
    ///     ctx.set_header("x-content-type-options", "nosniff");
    /// }));
    /// // Both `/` and an unknown path (404) carry the header.
    /// # let reply = serve(router.clone(), "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.contains("x-content-type-options: nosniff\r\n"), "{reply}");
    /// # let reply = serve(router, "GET /missing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.starts_with("HTTP/1.1 404 "), "{reply}");
    /// # assert!(reply.contains("x-content-type-options: nosniff\r\n"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn use_middleware(&mut self, mw: impl Middleware) -> &mut Self {
        self.global.push(Arc::new(mw));
        self
    }

    /// Adds a hook run before routing on every request; it may rewrite the
    /// method and path (`Ctx::set_method`, `Ctx::set_path`), or answer and
    /// return [`Flow::Stop`] to skip routing.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Flow, Router};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut router = Router::new();
    /// // Clients that cannot send DELETE tunnel it through POST.
    /// router.pre(|ctx| {
    ///     if ctx.method() == "POST" {
    ///         if let Some(method) = ctx.header("x-http-method-override") {
    ///             ctx.set_method(method);
    ///         }
    ///     }
    ///     Ok(Flow::Continue)
    /// });
    /// router.delete("/items/:id", |ctx| {
    ///     let body = format!("deleted {}", ctx.param("id").unwrap_or(""));
    ///     ctx.text(&body);
    ///     Ok(())
    /// });
    /// # let reply = serve(router, "POST /items/4 HTTP/1.1\r\nHost: localhost\r\nX-HTTP-Method-Override: DELETE\r\nConnection: close\r\n\r\n")?;
    /// # assert!(reply.ends_with("\r\n\r\ndeleted 4"), "{reply}");
    /// # Ok(())
    /// # }
    /// # fn serve(router: switchyard::Router, request: &str) -> Result<String, Box<dyn std::error::Error>> {
    /// #     use std::io::{Read, Write};
    /// #     let config = switchyard::Config { addr: "127.0.0.1:0".into(), workers: 1, ..Default::default() };
    /// #     let handle = switchyard::ServerActor::spawn(config, router)?;
    /// #     let mut conn = std::net::TcpStream::connect(handle.local_addr())?;
    /// #     conn.write_all(request.as_bytes())?;
    /// #     let mut reply = String::new();
    /// #     conn.read_to_string(&mut reply)?;
    /// #     drop(conn);
    /// #     handle.shutdown(std::time::Duration::from_secs(5))?;
    /// #     Ok(reply)
    /// # }
    /// ```
    pub fn pre(
        &mut self,
        f: impl Fn(&mut Ctx<'_>) -> Result<Flow, HttpError> + Send + Sync + 'static,
    ) -> &mut Self {
        self.pre.push(Arc::new(f));
        self
    }

    /// A group of routes sharing `prefix` (plain concatenation), middleware
    /// and a dispatch setting.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Dispatch, Router};
    ///
    /// let mut router = Router::new();
    /// let mut api = router.group("/api/v1");
    /// api.asynchronous(); // the API talks to a database: off the loop
    /// api.get("/users", |ctx| { ctx.text("users"); Ok(()) });
    /// api.get("/health", |ctx| { ctx.text("ok"); Ok(()) }).sync(); // cheap: inline
    ///
    /// let table = router.table();
    /// assert!(table.route_async("GET", "/api/v1/users"));
    /// assert!(!table.route_async("GET", "/api/v1/health"));
    /// ```
    pub fn group(&mut self, prefix: &str) -> Group<'_> {
        Group::new(self, prefix.to_owned(), Vec::new(), None)
    }

    /// The path of the route named `name`, each parameter taking the next
    /// value (see [`RouteTable::url`]). Values are inserted verbatim:
    /// percent-encode them first if they may hold reserved characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/users/:id/posts/:post", |ctx| { ctx.text("post"); Ok(()) }).name("post");
    /// assert_eq!(router.url("post", &["7", "hello"]).unwrap(), "/users/7/posts/hello");
    /// assert!(router.url("post", &["7"]).unwrap_err().is_not_enough_params());
    /// assert!(router.url("nope", &[]).unwrap_err().is_unknown_name());
    /// ```
    pub fn url(&self, name: &str, params: &[&str]) -> Result<String, UrlError> {
        let index = *self
            .names
            .get(name)
            .ok_or_else(|| UrlError::unknown_name(name))?;
        reverse(&self.defs[index].pattern, params)
    }

    /// Compiles an immutable snapshot of the routes registered so far
    /// (a server does this itself; use it to test a router).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::Lookup;
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/a", |ctx| { ctx.text("a"); Ok(()) });
    /// let before = router.table();
    /// router.get("/b", |ctx| { ctx.text("b"); Ok(()) });
    /// assert!(matches!(before.lookup("GET", "/b"), Lookup::NotFound)); // a snapshot
    /// assert!(matches!(router.table().lookup("GET", "/b"), Lookup::Found(_)));
    /// ```
    pub fn table(&self) -> RouteTable {
        RouteTable::build(self)
    }

    /// Removes the route registered for `method` and `path` (the pattern as
    /// written, or any with the same shape: `/users/:id` and `/users/:uid`
    /// are one route); true when there was one. Requests then get what the
    /// table answers without it (404, 405, or a less specific route).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::Lookup;
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/users/:id", |ctx| { ctx.text("user"); Ok(()) });
    /// assert!(router.remove("GET", "/users/:uid"));
    /// assert!(!router.remove("GET", "/users/:id"), "already gone");
    /// assert!(matches!(router.table().lookup("GET", "/users/7"), Lookup::NotFound));
    /// ```
    pub fn remove(&mut self, method: &str, path: &str) -> bool {
        let Ok(pattern) = Pattern::try_parse(path) else {
            return false;
        };
        let Some(index) = self
            .by_shape
            .remove(&format!("{method} {}", pattern.shape()))
        else {
            return false;
        };
        let removed = self.defs.remove(index);
        if let Some(name) = removed.name {
            self.names.remove(&name);
        }
        // Later definitions moved down by one.
        for i in self.by_shape.values_mut().chain(self.names.values_mut()) {
            if *i > index {
                *i -= 1;
            }
        }
        true
    }

    /// Validates and stores a route; returns its index. Nothing changes
    /// when the definition is refused.
    pub(crate) fn register(
        &mut self,
        method: &str,
        path: &str,
        handler: Handler,
        group_mw: Vec<SharedMiddleware>,
        group_dispatch: Option<Dispatch>,
    ) -> Result<usize, RouteError> {
        let pattern = Pattern::try_parse(path)?;
        self.note_method(method)?;
        let key = format!("{method} {}", pattern.shape());
        let def = RouteDef {
            method: method.into(),
            pattern,
            handler,
            group_mw,
            route_mw: Vec::new(),
            group_dispatch,
            route_dispatch: None,
            learner: Arc::default(),
            name: None,
        };
        if let Some(&index) = self.by_shape.get(&key) {
            tracing::warn!(
                method,
                pattern = def.pattern.text(),
                replaced = self.defs[index].pattern.text(),
                "duplicate route registration replaces the earlier route"
            );
            if let Some(old) = self.defs[index].name.take() {
                self.names.remove(&old);
            }
            self.defs[index] = def;
            return Ok(index);
        }
        self.defs.push(def);
        self.by_shape.insert(key, self.defs.len() - 1);
        Ok(self.defs.len() - 1)
    }

    /// Checks `method` is a token and counts non-standard ones.
    fn note_method(&mut self, method: &str) -> Result<(), RouteError> {
        if method.is_empty() || !method.bytes().all(is_tchar) {
            return Err(RouteError::bad_method(method));
        }
        if standard_slot(method).is_some() || self.custom_methods.iter().any(|m| &**m == method) {
            return Ok(());
        }
        if self.custom_methods.len() >= MAX_CUSTOM_METHODS {
            return Err(RouteError::too_many_methods(method, MAX_CUSTOM_METHODS));
        }
        self.custom_methods.push(method.into());
        Ok(())
    }

    /// Sets a route's explicit dispatch; `Inline` or `Learn` on a future
    /// handler is ignored with a warning.
    pub(crate) fn set_route_dispatch(&mut self, index: usize, dispatch: Dispatch) {
        let def = &mut self.defs[index];
        if dispatch != Dispatch::Async && def.handler.is_future() {
            tracing::warn!(
                method = &*def.method,
                pattern = def.pattern.text(),
                asked = dispatch.as_str(),
                "a future handler always runs async; its dispatch setting is ignored"
            );
            return;
        }
        if def.route_dispatch != Some(dispatch) {
            def.learner = Arc::default();
        }
        def.route_dispatch = Some(dispatch);
    }

    /// Appends route-level middleware.
    pub(crate) fn add_route_middleware(&mut self, index: usize, mw: SharedMiddleware) {
        self.defs[index].route_mw.push(mw);
    }

    /// Names a route; a name held by another route is an error.
    pub(crate) fn name_route(&mut self, index: usize, name: &str) -> Result<(), UrlError> {
        match self.names.get(name) {
            Some(&other) if other == index => return Ok(()),
            Some(_) => return Err(UrlError::duplicate_name(name)),
            None => {}
        }
        if let Some(old) = self.defs[index].name.replace(name.into()) {
            self.names.remove(&old);
        }
        self.names.insert(name.into(), index);
        Ok(())
    }

    /// The route registered under `name` (for panic messages).
    pub(crate) fn named(&self, name: &str) -> Option<&RouteDef> {
        self.names.get(name).map(|&i| &self.defs[i])
    }

    /// Method and pattern of the route at `index`.
    pub(crate) fn def(&self, index: usize) -> &RouteDef {
        &self.defs[index]
    }
}

/// Whether `b` may appear in an HTTP method token (RFC 9110 `tchar`).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("routes", &self.defs.len())
            .field("global_middleware", &self.global.len())
            .field("pre", &self.pre.len())
            .field("default_dispatch", &self.default_dispatch)
            .finish()
    }
}
