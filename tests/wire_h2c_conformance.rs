//! RFC 9113 / RFC 7541 conformance over the wire, after the h2spec tool's
//! case list (`h2c_support::cases`): every row on a fresh connection to one
//! app per engine, the RFC's outcome checked (GOAWAY with its code and the
//! close, RST_STREAM with its code and the connection still serving, or a
//! normal response), and a fresh connection served after each row. Known
//! deviations are listed on their rows with the reason; a deviation that
//! stops deviating fails the run, so the list stays true. Run on every
//! engine that serves h2c.

#[macro_use]
mod common;
mod h2c_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use h2c_support::cases::{self, Case, Cat, Expect, NEXT};
use h2c_support::raw::{code, kind, Client, Seen, WAIT};

/// Checks a connection error: GOAWAY with one of `codes`, then the close
/// (or, when `may_omit`, the close alone).
fn conn_error(c: &mut Client, codes: &[u32], may_omit: bool) -> Result<(), String> {
    loop {
        match c.read(WAIT) {
            Seen::Frame(f) if f.kind == kind::GOAWAY => {
                if !codes.contains(&f.code()) {
                    return Err(format!("{f}, wanted a code in {codes:x?}"));
                }
                return c.until_closed(WAIT).map(|_| ());
            }
            Seen::Frame(_) => {}
            Seen::Closed if may_omit => return Ok(()),
            Seen::Closed => return Err("closed without GOAWAY".into()),
            Seen::Timeout => return Err(format!("no GOAWAY within {WAIT:?}")),
        }
    }
}

/// Checks a stream error on `stream`: RST_STREAM with one of `codes` and
/// the connection still serving, or a connection error with one of them.
fn stream_error(c: &mut Client, stream: u32, codes: &[u32]) -> Result<(), String> {
    loop {
        match c.read(WAIT) {
            Seen::Frame(f) if f.kind == kind::RST_STREAM && f.stream == stream => {
                if !codes.contains(&f.code()) {
                    return Err(format!("{f}, wanted a code in {codes:x?}"));
                }
                return c.serves(NEXT);
            }
            Seen::Frame(f) if f.kind == kind::GOAWAY => {
                if !codes.contains(&f.code()) {
                    return Err(format!("{f}, wanted a code in {codes:x?}"));
                }
                return c.until_closed(WAIT).map(|_| ());
            }
            Seen::Frame(f) if f.kind == kind::RST_STREAM => {
                return Err(format!("{f} on another stream than {stream}"))
            }
            Seen::Frame(_) => {}
            other => return Err(format!("{other:?} instead of RST_STREAM({stream})")),
        }
    }
}

/// Runs one row on a fresh connection, checking `expect`.
fn run(addr: SocketAddr, case: &Case, expect: Expect) -> Result<(), String> {
    let mut c = if case.handshake {
        Client::open(addr)
    } else {
        Client::connect(addr)
    };
    let stream = (case.send)(&mut c);
    match expect {
        Expect::Conn(codes) => conn_error(&mut c, codes, false),
        Expect::ConnOrClose(codes) => conn_error(&mut c, codes, true),
        Expect::Stream(codes) => stream_error(&mut c, stream, codes),
        Expect::Status(status) => {
            let a = c.response(stream)?;
            if a.status != status {
                return Err(format!("status {}, wanted {status}", a.status));
            }
            c.serves(NEXT)
        }
        Expect::Fine => {
            let before = c.barrier(*b"fine?ok!")?;
            let bad = before.iter().find(|f| {
                f.kind == kind::RST_STREAM || (f.kind == kind::GOAWAY && f.code() != code::NO_ERROR)
            });
            match bad {
                Some(f) => Err(format!("unexpected {f}")),
                None => c.serves(NEXT),
            }
        }
        Expect::Check(check) => check(&mut c, stream),
    }
}

/// Per category: passed, failing (known deviations), not applicable.
#[derive(Default)]
struct Count {
    passed: usize,
    deviations: usize,
}

/// Runs every row against the app at `addr`; panics listing the rows that
/// fail unexpectedly (and deviations that no longer hold).
fn run_all(engine: &str, addr: SocketAddr) {
    let rows = cases::all();
    let mut counts: BTreeMap<Cat, Count> = BTreeMap::new();
    let mut wrong = Vec::new();
    for case in &rows {
        let outcome = run(addr, case, case.expect);
        // The server keeps serving new connections after every row.
        let fresh = Client::open(addr).serves(1);
        let count = counts.entry(case.cat).or_default();
        match (outcome, case.deviation) {
            (Ok(()), None) => count.passed += 1,
            (Err(e), Some(dev)) => match run(addr, case, dev.instead) {
                Ok(()) => {
                    count.deviations += 1;
                    println!("{engine} {} {}: known deviation: {e}", case.id, case.what);
                }
                Err(e2) => wrong.push(format!(
                    "{} {}: {e}; and not as its known deviation either: {e2}",
                    case.id, case.what
                )),
            },
            (Ok(()), Some(dev)) => wrong.push(format!(
                "{} {}: passes now; drop its deviation ({})",
                case.id, case.what, dev.why
            )),
            (Err(e), None) => wrong.push(format!("{} {}: {e}", case.id, case.what)),
        }
        if let Err(e) = fresh {
            wrong.push(format!(
                "{} {}: a fresh connection after it: {e}",
                case.id, case.what
            ));
        }
    }
    println!("{engine}: {} rows", rows.len());
    println!("| category | passed | known deviations |");
    for (cat, c) in &counts {
        println!("| {cat:?} | {} | {} |", c.passed, c.deviations);
    }
    assert!(
        wrong.is_empty(),
        "{engine}: {} rows fail:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

for_each_engine! {
    engines(epoll = "epoll", io_uring = "io-uring", std = "std");
    fn every_h2spec_case_gets_the_rfc_outcome(engine) {
        let app = app!(engine, &["--protocol", "h2c", "--workers", "1"]);
        run_all(engine, app.addr());
    }
}
