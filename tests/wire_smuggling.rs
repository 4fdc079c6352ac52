//! Request smuggling and malformed framing, one row per case, on every
//! engine. Each row's bytes are followed, in the same write, by a probe
//! request (`GET /users/PROBE`, `Connection: close`): a row that is refused
//! must be answered with its status and then closed, the probe never
//! answered; a row that is served must be answered once, with exactly the
//! body its framing says, and the probe after it must be answered as a
//! request of its own. Either way nothing hidden in a body or after an
//! ambiguous frame is ever answered as a request.

#[macro_use]
mod common;

use common::{App, Closed, Resp};

/// The request that follows every row.
const PROBE: &[u8] = b"GET /users/PROBE HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/// A request hidden in a body: never answered as one.
const HIDDEN: &str = "GET /users/HIDDEN HTTP/1.1\r\nHost: t\r\n\r\n";

/// What a row must get.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// This status with `Connection: close`, then the close: the probe is
    /// never answered.
    Refused(u16),
    /// This status and body; the probe is then answered on its own.
    Served(u16, &'static str),
    /// This status and body, then the close (HTTP/1.0 or `Connection:
    /// close`): the probe is never answered.
    ServedThenClosed(u16, &'static str),
}

use Expect::{Refused, Served, ServedThenClosed};

/// `POST /echo` with `headers` (each ending in CRLF) and `body`.
fn post(headers: &str, body: &str) -> String {
    format!("POST /echo HTTP/1.1\r\nHost: t\r\n{headers}\r\n{body}")
}

/// The table: name, bytes, expectation.
fn rows() -> Vec<(&'static str, String, Expect)> {
    let chunked = "Transfer-Encoding: chunked\r\n";
    vec![
        // Content-Length and Transfer-Encoding together (RFC 9112 §6.3).
        ("CL.TE", post(&format!("Content-Length: 4\r\n{chunked}"), "0\r\n\r\n"), Refused(400)),
        ("TE.CL", post(&format!("{chunked}Content-Length: 40\r\n"), "0\r\n\r\n"), Refused(400)),
        // Content-Length values.
        ("duplicate CL, same value", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), Served(200, "hello")),
        ("CL list of the same value", post("Content-Length: 5, 5\r\n", "hello"), Served(200, "hello")),
        ("duplicate CL, different values", post("Content-Length: 5\r\nContent-Length: 45\r\n", "hello"), Refused(400)),
        ("CL list of different values", post("Content-Length: 5, 6\r\n", "hello"), Refused(400)),
        ("CL with a sign", post("Content-Length: +5\r\n", "hello"), Refused(400)),
        ("CL negative", post("Content-Length: -1\r\n", ""), Refused(400)),
        ("CL in hex", post("Content-Length: 0x5\r\n", "hello"), Refused(400)),
        ("CL with inner space", post("Content-Length: 1 0\r\n", "hello"), Refused(400)),
        ("CL overflowing u64", post("Content-Length: 99999999999999999999999\r\n", "hello"), Refused(400)),
        ("CL empty", post("Content-Length: \r\n", ""), Refused(400)),
        ("CL covering a request", post(&format!("Content-Length: {}\r\n", HIDDEN.len()), HIDDEN), Served(200, HIDDEN)),
        // Transfer-Encoding variants.
        ("TE chunked, x", post("Transfer-Encoding: chunked, x\r\n", "0\r\n\r\n"), Refused(400)),
        ("TE x, chunked", post("Transfer-Encoding: x, chunked\r\n", "0\r\n\r\n"), Refused(501)),
        ("TE xchunked", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), Refused(501)),
        ("TE chunkedx", post("Transfer-Encoding: chunkedx\r\n", "0\r\n\r\n"), Refused(501)),
        ("TE identity", post("Transfer-Encoding: identity\r\n", ""), Refused(501)),
        ("TE gzip, chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), Refused(501)),
        ("TE empty", post("Transfer-Encoding: \r\n", ""), Refused(400)),
        ("TE in mixed case", post("Transfer-Encoding: ChUnKeD\r\n", "5\r\nhello\r\n0\r\n\r\n"), Served(200, "hello")),
        ("TE with spaces", post("Transfer-Encoding:  chunked \r\n", "5\r\nhello\r\n0\r\n\r\n"), Served(200, "hello")),
        ("TE with a tab", post("Transfer-Encoding:\tchunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), Served(200, "hello")),
        ("TE by obs-fold", post("Transfer-Encoding:\r\n chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("TE twice", post(&format!("{chunked}{chunked}"), "5\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("TE chunked, chunked", post("Transfer-Encoding: chunked, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("TE name with a space before the colon", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), Refused(400)),
        ("TE on HTTP/1.0", format!("POST /echo HTTP/1.0\r\nHost: t\r\n{chunked}\r\n5\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        // Chunk framing.
        ("chunk size overflowing u64", post(chunked, "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("chunk size with leading zeros", post(chunked, "0000005\r\nhello\r\n0\r\n\r\n"), Served(200, "hello")),
        ("chunk size negative", post(chunked, "-5\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("chunk size with 0x", post(chunked, "0x5\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("chunk size missing", post(chunked, "\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("chunk size then whitespace", post(chunked, "5 \r\nhello\r\n0\r\n\r\n"), Served(200, "hello")),
        ("chunk extension", post(chunked, "5;a=b\r\nhello\r\n0;x\r\n\r\n"), Served(200, "hello")),
        ("chunk lines ending in bare LF", post(chunked, "5\nhello\n0\n\n"), Refused(400)),
        ("chunk longer than its size", post(chunked, "3\r\nhello\r\n0\r\n\r\n"), Refused(400)),
        ("chunk data without its CRLF", post(chunked, "5\r\nhello0\r\n\r\n"), Refused(400)),
        ("trailer claiming a Content-Length", post(chunked, "0\r\nContent-Length: 5\r\n\r\n"), Served(200, "")),
        ("chunks covering a request", post(chunked, &format!("{:x}\r\n{HIDDEN}\r\n0\r\n\r\n", HIDDEN.len())), Served(200, HIDDEN)),
        // Line endings, control bytes, whitespace.
        ("head lines ending in bare LF", "GET /hello HTTP/1.1\nHost: t\n\n".into(), Refused(400)),
        ("bare CR in the head", "GET /hello HTTP/1.1\rHost: t\r\n\r\n".into(), Refused(400)),
        ("NUL in a value", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n".into(), Refused(400)),
        ("control byte in a value", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n".into(), Refused(400)),
        ("control byte in a name", "GET /hello HTTP/1.1\r\nHost: t\r\nX\x01A: b\r\n\r\n".into(), Refused(400)),
        ("whitespace before the colon", "GET /hello HTTP/1.1\r\nHost: t\r\nX-A : b\r\n\r\n".into(), Refused(400)),
        ("first field line folded", "GET /hello HTTP/1.1\r\n Host: t\r\n\r\n".into(), Refused(400)),
        // Request lines.
        ("method with a non-token byte", "G@T /hello HTTP/1.1\r\nHost: t\r\n\r\n".into(), Refused(400)),
        ("method in lower case (another method)", "get /hello HTTP/1.1\r\nHost: t\r\n\r\n".into(), Served(405, "405 Method Not Allowed")),
        ("target without a leading slash", "GET hello HTTP/1.1\r\nHost: t\r\n\r\n".into(), Refused(400)),
        ("target with a space", "GET /hel lo HTTP/1.1\r\nHost: t\r\n\r\n".into(), Refused(400)),
        ("asterisk-form with GET", "GET * HTTP/1.1\r\nHost: t\r\n\r\n".into(), Refused(400)),
        ("asterisk-form with OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n".into(), Served(404, "404 Not Found")),
        ("authority-form (CONNECT)", "CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n".into(), Refused(400)),
        ("version HTTP/1.2", "GET /hello HTTP/1.2\r\nHost: t\r\n\r\n".into(), Refused(505)),
        ("version HTTP/2.0", "GET /hello HTTP/2.0\r\nHost: t\r\n\r\n".into(), Refused(505)),
        ("version in lower case", "GET /hello http/1.1\r\nHost: t\r\n\r\n".into(), Refused(400)),
        // Expect.
        ("Expect: 100-continue", post("Expect: 100-continue\r\nContent-Length: 5\r\n", "hello"), Served(200, "hello")),
        ("Expect: 100-continue on HTTP/1.0", "POST /echo HTTP/1.0\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello".into(), ServedThenClosed(200, "hello")),
        // Header counts.
        ("200 header fields", format!("GET /hello HTTP/1.1\r\nHost: t\r\n{}\r\n", (0..200).map(|i| format!("X-{i}: v\r\n")).collect::<String>()), Refused(431)),
        // Targets and Host.
        ("absolute-form", "GET http://t/hello HTTP/1.1\r\nHost: t\r\n\r\n".into(), Served(200, "Hello, World!")),
        ("absolute-form, https", "GET https://t/hello HTTP/1.1\r\nHost: t\r\n\r\n".into(), Served(200, "Hello, World!")),
        ("absolute-form, Host differs", "GET http://a/hello HTTP/1.1\r\nHost: b\r\n\r\n".into(), Served(200, "Hello, World!")),
        ("absolute-form with userinfo", "GET http://u@t/hello HTTP/1.1\r\nHost: t\r\n\r\n".into(), Refused(400)),
        ("absolute-form without Host", "GET http://t/hello HTTP/1.1\r\n\r\n".into(), Refused(400)),
        ("Host missing", "GET /hello HTTP/1.1\r\n\r\n".into(), Refused(400)),
        ("Host missing on HTTP/1.0", "GET /hello HTTP/1.0\r\n\r\n".into(), ServedThenClosed(200, "Hello, World!")),
        ("Host twice", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".into(), Refused(400)),
        ("Host twice, same value", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n".into(), Refused(400)),
        ("Host with a space", "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n".into(), Refused(400)),
        ("Host with userinfo", "GET /hello HTTP/1.1\r\nHost: u@a\r\n\r\n".into(), Refused(400)),
        ("Host empty", "GET /hello HTTP/1.1\r\nHost:\r\n\r\n".into(), Served(200, "Hello, World!")),
        // A body on a GET is framed like any other.
        ("GET with a body", format!("GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{HIDDEN}", HIDDEN.len()), Served(200, "Hello, World!")),
        ("Connection: close", "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".into(), ServedThenClosed(200, "Hello, World!")),
    ]
}

/// The next final response (interim 1xx responses skipped).
fn final_response(conn: &mut common::Conn) -> Resp {
    loop {
        let resp = conn.read_response();
        if resp.status >= 200 {
            return resp;
        }
    }
}

/// Sends one row with the probe behind it and checks the expectation.
fn check(app: &App, name: &str, bytes: &str, expect: Expect) {
    let mut conn = app.connect();
    let mut wire = bytes.as_bytes().to_vec();
    wire.extend_from_slice(PROBE);
    // A refused request may be answered and closed before all of it is
    // written; what was sent is what counts.
    let _ = conn.try_send(&wire);
    let resp = final_response(&mut conn);
    let (status, body) = match expect {
        Refused(s) => (s, None),
        Served(s, b) | ServedThenClosed(s, b) => (s, Some(b)),
    };
    assert_eq!(resp.status, status, "{name}: {resp:?}");
    if let Some(body) = body {
        assert_eq!(resp.text(), body, "{name}: the body its framing says");
    }
    match expect {
        Refused(_) | ServedThenClosed(..) => {
            if matches!(expect, Refused(_)) {
                assert!(resp.closes(), "{name}: refusal says close: {resp:?}");
            }
            match conn.read_until_closed(common::READ_TIMEOUT) {
                Closed::Yes(rest) => assert!(
                    rest.is_empty(),
                    "{name}: nothing after the answer, got {:?}",
                    String::from_utf8_lossy(&rest)
                ),
                Closed::StillOpen(rest) => panic!(
                    "{name}: connection left open (got {:?})",
                    String::from_utf8_lossy(&rest)
                ),
            }
        }
        Served(..) => {
            let probe = final_response(&mut conn);
            assert_eq!(
                (probe.status, probe.text()),
                (200, "user:PROBE"),
                "{name}: the probe is a request of its own"
            );
            conn.assert_closed(name);
        }
    }
}

for_each_engine! {
    fn every_row_gets_its_answer_and_nothing_is_smuggled(engine) {
        let app = app!(engine);
        let rows = rows();
        for (name, bytes, expect) in &rows {
            check(&app, name, bytes, *expect);
        }
        // The server is unharmed.
        assert_eq!(app.get("/hello").status, 200);
        println!("{engine}: {} rows passed", rows.len());
    }
}
