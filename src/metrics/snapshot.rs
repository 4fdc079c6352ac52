//! `Snapshot`: the aggregate of every worker's and dispatch actor's counters
//! at one moment, as the metrics actor answers it.

use std::sync::Arc;

use serde::Serialize;

use super::{SharedCounters, WorkerCounters, LATENCY_BOUNDS};
use crate::config::EngineKind;
use crate::engine::adaptive::Handle;
use crate::router::LearnStats;

/// What a snapshot is computed from.
#[derive(Clone)]
pub struct Sources {
    /// The engine.
    pub engine: EngineKind,
    /// Every worker's counters.
    pub workers: Vec<Arc<WorkerCounters>>,
    /// The dispatch actors' counters.
    pub dispatch: Arc<SharedCounters>,
    /// The adaptive engine, when it runs (`workers` then holds both of its
    /// engines' workers, epoll's first).
    pub adaptive: Option<Handle>,
}

/// Server metrics at one moment, as
/// [`ServerHandle::snapshot`](crate::ServerHandle::snapshot) answers them.
///
/// # Examples
///
/// A snapshot serializes to JSON, so a server can publish its own:
///
/// ```
/// use std::time::Duration;
/// use switchyard::server::MetricsMsg;
/// use switchyard::{Config, Handler, HttpError, Request, Response, RouteSpec, Server, Snapshot};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let handle = Server::new(Config { addr: "127.0.0.1:0".into(), ..Config::default() }).start()?;
/// // The metrics actor exists once the server runs: add the route then.
/// let metrics = handle.metrics().clone();
/// handle.register(RouteSpec {
///     method: "GET".into(),
///     path: "/metrics".into(),
///     handler: Handler::future(move |_req: Request| {
///         let metrics = metrics.clone();
///         async move {
///             let snapshot: Snapshot = metrics
///                 .ask(|reply| MetricsMsg::Snapshot { reply }, Duration::from_secs(1))
///                 .await
///                 .map_err(|_| HttpError::new(503, "metrics unavailable"))?;
///             Response::with_json(&snapshot)
///         }
///     }),
///     dispatch: None,
/// })?;
/// # let reply = get(handle.local_addr(), "/metrics")?;
/// # assert!(reply.contains("\r\n\r\n{\"requests_total\":"), "{reply}");
/// handle.shutdown(Duration::from_secs(5))?;
/// # Ok(())
/// # }
/// # fn get(addr: std::net::SocketAddr, target: &str) -> std::io::Result<String> {
/// #     use std::io::{Read, Write};
/// #     let mut conn = std::net::TcpStream::connect(addr)?;
/// #     write!(conn, "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
/// #     let mut reply = String::new();
/// #     conn.read_to_string(&mut reply)?;
/// #     Ok(reply)
/// # }
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// Requests answered.
    pub requests_total: u64,
    /// 5xx answers, protocol errors and connection errors.
    pub errors_total: u64,
    /// Connections open now.
    pub active_conns: u64,
    /// Connections accepted.
    pub accepts: u64,
    /// Connections closed.
    pub closes: u64,
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Routes that run async.
    pub async_routes: u64,
    /// Connections promoted to a dispatch actor.
    pub async_promoted_conns: u64,
    /// The engine: `adaptive`, or the one engine that runs.
    pub engine: &'static str,
    /// The engine new connections go to now.
    pub active_engine: &'static str,
    /// Times the adaptive engine switched new connections to the other
    /// engine (0 for every other engine).
    pub engine_switches: u64,
    /// The adaptive engine's controller: its last decision and why.
    pub adaptive: Option<AdaptiveMetrics>,
    /// Number of workers (both engines' under the adaptive engine).
    pub workers: usize,
    /// Times a worker was rebuilt after a crash, all workers together.
    pub worker_restarts: u64,
    /// Connection tasks (dispatch actors', the std engine's) that panicked;
    /// each closed its connection only.
    pub connection_crashes: u64,
    /// Requests per latency bucket, every driver's: they sum to
    /// `requests_total`.
    pub latency_buckets: Vec<u64>,
    /// Upper bound in seconds of every bucket but the last, which is unbounded.
    pub latency_bounds_secs: Vec<f64>,
    /// Sum of every answered request's latency, in seconds.
    pub latency_sum_secs: f64,
    /// Machine CPU utilisation since the previous snapshot, when known.
    pub cpu_utilization: Option<f64>,
    /// Rates over the last sampling period (about a second), once two
    /// samples exist.
    pub rates: Option<Rates>,
    /// Every learning route's dispatch telemetry (by route pattern):
    /// requests inline and async, handler times of its timed runs,
    /// promotions and its state now.
    pub learning_routes: Vec<LearnStats>,
}

/// The adaptive engine's state in a snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct AdaptiveMetrics {
    /// Whether io_uring serves here (else the engine stays on epoll).
    pub io_uring: bool,
    /// The controller's last decision: `stay`, or the engine it switched
    /// new connections to (`null` before its first tick).
    pub last_decision: Option<&'static str>,
    /// Why.
    pub last_reason: Option<&'static str>,
}

