//! TLS on the std engine, against the conformance app over real sockets:
//! HTTP/1.1 and h2 chosen by ALPN (a rustls client, curl and h2load), large
//! bodies both ways, and the bad outcomes — garbage instead of a handshake,
//! plaintext HTTP on the TLS port, an expired certificate, a missing or
//! invalid key, a silent client, the loop engines. Certificates are made
//! here with rcgen, under a private CA.

#![cfg(feature = "tls")]

#[allow(unused_macros)]
#[macro_use]
mod common;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{parse_response, App, Closed, Conn, Launch, Resp};
use h2::client::SendRequest;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};

/// Lines of the large streamed body (`chunk I\n` each: about 3.6 MB).
const STREAM_LINES: usize = 300_000;

/// How long one TLS response may take (the large ones, on a debug build).
const TLS_READ: Duration = Duration::from_secs(30);

/// A private CA and a server certificate it signed, written to files.
struct Certs {
    /// The folder holding the files (removed on drop).
    dir: PathBuf,
    /// The CA certificate, to trust.
    ca: CertificateDer<'static>,
}

impl Certs {
    /// A CA and a certificate for `localhost` and 127.0.0.1; `expired`
    /// makes one valid only in 2020.
    fn new(expired: bool) -> Certs {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "switchyard-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("certificate folder");
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "switchyard test CA");
        let ca = ca_params.self_signed(&ca_key).expect("self-sign the CA");
        let key = rcgen::KeyPair::generate().expect("server key");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server certificate");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 12, 31);
        }
        let cert = params.signed_by(&key, &ca, &ca_key).expect("sign");
        std::fs::write(dir.join("cert.pem"), cert.pem() + &ca.pem()).expect("write cert");
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write key");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write CA");
        Certs {
            ca: ca.der().clone(),
            dir,
        }
    }

    /// A file of the folder.
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().expect("UTF-8 path").to_owned()
    }

    /// The app's flags for these files.
    fn flags(&self) -> [String; 4] {
        [
            "--tls-cert".into(),
            self.path("cert.pem"),
            "--tls-key".into(),
            self.path("key.pem"),
        ]
    }

    /// A client trusting the CA, offering `alpn`.
    fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("trust the CA");
        let mut cfg = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(cfg)
    }
}

impl Drop for Certs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the app on the std engine serving TLS with `certs`, plus `extra`.
fn tls_app(certs: &Certs, extra: &[&str]) -> App {
    tls_app_with(certs, extra, &Launch::default())
}

/// As [`tls_app`], launched as `launch` says.
fn tls_app_with(certs: &Certs, extra: &[&str], launch: &Launch) -> App {
    let flags = certs.flags();
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    App::start_with("std", &args, launch).expect("the std engine runs everywhere")
}

/// A blocking HTTP/1.1 client over rustls.
struct TlsConn {
    /// The TLS stream.
    tls: StreamOwned<ClientConnection, TcpStream>,
    /// Bytes read but not yet parsed.
    buf: Vec<u8>,
}

impl TlsConn {
    /// Connects and completes the handshake (its failure is the error).
    fn open(addr: SocketAddr, client: Arc<ClientConfig>) -> io::Result<TlsConn> {
        let mut tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(TLS_READ))?;
        tcp.set_write_timeout(Some(TLS_READ))?;
        let name = ServerName::try_from("localhost").expect("server name");
        let mut conn = ClientConnection::new(client, name).map_err(io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(TlsConn {
            tls: StreamOwned::new(conn, tcp),
            buf: Vec::new(),
        })
    }

    /// The protocol ALPN chose.
    fn alpn(&self) -> Option<&[u8]> {
        self.tls.conn.alpn_protocol()
    }

    /// Sends `request` and reads one response.
    fn request(&mut self, request: &[u8]) -> Resp {
        self.tls.write_all(request).expect("write over TLS");
        self.tls.flush().expect("flush over TLS");
        self.read_response()
    }

    /// `GET path` (keep-alive) and its response.
    fn get(&mut self, path: &str) -> Resp {
        self.request(common::get(path).as_bytes())
    }

