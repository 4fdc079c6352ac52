//! The conformance app: the fixed set of routes and flags that tests and
//! benchmarks drive (see the project's conformance contract). Every response
//! carries `x-dispatch` (where the handler ran, read from the context) and
//! `x-engine` (the engine that served it).
//!
//! Additions to the contract made here (the contract only grows):
//! - `GET /learn/sleep?ms=N`: a *learning* route (`.learn()`): blocks its
//!   thread N ms (at most 5000), then 200 `slept:N`. It runs inline while
//!   fast; slow runs promote it to async for a while; 256 fast runs in a row
//!   settle it inline. `/metrics` reports it under `learning_routes`.
//! - `--learn-default`: routes without their own or their group's setting
//!   learn their dispatch (`/default` then does); wins over
//!   `--async-default`.
//! - Under `/tower` (an axum router, `GET /tower/hello` being the
//!   contract's): `POST /tower/echo`, `GET /tower/whoami`,
//!   `GET /tower/pieces?n=N`.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::Parser;
use switchyard::actors::Addr;
use switchyard::handler::sse::Event;
use switchyard::handler::After;
use switchyard::server::{MetricsMsg, ServerMsg};
use switchyard::{
    Config, Ctx, Dispatch, EngineChoice, Handler, HttpError, MetricsActor, Protocol, Request,
    Response, RouteSpec, Router, ServerActor,
};
use tracing_subscriber::EnvFilter;

/// Command-line flags (the contract's table).
#[derive(Parser, Debug)]
#[command(about = "switchyard conformance app", args_override_self = true)]
struct Flags {
    /// Listen address; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// io-uring, epoll, adaptive or std.
    #[arg(long, default_value = "adaptive")]
    engine: EngineChoice,
    /// auto, http1 or h2c (every engine serves all three).
    #[arg(long, default_value = "auto")]
    protocol: Protocol,
    /// Event-loop workers (default: number of CPUs).
    #[arg(long)]
    workers: Option<usize>,
    /// Make the server-level default dispatch async.
    #[arg(long)]
    async_default: bool,
    /// Make routes without a setting learn their dispatch (wins over
    /// --async-default).
    #[arg(long)]
    learn_default: bool,
    /// Request body limit in bytes.
    #[arg(long, default_value_t = 1_048_576)]
    max_body: u64,
    /// Time allowed to receive a request's headers.
    #[arg(long, default_value_t = 5000)]
    header_timeout_ms: u64,
    /// Keep-alive idle limit.
    #[arg(long, default_value_t = 30000)]
    idle_timeout_ms: u64,
    /// How long queued response bytes may wait for a client that reads
    /// nothing (renewed by every write that makes progress).
    #[arg(long, default_value_t = 30000)]
    write_timeout_ms: u64,
    /// The longest a request body may take in all.
    #[arg(long, default_value_t = 60000)]
    body_timeout_ms: u64,
    /// Serve the `/faults/*` routes (for the tests of supervision).
    #[arg(long)]
    enable_faults: bool,
    /// Serve on this inherited listening socket instead of binding --addr
    /// (systemd socket activation's LISTEN_FDS/LISTEN_PID work too).
    #[arg(long)]
    listen_fd: Option<i32>,
    /// The adaptive engine's connections per worker from which new
    /// connections move to io_uring (default: the engine's own).
    #[arg(long)]
    adaptive_up: Option<u32>,
    /// The adaptive engine's connections per worker under which new
    /// connections go back to epoll (default: the engine's own).
    #[arg(long)]
    adaptive_down: Option<u32>,
    /// Serve TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

/// `config` serving TLS with the PEM files `cert` and `key`; exits with a
/// line naming the file at fault when they do not make a TLS config.
#[cfg(feature = "tls")]
fn with_tls(config: Config, cert: &std::path::Path, key: &std::path::Path) -> Config {
    match switchyard::tls::TlsConfig::from_pem_files(cert, key) {
        Ok(tls) => Config {
            tls: Some(tls),
            ..config
        },
        Err(e) => {
            eprintln!("conformance: cannot start: {e}");
            std::process::exit(2);
        }
    }
}

/// Without the `tls` feature, TLS flags refuse the start.
#[cfg(not(feature = "tls"))]
fn with_tls(_: Config, _: &std::path::Path, _: &std::path::Path) -> Config {
    eprintln!("conformance: cannot start: TLS is not built in (build with the `tls` feature)");
    std::process::exit(2);
}

/// The running server's actors, for the handlers that talk to them.
static SERVER: OnceLock<(Addr<ServerActor>, Addr<MetricsActor>)> = OnceLock::new();

/// How long a handler waits for an actor's answer.
const ASK: Duration = Duration::from_secs(5);

/// How long `POST /engine/switch` waits for the switch.
const SWITCH: Duration = Duration::from_secs(12);

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let flags = Flags::parse();
    let mut config = Config {
        addr: flags.addr.clone(),
        listen_fd: flags
            .listen_fd
            .or_else(switchyard::config::systemd_listen_fd),
        engine: flags.engine,
        protocol: flags.protocol,
        workers: flags.workers.unwrap_or(0),
        async_handlers: flags.async_default,
        learn_dispatch: flags.learn_default,
        max_body: flags.max_body,
        header_timeout: Duration::from_millis(flags.header_timeout_ms),
        idle_timeout: Duration::from_millis(flags.idle_timeout_ms),
        write_timeout: Duration::from_millis(flags.write_timeout_ms),
        body_timeout: Duration::from_millis(flags.body_timeout_ms),
        adaptive_up: flags.adaptive_up,
        adaptive_down: flags.adaptive_down,
        ..Config::default()
    };
    if let (Some(cert), Some(key)) = (&flags.tls_cert, &flags.tls_key) {
        config = with_tls(config, cert, key);
    }
    let grace = config.shutdown_grace;
    let signals = match switchyard::server::Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: cannot listen for signals: {e}");
            std::process::exit(2);
        }
    };
    let mut router = routes();
    if flags.enable_faults {
        fault_routes(&mut router);
    }
    let handle = match ServerActor::spawn(config, router) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("conformance: cannot start: {e}");
            std::process::exit(2);
        }
    };
    let _ = SERVER.set((handle.server().clone(), handle.metrics().clone()));
    if let Err(e) = handle.register(RouteSpec::prometheus(
        "/metrics/prometheus",
        handle.metrics(),
    )) {
        eprintln!("conformance: cannot mount /metrics/prometheus: {e}");
        std::process::exit(2);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", handle.local_addr());
    let _ = out.flush();
    drop(out);
    let failed = match signals.wait_or(handle.failures()) {
        Ok(failed) => failed,
        Err(e) => {
            eprintln!("conformance: signal handling failed: {e}");
            None
        }
    };
    if let Err(e) = handle.shutdown(grace) {
        eprintln!("conformance: shutdown: {e}");
        std::process::exit(1);
    }
    if let Some(reason) = failed {
        eprintln!("conformance: the server stopped: {reason}");
        std::process::exit(1);
    }
}

