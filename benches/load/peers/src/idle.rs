//! Idle-connection client: opens N keep-alive connections, sends one `GET /hello` on each, and holds them open.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What one connection sends.
const REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n";

/// Parsed command line.
struct Opts {
    /// Server address.
    addr: String,
    /// Connections to open.
    conns: usize,
    /// Seconds to hold them after the last one answered.
    hold: u64,
}

fn opts() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:8080".to_owned(),
        conns: 10_000,
        hold: 30,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--addr" => o.addr = value,
            "--conns" => o.conns = value.parse().unwrap_or(o.conns),
            "--hold-secs" => o.hold = value.parse().unwrap_or(o.hold),
            _ => {
                eprintln!("usage: idle-conns [--addr HOST:PORT] [--conns N] [--hold-secs S]");
                std::process::exit(2);
            }
        }
    }
    o
}

/// Opens one connection and completes one request on it.
fn open(addr: &str) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(REQUEST)?;
    let mut buf = [0u8; 1024];
    let mut got = 0;
    // The response is small; read until its body arrived.
    while !buf[..got].ends_with(b"Hello, World!") {
        let n = s.read(&mut buf[got..])?;
        if n == 0 || got + n == buf.len() {
            return Err(std::io::Error::other("unexpected response"));
        }
        got += n;
    }
    if !buf.starts_with(b"HTTP/1.1 200") {
        return Err(std::io::Error::other("status is not 200"));
    }
    Ok(s)
}

fn main() {
    let o = opts();
    let start = Instant::now();
    let mut held = Vec::with_capacity(o.conns);
    let mut failed = 0usize;
    for _ in 0..o.conns {
        match open(&o.addr) {
            Ok(s) => held.push(s),
            Err(e) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("idle-conns: {e}");
                }
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "holding {} connections ({failed} failed) after {:.1}s",
        held.len(),
        start.elapsed().as_secs_f64()
    );
    let _ = out.flush();
    drop(out);
    std::thread::sleep(Duration::from_secs(o.hold));
}