    /// Reads one response.
    fn read_response(&mut self) -> Resp {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if let Some((resp, used)) = parse_response(&self.buf, false) {
                self.buf.drain(..used);
                return resp;
            }
            let n = self.tls.read(&mut chunk).expect("read over TLS");
            assert!(n > 0, "closed mid-response: {:?}", lossy(&self.buf));
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until the server closes (EOF, close_notify or a reset), or
    /// `timeout` passes: whether it closed, and what came first.
    fn read_until_closed(&mut self, timeout: Duration) -> (bool, Vec<u8>) {
        self.tls
            .sock
            .set_read_timeout(Some(timeout))
            .expect("read timeout");
        let mut chunk = [0u8; 4096];
        loop {
            match self.tls.read(&mut chunk) {
                Ok(0) => return (true, std::mem::take(&mut self.buf)),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return (false, std::mem::take(&mut self.buf))
                }
                // A reset, or EOF without close_notify.
                Err(_) => return (true, std::mem::take(&mut self.buf)),
            }
        }
    }
}

/// Bytes as text, for messages.
fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Checks a `/stream?n=K` body: K lines `chunk I\n`.
fn assert_stream_body(body: &[u8], lines: usize) {
    let text = std::str::from_utf8(body).expect("UTF-8 stream body");
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        assert_eq!(line, format!("chunk {i}"), "line {i} of the stream");
        count += 1;
    }
    assert_eq!(count, lines, "lines of the stream ({} bytes)", body.len());
}

/// Asserts `resp` is a 200 with `body`, run where `dispatch` says, on std.
fn assert_ok(resp: &Resp, body: &str, dispatch: &str) {
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.text(), body);
    assert_eq!(resp.dispatch(), dispatch, "{resp:?}");
    assert_eq!(resp.header("x-engine"), Some("std"), "{resp:?}");
}

#[test]
fn http1_over_tls_answers_sync_and_async_routes_on_one_connection() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    let mut conn = TlsConn::open(app.addr(), certs.client(&[b"http/1.1"])).expect("TLS handshake");
    assert_eq!(conn.alpn(), Some(&b"http/1.1"[..]));
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
    assert_ok(&conn.get("/async/future?ms=10"), "awaited:10", "async");
    assert_ok(&conn.get("/async/hello"), "Hello, async!", "async");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");

    // A client offering no ALPN speaks HTTP/1.1.
    let mut plain = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    assert_eq!(plain.alpn(), None);
    assert_ok(
        &plain.get("/json"),
        r#"{"message":"Hello, World!"}"#,
        "inline",
    );
    let metrics = plain.get("/metrics");
    let m: serde_json::Value = serde_json::from_slice(&metrics.body).expect("JSON");
    assert!(m["requests_total"].as_u64() >= Some(5), "{m}");
}

#[test]
fn http1_over_tls_carries_large_bodies_both_ways() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    let mut conn = TlsConn::open(app.addr(), certs.client(&[b"http/1.1"])).expect("TLS handshake");
    let resp = conn.get(&format!("/stream?n={STREAM_LINES}"));
    assert_eq!(resp.status, 200, "{:?}", resp.headers);
    assert!(resp.chunked, "streamed chunked on HTTP/1.1");
    assert_stream_body(&resp.body, STREAM_LINES);

    // Many TLS records into one request body.
    let body: Vec<u8> = (0..900_000u32).map(|i| (i % 251) as u8).collect();
    let mut req = format!(
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let echoed = conn.request(&req);
    assert_eq!(echoed.status, 200);
    assert!(echoed.body == body, "the echo differs");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
}

/// An h2 response: its status, `x-dispatch`, `x-engine` and body.
#[derive(Debug)]
struct H2Resp {
    /// The status code.
    status: u16,
    /// Where the handler ran.
    dispatch: Option<String>,
    /// The engine that served it.
    engine: Option<String>,
    /// The whole body.
    body: Vec<u8>,
}

/// Connects over TLS offering `h2` and `http/1.1`, checks that ALPN chose
/// h2, and completes the h2 handshake (the connection is driven by a task).
async fn h2_connect(addr: SocketAddr, client: Arc<ClientConfig>) -> SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let tls = tokio_rustls::TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) = h2::client::handshake(tls).await.expect("h2 handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send
}

