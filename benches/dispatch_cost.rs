//! What per-route async dispatch costs on the epoll engine, measured with wrk
//! against servers started in this process (one worker pinned to CPU 0, wrk
//! pinned to CPU 1):
//! 1. `/hello` on a pure-sync server and on the same server with async routes
//!    registered (the promise: no difference beyond noise);
//! 2. new connections that each make one request, to a sync route and to an
//!    async route (the price of promoting a connection);
//! 3. `/hello` latency while other connections keep a blocking route busy,
//!    when that route is async and when it is sync (what dispatch is for).
//!
//! Run: `cargo bench --bench dispatch_cost` (env: `ROUNDS` [3], `DURATION` [5s]).
//! Prints a table; exits 0 without numbers when wrk is missing.

use std::process::{Command, Stdio};
use std::time::Duration;

use switchyard::{Config, Ctx, EngineChoice, HttpError, Router, ServerActor, ServerHandle};

/// `GET /hello`.
fn hello(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    ctx.text("Hello, World!");
    Ok(())
}

/// Blocks its thread for `ms` (query) milliseconds.
fn sleep(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    let ms: u64 = ctx.query("ms").and_then(|v| v.parse().ok()).unwrap_or(0);
    std::thread::sleep(Duration::from_millis(ms.min(1000)));
    ctx.text("slept");
    Ok(())
}

/// Only sync routes.
fn pure_sync() -> Router {
    let mut r = Router::new();
    r.get("/hello", hello);
    r
}

/// The same, plus async routes and a sync blocking route.
fn with_async() -> Router {
    let mut r = pure_sync();
    r.get("/async/hello", hello).asynchronous();
    r.get("/async/sleep", sleep).asynchronous();
    r.get("/sync/sleep", sleep).sync();
    r
}

/// One epoll worker pinned to CPU 0.
fn start(router: Router) -> ServerHandle {
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine: EngineChoice::Epoll,
        workers: 1,
        pin_workers: true,
        ..Config::default()
    };
    ServerActor::spawn(config, router).expect("start a server")
}

/// CPU seconds this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// What one wrk run reported.
struct Wrk {
    /// Requests per second.
    rps: f64,
    /// 99th percentile latency in milliseconds.
    p99_ms: f64,
}

/// Runs wrk on CPU 1 and parses its summary.
fn wrk(args: &[&str]) -> Wrk {
    let out = Command::new("taskset")
        .args(["-c", "1", "wrk", "--latency"])
        .args(args)
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map_or(f64::NAN, |v| millis(v.trim()));
    Wrk { rps, p99_ms }
}

/// wrk's latency text (`812.00us`, `1.20ms`, `2.00s`) in milliseconds.
fn millis(v: &str) -> f64 {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let n: f64 = v[..split].parse().unwrap_or(f64::NAN);
    match &v[split..] {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

/// The median of `v`.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!("wrk is not installed (apt-get install wrk); nothing measured");
        return;
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let duration = std::env::var("DURATION").unwrap_or_else(|_| "5s".into());
    let pure = start(pure_sync());
    let mixed = start(with_async());
    let url = |h: &ServerHandle, p: &str| format!("http://{}{p}", h.local_addr());
    println!("# dispatch cost: {rounds} interleaved rounds of {duration}, 1 worker on CPU 0, wrk on CPU 1");

    let (mut rps, mut eff) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    let (mut sync_conn, mut async_conn) = (Vec::new(), Vec::new());
    let (mut hello_async, mut hello_sync) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (i, server) in [&pure, &mixed].into_iter().enumerate() {
            let before = cpu_seconds();
            let w = wrk(&["-t1", "-c64", "-d", &duration, &url(server, "/hello")]);
            let cpu = cpu_seconds() - before;
            let secs = duration.trim_end_matches('s').parse::<f64>().unwrap_or(5.0);
            rps[i].push(w.rps);
            eff[i].push(w.rps * secs / cpu.max(1e-9));
        }
        let close = ["-t1", "-c16", "-H", "Connection: close", "-d", &duration];
        sync_conn.push(wrk(&[&close[..], &[url(&mixed, "/hello").as_str()]].concat()).rps);
        async_conn.push(wrk(&[&close[..], &[url(&mixed, "/async/hello").as_str()]].concat()).rps);
        for (route, out) in [
            ("/async/sleep?ms=100", &mut hello_async),
            ("/sync/sleep?ms=100", &mut hello_sync),
        ] {
            let load_url = url(&mixed, route);
            let mut load = Command::new("taskset")
                .args(["-c", "1", "wrk", "-t1", "-c16", "-d", &duration, &load_url])
                .stdout(Stdio::null())
                .spawn()
                .expect("start the blocking load");
            std::thread::sleep(Duration::from_millis(300));
            out.push(wrk(&["-t1", "-c16", "-d", "3s", &url(&mixed, "/hello")]));
            let _ = load.kill();
            let _ = load.wait();
        }
    }
    println!("| measurement | pure-sync server | server with async routes |");
    println!("|---|---|---|");
    println!(
        "| /hello req/s (wrk -t1 -c64) | {:.0} | {:.0} |",
        median(rps[0].clone()),
        median(rps[1].clone())
    );
    println!(
        "| /hello req per server CPU-second | {:.0} | {:.0} |",
        median(eff[0].clone()),
        median(eff[1].clone())
    );
    println!();
    println!("| new connection per request (wrk -c16, Connection: close) | conn/s |");
    println!("|---|---|");
    println!(
        "| GET /hello (sync, stays on the worker) | {:.0} |",
        median(sync_conn)
    );
    println!(
        "| GET /async/hello (promoted to a dispatch actor) | {:.0} |",
        median(async_conn)
    );
    println!();
    println!("| /hello (wrk -c16, 3 s) while 16 connections hit a 100 ms blocking route | /hello req/s | /hello p99 ms |");
    println!("|---|---|---|");
    for (label, runs) in [
        ("blocking route is async (/async/sleep)", hello_async),
        (
            "blocking route is sync (/sync/sleep): it blocks the worker",
            hello_sync,
        ),
    ] {
        let rps = median(runs.iter().map(|w| w.rps).collect());
        // wrk prints no usable percentile when (almost) nothing was answered.
        let answered: Vec<f64> = runs
            .iter()
            .filter(|w| w.rps > 0.0 && w.p99_ms > 0.0)
            .map(|w| w.p99_ms)
            .collect();
        let p99 = if answered.is_empty() {
            "none answered".to_owned()
        } else {
            format!("{:.2}", median(answered))
        };
        println!("| {label} | {rps:.0} | {p99} |");
    }
    let grace = Duration::from_secs(2);
    let _ = pure.shutdown(grace);
    let _ = mixed.shutdown(grace);
}
