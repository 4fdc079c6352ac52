//! `RouteTable`: an immutable, compiled snapshot of a router — trees,
//! composed routes, names — and its allocation-free lookup.

use std::collections::HashMap;
use std::fmt;

use super::methods::{MethodTrees, GET};
use super::tree::RouteId;
use super::url::{reverse, UrlError};
use super::{AllowList, Dispatch, LearnStats, Params, PreFn, Route, Router};
use crate::handler::SharedMiddleware;

/// The outcome of [`RouteTable::lookup`].
#[derive(Clone, Copy, Debug)]
pub enum Lookup<'t> {
    /// A route matched.
    Found(Match<'t>),
    /// No route of this method matches, but routes of these methods do: 405.
    MethodNotAllowed(AllowList<'t>),
    /// No route matches the path: 404.
    NotFound,
}

/// A matched route and its parameter values.
#[derive(Clone, Copy, Debug)]
pub struct Match<'t> {
    /// The route. For a HEAD request served by a GET route, the GET route.
    pub route: &'t Route,
    /// Spans of the looked-up path, by position of
    /// [`Route::param_names`].
    pub params: Params,
}

/// An immutable route table: `Send + Sync`, shared by every worker through a
/// [`SharedTable`](super::SharedTable).
pub struct RouteTable {
    /// Compiled routes, in registration order.
    routes: Vec<Route>,
    /// One tree per method; leaves index `routes`.
    trees: MethodTrees,
    /// Route names → index in `routes`.
    names: HashMap<Box<str>, RouteId>,
    /// Hooks run before routing.
    pre: Vec<PreFn>,
    /// Middleware for the 404/405 fallbacks (already inside every route's).
    global: Vec<SharedMiddleware>,
    /// How many routes resolved to `Dispatch::Async`.
    async_count: usize,
    /// How many routes resolved to `Dispatch::Learn`.
    learn_count: usize,
}

impl RouteTable {
    /// Compiles `router`'s routes; linear in the number of routes.
    pub(crate) fn build(router: &Router) -> RouteTable {
        let mut trees = MethodTrees::default();
        let mut routes = Vec::with_capacity(router.defs.len());
        let mut names = HashMap::new();
        for def in &router.defs {
            let id = RouteId::try_from(routes.len()).expect("fewer than 2^32 routes");
            trees.get_or_insert(&def.method).insert_root(
                def.pattern.text(),
                def.pattern.segments(),
                id,
            );
            if let Some(name) = &def.name {
                names.insert(name.clone(), id);
            }
            routes.push(def.compile(&router.global, router.default_dispatch));
        }
        let count = |d| routes.iter().filter(|r| r.dispatch() == d).count();
        let (async_count, learn_count) = (count(Dispatch::Async), count(Dispatch::Learn));
        RouteTable {
            routes,
            trees,
            names,
            pre: router.pre.clone(),
            global: router.global.clone(),
            async_count,
            learn_count,
        }
    }