/// Sends `method path` with `body` (none: no body) on `send` and reads the
/// whole response.
async fn h2_request(
    send: &SendRequest<Bytes>,
    method: &str,
    path: &str,
    body: Option<Bytes>,
) -> H2Resp {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("https://localhost{path}"))
        .body(())
        .expect("request");
    let mut send = send.clone().ready().await.expect("h2 ready");
    let (resp, mut out) = send
        .send_request(req, body.is_none())
        .expect("send the head");
    if let Some(body) = body {
        // h2 holds what the window does not take yet.
        out.send_data(body, true).expect("send the body");
    }
    let resp = resp.await.expect("response");
    let (parts, mut body) = resp.into_parts();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("DATA");
        body.flow_control()
            .release_capacity(chunk.len())
            .expect("release");
        bytes.extend_from_slice(&chunk);
    }
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .map(|v| v.to_str().expect("ASCII").to_owned())
    };
    H2Resp {
        status: parts.status.as_u16(),
        dispatch: header("x-dispatch"),
        engine: header("x-engine"),
        body: bytes,
    }
}

/// A runtime for the async clients.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn h2_over_tls_is_chosen_by_alpn_and_carries_a_large_body_both_ways() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &["--max-body", "16000000"]);
    let client = certs.client(&[b"h2", b"http/1.1"]);
    let addr = app.addr();
    runtime().block_on(async move {
        let send = h2_connect(addr, client).await;
        // 6 MB: many TLS records and many windows' worth each way.
        let large: Bytes = (0..6_000_000u32).map(|i| (i % 251) as u8).collect();
        let (hello, slow, echo) = tokio::join!(
            h2_request(&send, "GET", "/hello", None),
            h2_request(&send, "GET", "/async/future?ms=50", None),
            h2_request(&send, "POST", "/echo", Some(large.clone())),
        );
        assert_eq!(hello.status, 200, "{hello:?}");
        assert_eq!(hello.dispatch.as_deref(), Some("inline"));
        assert_eq!(hello.engine.as_deref(), Some("std"));
        assert_eq!(hello.body, b"Hello, World!");
        assert_eq!(slow.status, 200, "{slow:?}");
        assert_eq!(slow.dispatch.as_deref(), Some("async"));
        assert_eq!(slow.body, b"awaited:50");
        assert_eq!(echo.status, 200);
        assert_eq!(echo.body.len(), large.len(), "echoed bytes");
        assert!(echo.body == large, "the echo differs");
        // A streamed body arrives whole too (a few pieces: h2's client
        // refuses a peer that sends thousands of tiny DATA frames faster
        // than they are read; curl reads the large one below).
        let streamed = h2_request(&send, "GET", "/stream?n=20", None).await;
        assert_eq!(streamed.status, 200);
        assert_stream_body(&streamed.body, 20);
    });
}

/// Runs a tool from the PATH, or prints why the test is skipped.
fn tool(name: &str, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(name).args(args).stdin(Stdio::null()).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            println!("skipped: {name} is not installed");
            None
        }
        Err(e) => panic!("run {name}: {e}"),
    }
}

#[test]
fn curl_trusting_the_ca_gets_http1_and_h2() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    let url = format!("https://127.0.0.1:{}/hello", app.addr().port());
    let ca = certs.path("ca.pem");
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let Some(out) = tool(
            "curl",
            &[
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                &ca,
                flag,
                "-w",
                "\n%{http_version}",
                &url,
            ],
        ) else {
            return;
        };
        assert!(out.status.success(), "curl {flag}: {}", lossy(&out.stderr));
        assert_eq!(
            lossy(&out.stdout),
            format!("Hello, World!\n{version}"),
            "curl {flag}"
        );
    }
    // A streamed body of several MB, both ways (on h2, one DATA frame
    // per line).
    let big = format!(
        "https://127.0.0.1:{}/stream?n={STREAM_LINES}",
        app.addr().port()
    );
    for flag in ["--http1.1", "--http2"] {
        let out = tool(
            "curl",
            &["-sS", "--max-time", "60", "--cacert", &ca, flag, &big],
        )
        .expect("curl ran above");
        assert!(out.status.success(), "curl {flag}: {}", lossy(&out.stderr));
        assert_stream_body(&out.stdout, STREAM_LINES);
    }
    // Without the CA, curl refuses the certificate.
    let out = tool("curl", &["-sS", "--max-time", "10", &url]).expect("curl ran above");
    assert!(!out.status.success(), "curl must not trust an unknown CA");
    assert!(
        lossy(&out.stderr).contains("certificate"),
        "curl says why: {}",
        lossy(&out.stderr)
    );
}