/// What changed between two samples of the counters, per second: the
/// telemetry a controller reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Seconds between the two samples.
    pub period_secs: f64,
    /// Requests answered per second.
    pub requests_per_sec: f64,
    /// Errors per second.
    pub errors_per_sec: f64,
    /// Errors per request answered in the period (0 without requests).
    pub error_ratio: f64,
    /// Connections accepted per second.
    pub accepts_per_sec: f64,
    /// Bytes read per second.
    pub bytes_in_per_sec: f64,
    /// Bytes written per second.
    pub bytes_out_per_sec: f64,
    /// Bytes read per request answered in the period (0 without requests).
    pub bytes_in_per_request: f64,
    /// Connections open on each worker at the second sample (promoted ones
    /// count on the dispatch side, not here).
    pub conns_per_worker: Vec<u64>,
    /// Machine CPU utilisation over the period, when known.
    pub cpu_utilization: Option<f64>,
}

impl Rates {
    /// The rates between `before` and `after`, taken `period` apart.
    pub fn between(
        before: &Snapshot,
        after: &Snapshot,
        period: std::time::Duration,
        src: &Sources,
    ) -> Self {
        let secs = period.as_secs_f64().max(1e-3);
        let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
        let requests = d(before.requests_total, after.requests_total);
        let errors = d(before.errors_total, after.errors_total);
        let bytes_in = d(before.bytes_in, after.bytes_in);
        let per_request = |x: f64| if requests > 0.0 { x / requests } else { 0.0 };
        Rates {
            period_secs: secs,
            requests_per_sec: requests / secs,
            errors_per_sec: errors / secs,
            error_ratio: per_request(errors),
            accepts_per_sec: d(before.accepts, after.accepts) / secs,
            bytes_in_per_sec: bytes_in / secs,
            bytes_out_per_sec: d(before.bytes_out, after.bytes_out) / secs,
            bytes_in_per_request: per_request(bytes_in),
            conns_per_worker: src
                .workers
                .iter()
                .map(|w| {
                    w.accepts
                        .get()
                        .saturating_sub(w.closes.get() + w.promoted.get())
                })
                .collect(),
            cpu_utilization: after.cpu_utilization,
        }
    }
}

impl Snapshot {
    /// Sums the counters.
    pub fn collect(src: &Sources, async_routes: usize, cpu: Option<f64>) -> Self {
        use std::sync::atomic::Ordering::Relaxed;
        let sum = |f: fn(&WorkerCounters) -> u64| src.workers.iter().map(|w| f(w)).sum::<u64>();
        let d = &src.dispatch;
        let accepts = sum(|w| w.accepts.get());
        let closes = sum(|w| w.closes.get());
        let promoted = sum(|w| w.promoted.get());
        let mut buckets: Vec<u64> = d.latency.iter().map(|c| c.load(Relaxed)).collect();
        for w in &src.workers {
            for (b, c) in buckets.iter_mut().zip(&w.latency) {
                *b += c.get();
            }
        }
        let bounds = LATENCY_BOUNDS.iter().map(|b| b.as_secs_f64()).collect();
        let status = src.adaptive.as_ref().map(|a| a.status());
        Snapshot {
            requests_total: sum(|w| w.requests.get()) + d.requests.load(Relaxed),
            errors_total: sum(|w| w.errors.get()) + d.errors.load(Relaxed),
            active_conns: (accepts.saturating_sub(closes + promoted)) + d.active.load(Relaxed),
            accepts,
            closes: closes + d.closes.load(Relaxed),
            bytes_in: sum(|w| w.bytes_in.get()) + d.bytes_in.load(Relaxed),
            bytes_out: sum(|w| w.bytes_out.get()) + d.bytes_out.load(Relaxed),
            async_routes: async_routes as u64,
            async_promoted_conns: promoted,
            engine: match status {
                Some(_) => "adaptive",
                None => src.engine.as_str(),
            },
            active_engine: status.map_or(src.engine, |s| s.active).as_str(),
            engine_switches: status.map_or(0, |s| s.switches),
            adaptive: status.map(|s| AdaptiveMetrics {
                io_uring: s.io_uring,
                last_decision: s
                    .last
                    .map(|d| d.switch_to.map_or("stay", EngineKind::as_str)),
                last_reason: s.last.map(|d| d.reason.as_str()),
            }),
            workers: src.workers.len(),
            worker_restarts: sum(|w| w.restarts.get()),
            connection_crashes: sum(|w| w.crashes.get()) + d.crashes.load(Relaxed),
            latency_buckets: buckets,
            latency_bounds_secs: bounds,
            latency_sum_secs: (sum(|w| w.latency_ns.get()) + d.latency_ns.load(Relaxed)) as f64
                / 1e9,
            cpu_utilization: cpu,
            rates: None,
            learning_routes: Vec::new(),
        }
    }
}