    /// Routes `method` and `path` (no query), every `/` significant (see
    /// the module docs of [`router`](super) for the path rules; dot segments
    /// are removed and escapes checked before this, by the routing step
    /// ahead of the pre-routing hooks). HEAD falls back to the GET route.
    /// Allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::Lookup;
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/users/:id", |ctx| { ctx.text("user"); Ok(()) });
    /// router.put("/users/:id", |ctx| { ctx.text("saved"); Ok(()) });
    /// let table = router.table();
    ///
    /// let path = "/users/42";
    /// match table.lookup("HEAD", path) {
    ///     Lookup::Found(m) => {
    ///         assert_eq!(m.route.method(), "GET");
    ///         assert_eq!(m.route.param_names()[0].as_ref(), "id");
    ///         assert_eq!(m.params.value(path, 0), Some("42"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// match table.lookup("DELETE", path) {
    ///     Lookup::MethodNotAllowed(allow) => assert!(allow.contains("GET") && allow.contains("PUT")),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn lookup<'t>(&'t self, method: &str, path: &str) -> Lookup<'t> {
        let mut params = Params::new();
        if let Some(id) = self
            .trees
            .get(method)
            .and_then(|t| t.find(path, &mut params))
        {
            return self.found(id, params);
        }
        if method == "HEAD" {
            if let Some(id) = self.trees.standard()[GET]
                .as_ref()
                .and_then(|t| t.find(path, &mut params))
            {
                return self.found(id, params);
            }
        }
        let allow = self.allowed(path, &mut params);
        if allow.is_empty() {
            Lookup::NotFound
        } else {
            Lookup::MethodNotAllowed(allow)
        }
    }

    /// A `Found` for route `id`.
    fn found(&self, id: RouteId, params: Params) -> Lookup<'_> {
        Lookup::Found(Match {
            route: &self.routes[id as usize],
            params,
        })
    }

    /// Every method with a route matching `path`.
    fn allowed(&self, path: &str, scratch: &mut Params) -> AllowList<'_> {
        let (custom_names, custom_trees) = self.trees.custom();
        let mut allow = AllowList::new(custom_names);
        for (slot, tree) in self.trees.standard().iter().enumerate() {
            if tree
                .as_ref()
                .is_some_and(|t| t.find(path, scratch).is_some())
            {
                allow.add_standard(slot);
            }
        }
        for (i, tree) in custom_trees.iter().enumerate() {
            if tree.find(path, scratch).is_some() {
                allow.add_custom(i);
            }
        }
        allow
    }

    /// Whether the request `method target` would run async if it arrived
    /// now (a learning route answers for its current state). The query
    /// (`?...`) is stripped first; an unmatched request is never async.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/slow", |ctx| { ctx.text("slow"); Ok(()) }).asynchronous();
    /// let table = router.table();
    /// assert!(table.route_async("GET", "/slow?x=1"));
    /// assert!(!table.route_async("GET", "/missing"));
    /// ```
    pub fn route_async(&self, method: &str, target: &str) -> bool {
        let path = target.split_once('?').map_or(target, |(path, _)| path);
        match self.lookup(method, path) {
            Lookup::Found(m) => m.route.dispatch_now() == Dispatch::Async,
            Lookup::MethodNotAllowed(_) | Lookup::NotFound => false,
        }
    }

    /// Whether any route may run async: an async route or a learning one.
    pub fn has_async_routes(&self) -> bool {
        self.async_count + self.learn_count > 0
    }

    /// How many routes always run async (learning routes not included).
    pub fn async_route_count(&self) -> usize {
        self.async_count
    }

    /// How many routes learn their dispatch.
    pub fn learning_route_count(&self) -> usize {
        self.learn_count
    }

    /// Every learning route's state and telemetry, in registration order.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::router::LearnState;
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/fast", |ctx| { ctx.text("fast"); Ok(()) });
    /// router.get("/maybe/:id", |ctx| { ctx.text("maybe"); Ok(()) }).learn();
    /// let table = router.table();
    /// let routes = table.learning_routes();
    /// assert_eq!(routes.len(), 1);
    /// assert_eq!((routes[0].method.as_str(), routes[0].route.as_str()), ("GET", "/maybe/:id"));
    /// assert_eq!(routes[0].state, LearnState::Learning);
    /// ```
    pub fn learning_routes(&self) -> Vec<LearnStats> {
        self.routes
            .iter()
            .filter_map(|r| Some(r.learner()?.stats(r.method(), r.pattern())))
            .collect()
    }

    /// The hooks to run before routing, in order.
    pub fn pre(&self) -> &[PreFn] {
        &self.pre
    }

    /// The global middleware, to run around the 404/405 fallbacks (matched
    /// routes already include it in [`Route::middleware`]).
    pub fn global_middleware(&self) -> &[SharedMiddleware] {
        &self.global
    }

    /// The path of the route named `name`: each `:param` and `*catch-all`
    /// takes the next value, verbatim. A catch-all value's leading `/` is not
    /// doubled; an empty catch-all value drops the `/` before it.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::Router;
    ///
    /// let mut router = Router::new();
    /// router.get("/static/*file", |ctx| { ctx.text("file"); Ok(()) }).name("static");
    /// let table = router.table();
    /// assert_eq!(table.url("static", &["css/site.css"]).unwrap(), "/static/css/site.css");
    /// assert_eq!(table.url("static", &["/css/site.css"]).unwrap(), "/static/css/site.css");
    /// assert_eq!(table.url("static", &[""]).unwrap(), "/static");
    /// ```
    pub fn url(&self, name: &str, params: &[&str]) -> Result<String, UrlError> {
        let id = *self
            .names
            .get(name)
            .ok_or_else(|| UrlError::unknown_name(name))?;
        reverse(self.routes[id as usize].parsed_pattern(), params)
    }

    /// Every route, in registration order.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }
}

impl Default for RouteTable {
    /// A table with no routes.
    fn default() -> Self {
        Router::new().table()
    }
}

impl fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteTable")
            .field("routes", &self.routes)
            .field("pre", &self.pre.len())
            .field("global_middleware", &self.global.len())
            .field("async_count", &self.async_count)
            .field("learn_count", &self.learn_count)
            .finish()
    }
}
