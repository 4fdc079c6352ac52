//! The access-log middleware over real connections, on every engine: one
//! Combined Log Format line per request, with the peer, request line,
//! status, body size, referer and user agent; hostile bytes are escaped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard::handler::AccessLog;
use switchyard::{Config, EngineChoice, Server};

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs_every_request(engine: EngineChoice) {
    let lines = Lines::default();
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine,
        workers: 1,
        ..Config::default()
    };
    let log = lines.clone();
    let handle = Server::new(config)
        .routes(move |r| {
            r.use_middleware(AccessLog::new(log.clone()));
            r.get("/hello", |ctx| {
                ctx.text("Hello");
                Ok(())
            });
        })
        .start()
        .expect("start");
    let mut c = TcpStream::connect(handle.local_addr()).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(
        b"GET /hello?x=1 HTTP/1.1\r\nHost: t\r\nReferer: http://r/\r\nUser-Agent: test \"agent\"\r\n\r\n\
          GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut sink = Vec::new();
    let _ = c.read_to_end(&mut sink);
    handle.shutdown(Duration::from_secs(2)).expect("shutdown");
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), 2, "{text}");
    assert!(got[0].starts_with("127.0.0.1 - - ["), "{}", got[0]);
    assert!(
        got[0]
            .ends_with("] \"GET /hello?x=1 HTTP/1.1\" 200 5 \"http://r/\" \"test \\\"agent\\\"\""),
        "{}",
        got[0]
    );
    assert!(
        got[1].ends_with("\"GET /missing HTTP/1.1\" 404 13 \"-\" \"-\""),
        "the fallback is logged too: {}",
        got[1]
    );
}

#[cfg(target_os = "linux")]
#[test]
fn on_epoll() {
    logs_every_request(EngineChoice::Epoll);
}

#[test]
fn on_std() {
    logs_every_request(EngineChoice::Std);
}