#[test]
fn h2load_over_tls_succeeds_on_h2_and_http1() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    let url = format!("https://127.0.0.1:{}/hello", app.addr().port());
    for (extra, proto) in [(None, "h2"), (Some("--h1"), "http/1.1")] {
        let mut args = vec!["-n", "400", "-c", "4", "-m", "4"];
        args.extend(extra);
        args.push(&url);
        let Some(out) = tool("h2load", &args) else {
            return;
        };
        let text = lossy(&out.stdout);
        assert!(out.status.success(), "h2load {args:?}: {text}");
        assert!(
            text.contains(&format!("Application protocol: {proto}")),
            "h2load {args:?}: {text}"
        );
        assert!(
            text.contains("requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed"),
            "h2load {args:?}: {text}"
        );
    }
}

#[test]
fn garbage_instead_of_a_handshake_is_closed_and_the_server_serves_on() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    for garbage in [
        &b"\x16\x03\x01\x00\x05hello"[..],
        &b"\x16\x03\x03\xff\xff"[..],
        &[0u8; 600][..],
        &b"\x80\x2e\x01\x03\x01"[..],
    ] {
        let mut raw = Conn::open(app.addr());
        let _ = raw.try_send(garbage);
        match raw.read_until_closed(Duration::from_secs(10)) {
            // At most an alert (content type 21) before the close.
            Closed::Yes(rest) => assert!(
                rest.is_empty() || rest[0] == 21,
                "after {garbage:?}: {rest:?}"
            ),
            Closed::StillOpen(rest) => panic!("after {garbage:?} still open ({rest:?})"),
        }
    }
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
    assert!(!app.stderr().contains("panicked"), "{}", app.stderr());
}

#[test]
fn plaintext_http_on_the_tls_port_is_closed_without_an_http_answer() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    let mut raw = Conn::open(app.addr());
    raw.send(common::get("/hello"));
    match raw.read_until_closed(Duration::from_secs(10)) {
        Closed::Yes(rest) => assert!(
            !lossy(&rest).contains("HTTP/1.1"),
            "an HTTP answer on the TLS port: {}",
            lossy(&rest)
        ),
        Closed::StillOpen(rest) => panic!("plaintext request left open ({rest:?})"),
    }
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
    assert!(!app.stderr().contains("panicked"), "{}", app.stderr());
}

/// Accepts any certificate (signatures are still checked): a client that
/// knowingly talks to an expired certificate.
#[derive(Debug)]
struct AnyCertificate(CryptoProvider);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[test]
fn an_expired_certificate_is_refused_by_the_client_and_the_server_serves_on() {
    let certs = Certs::new(true);
    let launch = Launch {
        env: vec![("RUST_LOG", "switchyard=debug")],
        ..Launch::default()
    };
    let app = tls_app_with(&certs, &[], &launch);
    let err = TlsConn::open(app.addr(), certs.client(&[]))
        .err()
        .expect("the client refuses an expired certificate");
    let text = err.to_string();
    assert!(text.contains("expired"), "client error: {text}");
    // The server says why the handshake failed, and serves the next client.
    let until = Instant::now() + Duration::from_secs(10);
    while !app.stderr().contains("TLS handshake failed") {
        assert!(Instant::now() < until, "no log line: {}", app.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut lenient = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(ring::default_provider())))
        .with_no_client_auth();
    lenient.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut conn = TlsConn::open(app.addr(), Arc::new(lenient)).expect("TLS handshake");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
}

