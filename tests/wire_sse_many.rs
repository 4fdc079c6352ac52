//! Many server-sent event streams on one worker, on every engine: 1,000
//! clients each receive every event of their stream, in order; a client
//! that stops reading is cut at the write timeout without stalling the
//! others.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Streams on the one worker.
const CLIENTS: usize = 1000;

/// Events per stream.
const EVENTS: u32 = 10;

/// Opens `/sse` with `query` on `app`.
fn open(addr: std::net::SocketAddr, query: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "GET /sse?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    s
}

/// Reads the whole stream; the event numbers in the order they came.
fn events(mut s: TcpStream) -> Vec<u32> {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    text.lines()
        .filter_map(|l| l.strip_prefix("data: event "))
        .filter_map(|n| n.parse().ok())
        .collect()
}

for_each_engine! {
    fn a_thousand_streams_on_one_worker_get_every_event_in_order(engine) {
        let app = app!(engine, &["--workers", "1", "--write-timeout-ms", "2000"]);
        let addr = app.addr();
        // A client that never reads a fast, endless-looking stream.
        let stalled = open(addr, "n=1000000&delay_ms=0");
        let start = Arc::new(Barrier::new(CLIENTS));
        let begun = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let start = start.clone();
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || {
                        start.wait();
                        events(open(addr, &format!("n={EVENTS}&delay_ms=100")))
                    })
                    .expect("a client thread")
            })
            .collect();
        let want: Vec<u32> = (0..EVENTS).collect();
        let mut complete = 0;
        for c in clients {
            let got = c.join().expect("client");
            assert_eq!(got, want, "every event, in order");
            complete += 1;
        }
        let took = begun.elapsed();
        println!("{engine}: {complete} streams of {EVENTS} events in {took:?}");
        // The streams took about their own length (0.9 s), not the stalled
        // client's write timeout.
        assert!(took < Duration::from_secs(15), "{took:?}");
        // The stalled client is cut at the write timeout.
        let cut = (0..20).any(|_| {
            std::thread::sleep(Duration::from_millis(500));
            app.metric("active_conns") == 1
        });
        assert!(cut, "the non-reading client is cut: {}", app.metrics());
        drop(stalled);
        assert_eq!(app.get("/hello").status, 200);
    }
}