/// The `/faults/*` routes (`--enable-faults` only).
fn fault_routes(r: &mut Router) {
    // The worker that runs this handler crashes once the response is out:
    // outside any handler guard, as a bug in the worker itself would.
    r.post("/faults/worker-panic", |ctx| {
        switchyard::engine::faults::crash_this_worker();
        ctx.text("crashing");
        Ok(())
    });
    // The task serving this connection panics once the handler has returned:
    // a dispatch actor's on a promoted connection, the connection's own on
    // std. A loop worker's own connection has no task of its own: 409.
    r.post("/faults/connection-panic", |ctx| {
        if switchyard::engine::faults::crash_this_connection() {
            ctx.text("crashing");
        } else {
            ctx.status(409)
                .text("served by its worker's loop: make an async request on it first");
        }
        Ok(())
    });
}

/// Every route of the contract.
fn routes() -> Router {
    let mut r = Router::new();
    r.use_middleware(After(|ctx: &mut Ctx<'_>| {
        let (dispatch, engine) = (ctx.dispatch().as_str(), ctx.engine().as_str());
        ctx.set_header("x-dispatch", dispatch);
        ctx.set_header("x-engine", engine);
    }));
    r.get("/hello", |ctx| text(ctx, "Hello, World!")).sync();
    r.get("/json", |ctx| {
        ctx.json(&Message {
            message: "Hello, World!",
        })
    })
    .sync();
    r.get("/users/:id", |ctx| {
        let body = format!("user:{}", ctx.param("id").unwrap_or_default());
        text(ctx, &body)
    })
    .sync();
    r.get("/files/*path", |ctx| {
        let body = format!("file:{}", ctx.param("path").unwrap_or_default());
        text(ctx, &body)
    })
    .sync();
    r.post("/echo", |ctx| {
        let ct = ctx
            .header("content-type")
            .unwrap_or("application/octet-stream");
        let body = ctx.body();
        ctx.bytes(ct, body);
        Ok(())
    })
    .sync();
    r.get("/sync/sleep", sleep).sync();
    r.get("/async/hello", |ctx| text(ctx, "Hello, async!"))
        .asynchronous();
    r.get("/async/sleep", sleep).asynchronous();
    r.get("/learn/sleep", sleep).learn();
    r.get_future("/async/future", awaited);
    r.get_future("/async/stream", live_stream);
    r.get_future("/sse", events);
    {
        let mut api = r.group("/api");
        api.asynchronous();
        api.get("/items", |ctx| text(ctx, "items"));
        api.get("/cached", |ctx| text(ctx, "cached")).sync();
        let mut v2 = api.group("/v2");
        v2.get("/items", |ctx| text(ctx, "items-v2"));
    }
    r.get("/default", |ctx| text(ctx, "default"));
    r.service("/tower", tower_app());
    r.get("/stream", |ctx| {
        let n: u32 = ctx.query("n").and_then(|v| v.parse().ok()).unwrap_or(0);
        let resp = ctx.stream("text/plain");
        for i in 0..n {
            resp.write_chunk(format!("chunk {i}\n").as_bytes());
        }
        Ok(())
    })
    .sync();
    r.get("/panic", |_ctx| {
        panic!("conformance: /panic was asked to panic")
    })
    .sync();
    r.get("/error", |_ctx| Err(HttpError::new(418, "teapot")))
        .sync();
    r.post("/routes", register).sync();
    r.post("/json/echo", json_echo).sync();
    r.get("/metrics", metrics).sync();
    // Off the loop: the switch waits until every worker of the old engine
    // stopped accepting, the worker serving this request among them.
    r.post("/engine/switch", switch).asynchronous();
    r
}