/// Runs the app with `args` and expects it to refuse to start: its exit
/// status and stderr.
fn refused_start(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(common::binary())
        .args(["--addr", "127.0.0.1:0", "--workers", "1"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the conformance app");
    assert!(
        !lossy(&out.stdout).contains("listening on"),
        "started with {args:?}"
    );
    (out.status.code(), lossy(&out.stderr))
}

#[test]
fn a_missing_or_invalid_key_file_fails_the_start_with_one_line_naming_it() {
    let certs = Certs::new(false);
    let cert = certs.path("cert.pem");
    let missing = certs.path("no-such-key.pem");
    let garbage = certs.path("garbage.pem");
    std::fs::write(&garbage, "not a key\n").expect("write");
    let wrong = certs.path("cert-as-key.pem");
    std::fs::copy(&cert, &wrong).expect("copy");
    for key in [&missing, &garbage, &wrong] {
        let (code, stderr) =
            refused_start(&["--engine", "std", "--tls-cert", &cert, "--tls-key", key]);
        assert_eq!(code, Some(2), "exit status with key {key}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].contains(key.as_str()), "names {key}: {stderr}");
    }
    let (code, stderr) = refused_start(&["--tls-cert", &missing, "--tls-key", &cert]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&missing), "names the certificate: {stderr}");
    // One without the other is a usage error.
    let (code, _) = refused_start(&["--tls-cert", &cert]);
    assert_ne!(code, Some(0));
}

#[test]
fn the_loop_engines_refuse_tls_and_adaptive_serves_it_on_std() {
    let certs = Certs::new(false);
    let flags = certs.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    for engine in ["epoll", "io-uring"] {
        let mut args = vec!["--engine", engine];
        args.extend(&flags);
        let (code, stderr) = refused_start(&args);
        assert_eq!(code, Some(2), "{engine}: {stderr}");
        assert!(
            stderr.contains("TLS is served by the std engine; use --engine std"),
            "{engine}: {stderr}"
        );
    }
    let app = App::start("adaptive", &flags).expect("adaptive with TLS starts");
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
}

#[test]
fn a_silent_client_is_counted_then_cut_at_the_handshake_deadline() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &["--header-timeout-ms", "400"]);
    let mut silent = Conn::open(app.addr());
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    // The silent connection is open in the metrics like any other.
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = conn.get("/metrics");
        let m: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON");
        if m["active_conns"].as_u64() >= Some(2) {
            break;
        }
        assert!(Instant::now() < until, "active_conns stays below 2: {m}");
        std::thread::sleep(Duration::from_millis(20));
    }
    match silent.read_until_closed(Duration::from_secs(10)) {
        Closed::Yes(rest) => assert!(rest.is_empty(), "{rest:?}"),
        Closed::StillOpen(_) => panic!("a client that never says hello is kept"),
    }
    // The established connection is not a handshake: it is still served.
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// The body length of `/stream?n=K`.
fn stream_body_len(k: usize) -> usize {
    (0..k).map(|i| format!("chunk {i}\n").len()).sum()
}

/// `GET path` with `Connection: close`.
fn get_close(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

#[test]
fn a_slow_reader_over_tls_gets_everything_and_a_stalled_one_is_cut() {
    let certs = Certs::new(false);
    // 2 s: well past a test thread's scheduling stalls on a busy machine.
    let app = tls_app(&certs, &["--write-timeout-ms", "2000"]);
    let lines = 600_000;
    // ~7.6 MB read 32 KB at a time every 10 ms (~3 MB/s): past the write
    // timeout in all, so only the progress renews the deadline.
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    conn.tls
        .write_all(get_close(&format!("/stream?n={lines}")).as_bytes())
        .expect("request");
    let started = Instant::now();
    let mut chunk = vec![0u8; 32 * 1024];
    loop {
        // Until the server's close_notify (the response asked for a close).
        let n = conn.tls.read(&mut chunk).unwrap_or_else(|e| {
            panic!("cut after {} bytes: {e}", conn.buf.len());
        });
        if n == 0 {
            break;
        }
        conn.buf.extend_from_slice(&chunk[..n]);
        std::thread::sleep(Duration::from_millis(10));
    }
    let (body, _) = parse_response(&conn.buf, true).expect("a whole response");
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "the read was not slower than the write timeout ({:?})",
        started.elapsed()
    );
    assert_eq!(body.status, 200);
    assert_stream_body(&body.body, lines);

    // A reader that stops is cut once the write timeout passes: what it
    // reads afterwards (kernel buffers) ends short of the response.
    let lines = 1_000_000;
    let mut stalled = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    stalled
        .tls
        .write_all(get_close(&format!("/stream?n={lines}")).as_bytes())
        .expect("request");
    std::thread::sleep(Duration::from_secs(5));
    let (closed, got) = stalled.read_until_closed(Duration::from_secs(20));
    assert!(closed, "a stalled reader is kept");
    assert!(
        got.len() < stream_body_len(lines),
        "a stalled reader still got all {} bytes",
        got.len()
    );
    // The server serves on.
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
}

