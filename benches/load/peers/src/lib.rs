//! What every peer server shares: its command line, the bench routes' bodies, and the `ms` query of the blocking route.

use std::io::Write;
use std::time::Duration;

/// The `/hello` body.
pub const HELLO: &str = "Hello, World!";

/// Longest sleep `/async/sleep` accepts, as in the conformance app.
const MAX_SLEEP_MS: u64 = 5000;

/// The `/json` body.
#[derive(serde::Serialize)]
pub struct Message {
    /// The greeting.
    pub message: &'static str,
}

/// The `/json` body's value.
pub const MESSAGE: Message = Message { message: HELLO };

/// A peer's command line: `--addr HOST:PORT --workers N`.
#[derive(Clone, Debug)]
pub struct Args {
    /// Listen address.
    pub addr: String,
    /// Worker threads (event loops) serving connections.
    pub workers: usize,
}

impl Args {
    /// Parses the process arguments; exits with a usage line on anything else.
    pub fn parse() -> Args {
        let mut args = Args {
            addr: "127.0.0.1:8080".to_owned(),
            workers: 1,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next();
            match (flag.as_str(), value) {
                ("--addr", Some(v)) => args.addr = v,
                ("--workers", Some(v)) => match v.parse() {
                    Ok(n) if n > 0 => args.workers = n,
                    _ => usage(),
                },
                _ => usage(),
            }
        }
        args
    }
}

/// Prints the usage line and exits 2.
fn usage() -> ! {
    eprintln!("usage: PEER [--addr HOST:PORT] [--workers N]");
    std::process::exit(2);
}

/// Prints `listening on ADDR` and flushes, as the conformance app does.
pub fn announce(addr: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// The `ms` parameter of a query string (`ms=5`), at most 5000; 0 when absent
/// or not a number.
pub fn millis(query: Option<&str>) -> Duration {
    let ms = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        .min(MAX_SLEEP_MS);
    Duration::from_millis(ms)
}