/// `POST /engine/switch`: the adaptive engine moves new connections to the
/// other engine; 200 with its name once the old one stopped accepting, 409
/// where no switch can be made (another engine, io_uring refused, accepting
/// paused), 503 when the switch failed.
fn switch(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let (server, _) = SERVER.get().ok_or_else(HttpError::internal)?;
    let outcome = server
        .ask_blocking(|reply| ServerMsg::ForceSwitch { reply }, SWITCH)
        .map_err(|_| HttpError::new(503, "the switch did not complete"))?;
    match outcome {
        Ok(engine) => text(ctx, engine.as_str()),
        Err(e) if e.is_failure() => Err(HttpError::new(503, e.to_string())),
        Err(e) => Err(HttpError::new(409, e.to_string())),
    }
}

/// `{"message": ...}`
#[derive(serde::Serialize)]
struct Message {
    /// The greeting.
    message: &'static str,
}

/// The body `POST /json/echo` takes and answers.
#[derive(serde::Deserialize, serde::Serialize)]
struct Echo {
    /// Echoed as is.
    name: String,
    /// Answered plus one.
    n: i64,
}

/// `POST /json/echo`: `{"name", "n"}` → `{"name", "n": n + 1}`; 400 on a
/// syntax error, 422 on a wrong shape, 415 on another content type (413
/// over the body limit comes from the protocol layer, as text).
fn json_echo(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let mut echo: Echo = ctx.json_body()?;
    echo.n = echo
        .n
        .checked_add(1)
        .ok_or_else(|| HttpError::new(422, "n + 1 overflows").with_json_body())?;
    ctx.json(&echo)
}

/// The axum router mounted at `/tower`: `GET /hello` (the contract's), and
/// beyond it `POST /echo` (the body back), `GET /whoami` (the path and query
/// the service saw) and `GET /pieces?n=N` (N pieces of a body of unknown
/// length, so streamed).
fn tower_app() -> axum::Router {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/hello", get(|| async { "Hello from tower" }))
        .route("/echo", post(|body: bytes::Bytes| async move { body }))
        .route(
            "/whoami",
            get(|uri: axum::http::Uri| async move { uri.to_string() }),
        )
        .route(
            "/pieces",
            get(|uri: axum::http::Uri| async move {
                let n = uri
                    .query()
                    .and_then(|q| q.strip_prefix("n="))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(3);
                axum::body::Body::new(Pieces { next: 0, n })
            }),
        )
}

/// A body of `n` pieces (`piece I\n`) whose length is not known up front.
struct Pieces {
    /// The next piece's index.
    next: u32,
    /// How many.
    n: u32,
}

impl http_body::Body for Pieces {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        if self.next == self.n {
            return std::task::Poll::Ready(None);
        }
        let piece = format!("piece {}\n", self.next);
        self.next += 1;
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(piece.into()))))
    }
}

