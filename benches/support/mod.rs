//! Route tables, requests and serving context shared by the benchmarks, built to mirror the conformance app.

// Each bench binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::time::Instant;

use switchyard::conn::{BufPool, ConnConfig, Env, H1Session, Link, Mode, Processed};
use switchyard::handler::{After, ServeInfo};
use switchyard::{Ctx, Dispatch, EngineKind, HttpError, Request, Response, Router};

/// The header block of a typical browser navigation: 10 fields.
macro_rules! browser_headers {
    () => {
        "Host: app.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://app.example.com/users?page=2\r\n\
Connection: keep-alive\r\n\
Cookie: session=3f9a1c2e7b8d4a6f9e0c1b2a3d4e5f60; theme=dark; lang=en\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Priority: u=0, i\r\n\
\r\n"
    };
}

/// A typical browser navigation: 10 header fields, 487 bytes.
pub const BROWSER_REQUEST: &[u8] = concat!(
    "GET /users/12345?tab=overview HTTP/1.1\r\n",
    browser_headers!()
)
.as_bytes();

/// The browser's headers on a request for an async route.
pub const BROWSER_ASYNC: &[u8] =
    concat!("GET /async/hello HTTP/1.1\r\n", browser_headers!()).as_bytes();

/// The smallest request a benchmark client sends.
pub const MINIMAL_REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";

/// `GET /hello`, as wrk sends it.
pub const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// `GET /users/12345`, as wrk sends it.
pub const USER: &[u8] = b"GET /users/12345 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// `GET /json`, as wrk sends it.
pub const JSON: &[u8] = b"GET /json HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// `GET /async/hello`, a route that promotes the connection.
pub const ASYNC_HELLO: &[u8] = b"GET /async/hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// `GET /learn/hello`, a learning route (`.learn()`).
pub const LEARN_HELLO: &[u8] = b"GET /learn/hello HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// `GET /async/future`, a route with a future handler.
pub const ASYNC_FUTURE: &[u8] = b"GET /async/future HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

/// The conformance app's JSON body.
#[derive(serde::Serialize)]
pub struct Message {
    /// The greeting.
    pub message: &'static str,
}

/// How the `/users/:id` handler builds its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsersBody {
    /// `format!("user:{id}")`, exactly as the conformance app does.
    Format,
    /// Copied into a stack buffer, so the handler itself allocates nothing.
    Stack,
}

/// The conformance app's hot routes (`/hello`, `/json`, `/users/:id`), its
/// `x-dispatch`/`x-engine` middleware, two async routes and a learning one.
pub fn conformance_routes(users: UsersBody) -> Router {
    let mut r = Router::new();
    r.use_middleware(After(|ctx: &mut Ctx<'_>| {
        let (dispatch, engine) = (ctx.dispatch().as_str(), ctx.engine().as_str());
        ctx.set_header("x-dispatch", dispatch);
        ctx.set_header("x-engine", engine);
    }));
    r.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    })
    .sync();
    r.get("/json", |ctx| {
        ctx.json(&Message {
            message: "Hello, World!",
        })
    })
    .sync();
    match users {
        UsersBody::Format => r.get("/users/:id", |ctx| {
            let body = format!("user:{}", ctx.param("id").unwrap_or_default());
            ctx.text(&body);
            Ok(())
        }),
        UsersBody::Stack => r.get("/users/:id", users_on_stack),
    }
    .sync();
    r.get("/async/hello", |ctx| {
        ctx.text("Hello, async!");
        Ok(())
    })
    .asynchronous();
    r.get_future("/async/future", awaited);
    r.get("/learn/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    })
    .learn();
    r
}

/// `/users/:id` without a heap buffer: `user:` and the id on the stack.
fn users_on_stack(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let mut buf = [0u8; 128];
    let id = ctx.param("id").unwrap_or_default().as_bytes();
    let len = 5 + id.len();
    if len > buf.len() {
        let body = format!("user:{}", String::from_utf8_lossy(id));
        ctx.text(&body);
        return Ok(());
    }
    buf[..5].copy_from_slice(b"user:");
    buf[5..len].copy_from_slice(id);
    let body = std::str::from_utf8(&buf[..len]).map_err(|_| HttpError::internal())?;
    ctx.text(body);
    Ok(())
}

/// A future handler that answers at once (what a promoted request costs
/// without its await).
async fn awaited(_req: Request) -> Result<Response, HttpError> {
    Ok(Response::with_text("Hello, async!"))
}

/// Where a loop worker serves: epoll, inline, no peer address.
pub fn inline_info() -> ServeInfo {
    ServeInfo {
        engine: EngineKind::Epoll,
        dispatch: Dispatch::Inline,
        remote: None,
    }
}

/// A fresh session with the default connection settings.
pub fn session() -> H1Session {
    H1Session::new(&ConnConfig::default(), Instant::now())
}

/// A session with the settings and spare buffers a worker lends it.
pub struct Turns {
    /// The connection.
    pub session: H1Session,
    /// The worker's spare buffers.
    pub pool: BufPool,
    /// Connection settings.
    pub cfg: ConnConfig,
}

impl Turns {
    /// A fresh connection.
    pub fn new() -> Self {
        Turns {
            session: session(),
            pool: BufPool::new(16 * 1024),
            cfg: ConnConfig::default(),
        }
    }

    /// One sans-IO turn as a loop worker runs it for a read: `input` arrives,
    /// every request that can run inline is answered, and the socket takes
    /// every response byte (`out` receives a copy of them when given).
    /// After a stop (promotion), the unread request is dropped so the next
    /// turn starts clean.
    pub fn turn(
        &mut self,
        input: &[u8],
        env: &mut Env<'_>,
        out: Option<&mut Vec<u8>>,
    ) -> Processed {
        let mut link = Link {
            pool: &mut self.pool,
            cfg: &self.cfg,
            now: Instant::now(),
        };
        self.session.on_bytes(input, &mut link);
        let p = self.session.process(env, Mode::Inline, &mut link);
        let sent = self.session.transmit().len();
        if let Some(out) = out {
            out.extend_from_slice(self.session.transmit());
        }
        self.session.on_sent(sent, &mut link);
        let rest = self.session.take_input();
        self.pool.put_input(rest);
        p
    }
}

/// `n` copies of `req` back to back (a pipelined batch).
pub fn pipelined(req: &[u8], n: usize) -> Vec<u8> {
    req.repeat(n)
}
