//! `GET /metrics/prometheus` on every engine: the Prometheus text format
//! (checked by `promtool check metrics` where Debian's `prometheus` package
//! is installed; a printed skip otherwise), OpenMetrics on request, and
//! values that agree with the JSON snapshot.

#[macro_use]
mod common;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use common::Resp;

/// `GET path` with an optional `Accept`.
fn scrape(app: &common::App, accept: Option<&str>) -> Resp {
    let mut conn = app.connect();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    conn.send(format!(
        "GET /metrics/prometheus HTTP/1.1\r\nHost: t\r\n{accept}Connection: close\r\n\r\n"
    ));
    conn.read_response()
}

/// Sums the samples of `name` over every label set.
fn total(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let metric = series.split('{').next()?;
            (metric == name).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// `promtool check metrics` on `text`: Some(its verdict), None when the
/// tool is not installed.
fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), said))
}

for_each_engine! {
    fn prometheus_text_agrees_with_the_snapshot(engine) {
        let app = app!(engine);
        for _ in 0..5 {
            assert_eq!(app.get("/hello").status, 200);
        }
        assert_eq!(app.get("/async/hello").status, 200);
        assert_eq!(app.get("/nope").status, 404);
        // Quiet now: the JSON snapshot does not count itself; the scrape
        // counts the snapshot's request but not itself.
        let json = app.metrics();
        let resp = scrape(&app, None);
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let text = resp.text().to_owned();
        let requests = json["requests_total"].as_u64().expect("requests_total");
        assert_eq!(total(&text, "switchyard_requests_total") as u64, requests + 1, "{text}");
        assert_eq!(
            total(&text, "switchyard_request_duration_seconds_count") as u64,
            requests + 1
        );
        assert_eq!(
            total(&text, "switchyard_async_promoted_connections_total") as u64,
            json["async_promoted_conns"].as_u64().expect("promoted")
        );
        assert_eq!(total(&text, "switchyard_worker_restarts_total"), 0.0);
        assert_eq!(total(&text, "switchyard_async_routes"), json["async_routes"].as_f64().unwrap());
        // Every series names its engine and worker.
        let workers: HashMap<&str, ()> = text
            .lines()
            .filter(|l| l.starts_with("switchyard_requests_total{"))
            .filter_map(|l| l.split("worker=\"").nth(1)?.split('"').next())
            .map(|w| (w, ()))
            .collect();
        assert!(workers.contains_key("0") && workers.contains_key("1") && workers.contains_key("dispatch"), "{workers:?}");
        assert!(text.contains(&format!("engine=\"{engine}\"")));
        match promtool(&text) {
            Some((ok, said)) => assert!(ok, "promtool check metrics: {said}\n{text}"),
            None => println!("skipped: promtool not installed (Debian package prometheus)"),
        }
    }

    fn openmetrics_when_asked(engine) {
        let app = app!(engine);
        let resp = scrape(&app, Some("application/openmetrics-text; version=1.0.0"));
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.header("content-type"),
            Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
        );
        let text = resp.text();
        assert!(text.contains("# TYPE switchyard_requests counter\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