fn text(ctx: &mut Ctx<'_>, body: &str) -> Result<(), HttpError> {
    ctx.text(body);
    Ok(())
}

/// `ms` from the query, at most 5000.
fn millis(q: Option<std::borrow::Cow<'_, str>>) -> Result<u64, HttpError> {
    let ms: u64 = q
        .as_deref()
        .unwrap_or("0")
        .parse()
        .map_err(|_| HttpError::bad_request("ms must be a number"))?;
    Ok(ms.min(5000))
}

/// Blocks its thread `ms` milliseconds.
fn sleep(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let ms = millis(ctx.query("ms"))?;
    std::thread::sleep(Duration::from_millis(ms));
    text(ctx, &format!("slept:{ms}"))
}

/// Awaits a timer `ms` milliseconds without blocking a thread.
async fn awaited(req: Request) -> Result<Response, HttpError> {
    let ms = millis(req.query("ms"))?;
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Response::with_text(&format!("awaited:{ms}")))
}

/// `GET /async/stream?n=K&delay_ms=M`: K lines `chunk I\n`, each sent M ms
/// after the previous one and leaving the server as it is sent.
async fn live_stream(req: Request) -> Result<Response, HttpError> {
    let n: u32 = req.query("n").and_then(|v| v.parse().ok()).unwrap_or(0);
    let delay = Duration::from_millis(millis(req.query("delay_ms"))?);
    let mut resp = Response::new();
    let body = resp.live("text/plain");
    actix_rt::spawn(async move {
        for i in 0..n {
            if i > 0 {
                tokio::time::sleep(delay).await;
            }
            if body.send_async(format!("chunk {i}\n")).await.is_err() {
                break; // the client went away
            }
        }
    });
    Ok(resp)
}

/// `GET /sse?n=K&delay_ms=M`: K server-sent events `id: I` / `data: event
/// I`, M ms apart; a `Last-Event-ID: J` resumes at J+1.
async fn events(req: Request) -> Result<Response, HttpError> {
    let n: u32 = req.query("n").and_then(|v| v.parse().ok()).unwrap_or(0);
    let delay = Duration::from_millis(millis(req.query("delay_ms"))?);
    let first = match req.header("last-event-id") {
        Some(id) => id
            .trim()
            .parse::<u32>()
            .map_err(|_| HttpError::bad_request("Last-Event-ID must be a number"))?
            .saturating_add(1),
        None => 0,
    };
    let mut resp = Response::new();
    let stream = resp.sse();
    actix_rt::spawn(async move {
        for i in first..n {
            if i > first && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let event = Event::data(format!("event {i}")).id(i.to_string());
            if stream.send_async(&event).await.is_err() {
                break; // the client went away
            }
        }
    });
    Ok(resp)
}

/// `POST /routes?path=/dyn/NAME&mode=sync|async`: registers `GET /dyn/NAME`
/// through the server actor; 201 once every worker serves it, 400 with the
/// router's reason when the pattern is invalid (`/dyn/:`).
fn register(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let path = ctx
        .query("path")
        .ok_or_else(|| HttpError::bad_request("path is required"))?;
    let name = path
        .strip_prefix("/dyn/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .ok_or_else(|| HttpError::bad_request("path must be /dyn/NAME"))?
        .to_owned();
    let dispatch = match ctx.query("mode").as_deref() {
        Some("sync") | None => Dispatch::Inline,
        Some("async") => Dispatch::Async,
        Some(_) => return Err(HttpError::bad_request("mode must be sync or async")),
    };
    let body: Arc<str> = format!("dyn:{name}").into();
    let handler = Handler::plain(move |ctx| text(ctx, &body));
    let (server, _) = SERVER.get().ok_or_else(HttpError::internal)?;
    let route = RouteSpec {
        method: "GET".into(),
        path: path.into_owned(),
        handler,
        dispatch: Some(dispatch),
    };
    server
        .ask_blocking(|reply| ServerMsg::RegisterRoute { route, reply }, ASK)
        .map_err(|_| HttpError::new(503, "route registration did not complete"))?
        .map_err(|e| HttpError::bad_request(e.to_string()))?;
    ctx.status(201);
    text(ctx, "registered")
}

/// `GET /metrics`: the metrics actor's snapshot as JSON.
fn metrics(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let (_, metrics) = SERVER.get().ok_or_else(HttpError::internal)?;
    let snapshot = metrics
        .ask_blocking(|reply| MetricsMsg::Snapshot { reply }, ASK)
        .map_err(|_| HttpError::new(503, "metrics unavailable"))?;
    ctx.json(&snapshot)
}