#[test]
fn output_stays_bounded_over_tls_for_a_pipelining_client_that_never_reads() {
    let certs = Certs::new(false);
    let app = tls_app(&certs, &[]);
    let mut conn = TlsConn::open(app.addr(), certs.client(&[])).expect("TLS handshake");
    assert_ok(&conn.get("/hello"), "Hello, World!", "inline");
    let before = rss(app.pid());
    let one = "GET /stream?n=20000 HTTP/1.1\r\nHost: x\r\n\r\n";
    let count = 16 * 1024 / one.len();
    conn.tls
        .write_all(one.repeat(count).as_bytes())
        .expect("pipelined requests");
    conn.tls.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(1500));
    let grew = rss(app.pid()).saturating_sub(before);
    assert!(
        grew < 48 << 20,
        "{count} requests of ~230 KB grew the server by {} MiB",
        grew >> 20
    );
    // Still answering, in order, once the client reads.
    let first = conn.read_response();
    assert_eq!(first.status, 200);
    assert_stream_body(&first.body, 20_000);
}

#[test]
fn shutdown_answers_in_flight_tls_requests_on_http1_and_h2_then_exits() {
    let certs = Certs::new(false);
    let mut app = tls_app(&certs, &[]);
    let addr = app.addr();
    let mut idle = TlsConn::open(addr, certs.client(&[])).expect("TLS handshake");
    assert_ok(&idle.get("/hello"), "Hello, World!", "inline");
    let mut future = TlsConn::open(addr, certs.client(&[])).expect("TLS handshake");
    future
        .tls
        .write_all(common::get("/async/future?ms=1500").as_bytes())
        .expect("request");
    let mut blocking = TlsConn::open(addr, certs.client(&[])).expect("TLS handshake");
    blocking
        .tls
        .write_all(common::get("/async/sleep?ms=1500").as_bytes())
        .expect("request");
    let rt = runtime();
    let h2 = rt.block_on(h2_connect(addr, certs.client(&[b"h2"])));
    let h2_stream = rt.spawn(async move {
        let resp = h2_request(&h2, "GET", "/async/future?ms=1500", None).await;
        (resp, h2)
    });
    // The server gives no sign that a handler started: leave the requests
    // a head start well inside their 1500 ms.
    std::thread::sleep(Duration::from_millis(400));
    app.terminate();
    let (h2_resp, h2) = rt.block_on(h2_stream).expect("h2 client task");
    assert_eq!(h2_resp.status, 200, "{h2_resp:?}");
    assert_eq!(h2_resp.body, b"awaited:1500");
    assert_ok(&future.read_response(), "awaited:1500", "async");
    assert_ok(&blocking.read_response(), "slept:1500", "async");
    for (what, conn) in [
        ("idle", &mut idle),
        ("future", &mut future),
        ("blocking", &mut blocking),
    ] {
        let (closed, rest) = conn.read_until_closed(Duration::from_secs(10));
        assert!(closed, "{what}: the TLS connection stays open at shutdown");
        assert!(rest.is_empty(), "{what}: {}", lossy(&rest));
    }
    drop((idle, future, blocking, h2));
    let status = app
        .wait_exit(Duration::from_secs(10))
        .expect("the app exits");
    assert!(status.success(), "{status:?}: {}", app.stderr());
}
