//! Middleware: hooks that run before and after a route's handler, the same way
//! for plain and future handlers.

use super::{Ctx, HttpError};

/// What a `before` hook decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Run the rest of the chain.
    Continue,
    /// Stop here: the response written so far is the answer.
    Stop,
}

/// A middleware: `before` runs in registration order (global, group, route)
/// ahead of the handler; `after` runs in reverse order once the response is
/// final (errors already turned into responses), for every middleware whose
/// `before` ran.
///
/// Register it with [`Router::use_middleware`](crate::Router::use_middleware)
/// (every route and the 404/405 answers),
/// [`Group::use_middleware`](crate::router::Group::use_middleware) or
/// [`RouteRef::with`](crate::router::RouteRef::with). The same value serves
/// every worker at once, so state lives in atomics or locks.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use switchyard::{Ctx, Flow, HttpError, Middleware, Router};
///
/// /// Answers 401 without a key; numbers every answer.
/// struct ApiKey {
///     served: AtomicU64,
/// }
///
/// impl Middleware for ApiKey {
///     fn before(&self, ctx: &mut Ctx<'_>) -> Result<Flow, HttpError> {
///         match ctx.header("x-api-key") {
///             Some("secret") => Ok(Flow::Continue),
///             _ => Err(HttpError::new(401, "missing or wrong x-api-key")),
///         }
///     }
///
///     fn after(&self, ctx: &mut Ctx<'_>) {
///         let n = self.served.fetch_add(1, Ordering::Relaxed) + 1;
///         ctx.set_header("x-served", &n.to_string());
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.use_middleware(ApiKey { served: AtomicU64::new(0) });
/// router.get("/data", |ctx| {
///     ctx.text("data");
///     Ok(())
/// });
/// # let reply = serve(router.clone(), "GET /data HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.starts_with("HTTP/1.1 401 "), "{reply}");
/// # assert!(reply.contains("x-served: 1\r\n"), "{reply}");
/// # let reply = serve(router, "GET /data HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: secret\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.ends_with("\r\n\r\ndata"), "{reply}");
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
pub trait Middleware: Send + Sync + 'static {
    /// Runs before the handler. `Err` answers with the error and skips the rest.
    fn before(&self, _ctx: &mut Ctx<'_>) -> Result<Flow, HttpError> {
        Ok(Flow::Continue)
    }

    /// Runs after the handler with the final response in `ctx`.
    fn after(&self, _ctx: &mut Ctx<'_>) {}
}

/// A middleware made of a `before` closure.
///
/// # Examples
///
/// ```
/// use switchyard::handler::Before;
/// use switchyard::{Ctx, Flow, Router};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// let mut admin = router.group("/admin");
/// admin.use_middleware(Before(|ctx: &mut Ctx<'_>| {
///     if ctx.remote_addr().is_some_and(|peer| peer.ip().is_loopback()) {
///         Ok(Flow::Continue)
///     } else {
///         ctx.status(403).text("local only");
///         Ok(Flow::Stop) // the response written so far is the answer
///     }
/// }));
/// admin.get("/stats", |ctx| {
///     ctx.text("all good");
///     Ok(())
/// });
/// # let reply = serve(router, "GET /admin/stats HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.ends_with("\r\n\r\nall good"), "{reply}");
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
pub struct Before<F>(pub F);

impl<F> Middleware for Before<F>
where
    F: Fn(&mut Ctx<'_>) -> Result<Flow, HttpError> + Send + Sync + 'static,
{
    fn before(&self, ctx: &mut Ctx<'_>) -> Result<Flow, HttpError> {
        (self.0)(ctx)
    }
}

/// A middleware made of an `after` closure.
///
/// # Examples
///
/// ```
/// use switchyard::handler::After;
/// use switchyard::{Ctx, Router};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut router = Router::new();
/// router.use_middleware(After(|ctx: &mut Ctx<'_>| {
///     let status = ctx.response().status();
///     eprintln!("{} {} -> {status}", ctx.method(), ctx.path());
/// }));
/// router.get("/", |ctx| {
///     ctx.text("home");
///     Ok(())
/// });
/// # let reply = serve(router, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// # assert!(reply.ends_with("\r\n\r\nhome"), "{reply}");
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
pub struct After<F>(pub F);

impl<F> Middleware for After<F>
where
    F: Fn(&mut Ctx<'_>) + Send + Sync + 'static,
{
    fn after(&self, ctx: &mut Ctx<'_>) {
        (self.0)(ctx)
    }
}
