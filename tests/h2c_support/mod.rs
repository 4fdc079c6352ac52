//! Shared by the std-engine and h2c wire tests: the conformance app as a
//! child process (killed on drop), and small h2 client helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::net::TcpStream;

/// A running conformance app.
pub struct App {
    /// The child process.
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl App {
    /// Starts the app on the std engine with two workers and `extra` flags.
    pub fn std(extra: &[&str]) -> App {
        App::on("std", extra)
    }

    /// Starts the app on `engine` with `extra` flags (two workers unless
    /// they say `--workers`).
    pub fn on(engine: &str, extra: &[&str]) -> App {
        let mut args = vec!["--addr", "127.0.0.1:0", "--engine", engine];
        if !extra.contains(&"--workers") {
            args.extend_from_slice(&["--workers", "2"]);
        }
        args.extend_from_slice(extra);
        App::start(&args)
    }

    /// Starts the app with exactly `args`; panics unless it reports its address.
    pub fn start(args: &[&str]) -> App {
        let mut child = Command::new(crate::common::binary())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the conformance app");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .expect("a socket address");
        App { child, addr }
    }

    /// Runs the app with `args` expecting it to refuse to start; returns its
    /// exit status and standard error.
    pub fn refuses(args: &[&str]) -> (ExitStatus, String) {
        let out = Command::new(crate::common::binary())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the conformance app");
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < until, "the app did not exit in {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An h2 (prior knowledge) client connection to `addr`; the connection is
/// driven by a spawned task.
pub async fn h2_client(addr: SocketAddr) -> SendRequest<Bytes> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (client, conn) = h2::client::handshake(tcp).await.expect("h2 handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A response with its whole body.
pub struct Answer {
    /// Status and headers.
    pub head: http::response::Parts,
    /// The body.
    pub body: Bytes,
    /// DATA frames received (non-empty ones).
    pub frames: usize,
}

impl Answer {
    /// A header value as text.
    pub fn header(&self, name: &str) -> &str {
        self.head
            .headers
            .get(name)
            .map(|v| v.to_str().expect("ascii header"))
            .unwrap_or("")
    }
}

/// Sends one request and reads the whole response.
pub async fn fetch(
    client: &mut SendRequest<Bytes>,
    method: &str,
    path: &str,
    body: Option<Bytes>,
) -> Result<Answer, h2::Error> {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .body(())
        .expect("request");
    let mut ready = client.clone().ready().await?;
    let (resp, mut stream) = ready.send_request(req, body.is_none())?;
    if let Some(body) = body {
        send_all(&mut stream, body).await?;
    }
    let (head, mut recv) = resp.await?.into_parts();
    let mut data = Vec::new();
    let mut frames = 0;
    while let Some(chunk) = recv.data().await {
        let chunk = chunk?;
        if !chunk.is_empty() {
            frames += 1;
        }
        data.extend_from_slice(&chunk);
        let _ = recv.flow_control().release_capacity(chunk.len());
    }
    Ok(Answer {
        head,
        body: data.into(),
        frames,
    })
}

/// Sends a body as the server's window allows.
async fn send_all(stream: &mut h2::SendStream<Bytes>, mut body: Bytes) -> Result<(), h2::Error> {
    if body.is_empty() {
        return stream.send_data(body, true);
    }
    while !body.is_empty() {
        stream.reserve_capacity(body.len());
        let n = match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(n) => n?,
            None => break,
        };
        let piece = body.split_to(n.min(body.len()));
        stream.send_data(piece, body.is_empty())?;
    }
    Ok(())
}

/// Runs a test body on a current-thread tokio runtime (for the per-engine
/// tests, whose bodies are plain functions).
pub fn block_on<F: std::future::Future>(body: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(body)
}

/// Threads of a process (`Threads:` of `/proc/PID/status`).
pub fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("a Threads: line")
}

/// Resident memory of a process in KiB (`VmRSS:` of `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS: line")
}

/// Open descriptors of a process.
pub fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("proc fd")
        .count()
}

/// Waits (at most `limit`) until the process has at most `n` descriptors;
/// the count last seen.
pub fn fds_settle(pid: u32, n: usize, limit: Duration) -> usize {
    let until = Instant::now() + limit;
    loop {
        let now = fds(pid);
        if now <= n || Instant::now() >= until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One raw frame: the 9-byte header, then `payload`.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A HEADERS frame (END_STREAM | END_HEADERS) for `GET path` on
/// `localhost`, its header block written with HPACK's static table and
/// literals (never indexed, so every block stands alone).
pub fn get_headers(stream: u32, path: &str) -> Vec<u8> {
    assert!(path.len() < 127, "a one-byte HPACK length");
    // :method GET (static 2), :scheme http (static 6).
    let mut block = vec![0x82, 0x86];
    // :path and :authority, literal values without indexing (names 4, 1).
    block.push(0x04);
    block.push(path.len() as u8);
    block.extend_from_slice(path.as_bytes());
    block.push(0x01);
    block.push(b"localhost".len() as u8);
    block.extend_from_slice(b"localhost");
    frame(0x1, 0x1 | 0x4, stream, &block)
}

/// A RST_STREAM(CANCEL) frame.
pub fn rst_cancel(stream: u32) -> Vec<u8> {
    frame(0x3, 0, stream, &0x8u32.to_be_bytes())
}

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub mod cases;
pub mod raw;
