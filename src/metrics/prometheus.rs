//! The counters in the Prometheus text exposition format (0.0.4), or in
//! OpenMetrics 1.0 when the scraper asks for it: one series per worker
//! (`worker="0"`, …, and `worker="dispatch"` for promoted connections and
//! dispatch actors), every series labelled with the engine, names by the
//! Prometheus conventions (`_total` counters, base units: seconds, bytes).
//! Learning routes have their own families, labelled by method and route
//! pattern (never a request's path, so the series stay bounded).
//!
//! Written here rather than through a client library: the values already
//! live in the workers' counters and are read once per scrape, so a
//! registry mirroring them would only add copies; the text format is a few
//! fixed lines per metric.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use super::{Sources, LATENCY_BOUNDS};
use crate::router::{LearnState, LearnStats};

/// Which exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text`, else the Prometheus text format.
    pub fn negotiate(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// One worker's values, as one label set.
struct Series {
    /// The `worker` label.
    worker: String,
    /// Requests answered.
    requests: u64,
    /// Of which errors.
    errors: u64,
    /// Connections accepted.
    accepts: u64,
    /// Connections closed.
    closes: u64,
    /// Connections open now.
    active: u64,
    /// Connections promoted.
    promoted: u64,
    /// Bytes read and written.
    bytes: (u64, u64),
    /// Restarts after a crash.
    restarts: u64,
    /// Connection tasks that panicked.
    crashes: u64,
    /// Requests per latency bucket (not cumulative).
    latency: Vec<u64>,
    /// Latency sum in nanoseconds.
    latency_ns: u64,
}

/// A counter family: name (without `switchyard_` and `_total`), help, and
/// its value in a series.
type Counter = (&'static str, &'static str, fn(&Series) -> u64);

/// Every worker's series, then the dispatch side's.
fn series(src: &Sources) -> Vec<Series> {
    // Under the adaptive engine the workers are epoll's, then io_uring's
    // (when it serves here): each is named by its engine and index.
    let per_engine = match src.adaptive.as_ref().map(|a| a.status().io_uring) {
        Some(true) => Some(src.workers.len() / 2),
        Some(false) => Some(src.workers.len()),
        None => None,
    };
    let name = |i: usize| match per_engine {
        Some(n) if i >= n => format!("io-uring-{}", i - n),
        Some(_) => format!("epoll-{i}"),
        None => i.to_string(),
    };
    let mut all: Vec<Series> = src
        .workers
        .iter()
        .enumerate()
        .map(|(i, w)| Series {
            worker: name(i),
            requests: w.requests.get(),
            errors: w.errors.get(),
            accepts: w.accepts.get(),
            closes: w.closes.get(),
            active: w
                .accepts
                .get()
                .saturating_sub(w.closes.get() + w.promoted.get()),
            promoted: w.promoted.get(),
            bytes: (w.bytes_in.get(), w.bytes_out.get()),
            restarts: w.restarts.get(),
            crashes: w.crashes.get(),
            latency: w.latency.iter().map(|c| c.get()).collect(),
            latency_ns: w.latency_ns.get(),
        })
        .collect();
    let d = &src.dispatch;
    all.push(Series {
        worker: "dispatch".into(),
        requests: d.requests.load(Relaxed),
        errors: d.errors.load(Relaxed),
        accepts: 0,
        closes: d.closes.load(Relaxed),
        active: d.active.load(Relaxed),
        promoted: 0,
        bytes: (d.bytes_in.load(Relaxed), d.bytes_out.load(Relaxed)),
        restarts: 0,
        crashes: d.crashes.load(Relaxed),
        latency: d.latency.iter().map(|c| c.load(Relaxed)).collect(),
        latency_ns: d.latency_ns.load(Relaxed),
    });
    all
}

/// Renders every metric; `async_routes` is the current table's count,
/// `learning` its learning routes' telemetry.
pub fn render(
    src: &Sources,
    async_routes: usize,
    learning: &[LearnStats],
    format: Format,
) -> String {
    let engine = match src.adaptive {
        Some(_) => "adaptive",
        None => src.engine.as_str(),
    };
    let all = series(src);
    let mut out = String::with_capacity(4096);
    let counters: [Counter; 9] = [
        ("requests", "Requests answered.", |s| s.requests),
        (
            "errors",
            "Requests answered with a 5xx or a protocol error, and connection errors.",
            |s| s.errors,
        ),
        ("connections_accepted", "Connections accepted.", |s| {
            s.accepts
        }),
        ("connections_closed", "Connections closed.", |s| s.closes),
        (
            "async_promoted_connections",
            "Connections moved to a dispatch actor.",
            |s| s.promoted,
        ),
        ("received_bytes", "Bytes read from clients.", |s| s.bytes.0),
        ("sent_bytes", "Bytes written to clients.", |s| s.bytes.1),
        (
            "worker_restarts",
            "Times a worker was rebuilt after a crash.",
            |s| s.restarts,
        ),
        (
            "connection_crashes",
            "Connection tasks that panicked (each closed its connection only).",
            |s| s.crashes,
        ),
    ];
    for (name, help, value) in counters {
        family(&mut out, format, name, "counter", help);
        for s in &all {
            let _ = writeln!(
                out,
                "switchyard_{name}_total{{engine=\"{engine}\",worker=\"{}\"}} {}",
                s.worker,
                value(s)
            );
        }
    }
    family(
        &mut out,
        format,
        "active_connections",
        "gauge",
        "Connections open now.",
    );
    for s in &all {
        let _ = writeln!(
            out,
            "switchyard_active_connections{{engine=\"{engine}\",worker=\"{}\"}} {}",
            s.worker, s.active
        );
    }
    family(
        &mut out,
        format,
        "async_routes",
        "gauge",
        "Routes whose handlers run off the event loop.",
    );
    let _ = writeln!(
        out,
        "switchyard_async_routes{{engine=\"{engine}\"}} {async_routes}"
    );
    family(
        &mut out,
        format,
        "request_duration_seconds",
        "histogram",
        "Time from a request's arrival to its answer.",
    );
    for s in &all {
        let labels = format!("engine=\"{engine}\",worker=\"{}\"", s.worker);
        let mut cumulative = 0;
        for (i, n) in s.latency.iter().enumerate() {
            cumulative += n;
            let le = LATENCY_BOUNDS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.as_secs_f64().to_string());
            let _ = writeln!(
                out,
                "switchyard_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "switchyard_request_duration_seconds_sum{{{labels}}} {}",
            s.latency_ns as f64 / 1e9
        );
        let _ = writeln!(
            out,
            "switchyard_request_duration_seconds_count{{{labels}}} {cumulative}"
        );
    }
    if !learning.is_empty() {
        learning_routes(&mut out, format, engine, learning);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// The learning routes' families: requests by where they ran, promotions,
/// the state (one series per state, 1 for the current one) and the handler
/// time histogram of timed runs.
fn learning_routes(out: &mut String, format: Format, engine: &str, routes: &[LearnStats]) {
    let labels = |r: &LearnStats| {
        format!(
            "engine=\"{engine}\",method=\"{}\",route=\"{}\"",
            escape(&r.method),
            escape(&r.route)
        )
    };
    family(
        out,
        format,
        "route_requests",
        "counter",
        "Requests to a learning route, by where its handler ran.",
    );
    for r in routes {
        let l = labels(r);
        for (dispatch, n) in [("inline", r.requests_inline), ("async", r.requests_async)] {
            let _ = writeln!(
                out,
                "switchyard_route_requests_total{{{l},dispatch=\"{dispatch}\"}} {n}"
            );
        }
    }
    family(
        out,
        format,
        "route_promotions",
        "counter",
        "Times a learning route was promoted to async.",
    );
    for r in routes {
        let _ = writeln!(
            out,
            "switchyard_route_promotions_total{{{}}} {}",
            labels(r),
            r.promotions
        );
    }
    family(
        out,
        format,
        "route_dispatch_state",
        "gauge",
        "A learning route's state: 1 for the current one.",
    );
    for r in routes {
        let l = labels(r);
        for state in LearnState::ALL {
            let _ = writeln!(
                out,
                "switchyard_route_dispatch_state{{{l},state=\"{}\"}} {}",
                state.as_str(),
                u8::from(r.state == state)
            );
        }
    }
    family(
        out,
        format,
        "route_handler_seconds",
        "histogram",
        "Handler time of a learning route's timed (inline, learning) runs.",
    );
    for r in routes {
        let l = labels(r);
        let mut cumulative = 0;
        for (i, n) in r.handler_time_buckets.iter().enumerate() {
            cumulative += n;
            let le = r
                .handler_time_bounds_secs
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let _ = writeln!(
                out,
                "switchyard_route_handler_seconds_bucket{{{l},le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "switchyard_route_handler_seconds_sum{{{l}}} {}",
            r.handler_time_sum_secs
        );
        let _ = writeln!(
            out,
            "switchyard_route_handler_seconds_count{{{l}}} {cumulative}"
        );
    }
}

/// A label value escaped for the text formats: `\\`, `\"` and `\n`.
fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return v.into();
    }
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .into()
}

/// The `HELP` and `TYPE` lines of a family. A counter family is named
/// without `_total` in OpenMetrics, with it in the Prometheus text format
/// (where the family name is the sample name).
fn family(out: &mut String, format: Format, name: &str, kind: &str, help: &str) {
    let suffix = if kind == "counter" && format == Format::Text {
        "_total"
    } else {
        ""
    };
    let _ = writeln!(out, "# HELP switchyard_{name}{suffix} {help}");
    let _ = writeln!(out, "# TYPE switchyard_{name}{suffix} {kind}");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::config::EngineKind;
    use crate::metrics::{SharedCounters, Tally, WorkerCounters};

    fn sources() -> Sources {
        let w = Arc::new(WorkerCounters::default());
        w.answered(3, 1, Duration::from_millis(2));
        w.accepts.add(2);
        w.closes.add(1);
        let d = Arc::new(SharedCounters::default());
        d.answered(1, 0, Duration::from_secs(2));
        Sources {
            engine: EngineKind::Epoll,
            workers: vec![w],
            dispatch: d,
            adaptive: None,
        }
    }

    #[test]
    fn text_format_has_every_family_with_per_worker_series() {
        let text = render(&sources(), 2, &[], Format::Text);
        for line in [
            "# TYPE switchyard_requests_total counter",
            "switchyard_requests_total{engine=\"epoll\",worker=\"0\"} 3",
            "switchyard_requests_total{engine=\"epoll\",worker=\"dispatch\"} 1",
            "switchyard_errors_total{engine=\"epoll\",worker=\"0\"} 1",
            "switchyard_active_connections{engine=\"epoll\",worker=\"0\"} 1",
            "switchyard_async_routes{engine=\"epoll\"} 2",
            "switchyard_worker_restarts_total{engine=\"epoll\",worker=\"0\"} 0",
            "# TYPE switchyard_request_duration_seconds histogram",
            "switchyard_request_duration_seconds_bucket{engine=\"epoll\",worker=\"0\",le=\"0.001\"} 0",
            "switchyard_request_duration_seconds_bucket{engine=\"epoll\",worker=\"0\",le=\"0.005\"} 3",
            "switchyard_request_duration_seconds_bucket{engine=\"epoll\",worker=\"0\",le=\"+Inf\"} 3",
            "switchyard_request_duration_seconds_sum{engine=\"epoll\",worker=\"0\"} 0.006",
            "switchyard_request_duration_seconds_count{engine=\"epoll\",worker=\"dispatch\"} 1",
            "switchyard_request_duration_seconds_bucket{engine=\"epoll\",worker=\"dispatch\",le=\"1\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn openmetrics_names_counter_families_without_total_and_ends_with_eof() {
        let text = render(&sources(), 0, &[], Format::OpenMetrics);
        assert!(text.contains("# TYPE switchyard_requests counter\n"));
        assert!(text.contains("switchyard_requests_total{engine=\"epoll\",worker=\"0\"} 3\n"));
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(
            Format::negotiate(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            Format::OpenMetrics
        );
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(Format::negotiate(None), Format::Text);
    }

    #[test]
    fn learning_routes_are_labelled_by_pattern_with_state_and_histogram() {
        let mut router = crate::Router::new();
        router
            .get("/users/:id", |ctx| {
                ctx.text("u");
                Ok(())
            })
            .learn();
        router
            .get("/q\"x", |ctx| {
                ctx.text("q");
                Ok(())
            })
            .learn();
        let routes = router.table().learning_routes();
        let text = render(&sources(), 0, &routes, Format::Text);
        let l = "engine=\"epoll\",method=\"GET\",route=\"/users/:id\"";
        for line in [
            "# TYPE switchyard_route_requests_total counter".to_owned(),
            format!("switchyard_route_requests_total{{{l},dispatch=\"inline\"}} 0"),
            format!("switchyard_route_requests_total{{{l},dispatch=\"async\"}} 0"),
            format!("switchyard_route_promotions_total{{{l}}} 0"),
            format!("switchyard_route_dispatch_state{{{l},state=\"learning\"}} 1"),
            format!("switchyard_route_dispatch_state{{{l},state=\"promoted\"}} 0"),
            format!("switchyard_route_dispatch_state{{{l},state=\"settled\"}} 0"),
            "# TYPE switchyard_route_handler_seconds histogram".to_owned(),
            format!("switchyard_route_handler_seconds_bucket{{{l},le=\"0.0003\"}} 0"),
            format!("switchyard_route_handler_seconds_bucket{{{l},le=\"+Inf\"}} 0"),
            format!("switchyard_route_handler_seconds_count{{{l}}} 0"),
            "switchyard_route_promotions_total{engine=\"epoll\",method=\"GET\",route=\"/q\\\"x\"} 0".to_owned(),
        ] {
            assert!(text.lines().any(|x| x == line), "missing {line:?} in\n{text}");
        }
    }
}
