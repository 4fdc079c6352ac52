//! hyper 1 peer (hyper-util auto builder: HTTP/1.1 and h2c): `/hello`, `/json`, and `/async/sleep?ms=N` on `spawn_blocking`.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use switchyard_load_peers::{announce, millis, Args, HELLO, MESSAGE};
use tokio::net::TcpListener;

/// A response with a body and a content type.
fn body(status: StatusCode, content_type: &'static str, bytes: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Routes one request.
async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match req.uri().path() {
        "/hello" => body(
            StatusCode::OK,
            "text/plain",
            Bytes::from_static(HELLO.as_bytes()),
        ),
        "/json" => {
            let json = serde_json::to_vec(&MESSAGE).unwrap_or_default();
            body(StatusCode::OK, "application/json", Bytes::from(json))
        }
        "/async/sleep" => {
            let ms = millis(req.uri().query());
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(ms)).await;
            let text = format!("slept:{}", ms.as_millis());
            body(StatusCode::OK, "text/plain", Bytes::from(text))
        }
        _ => body(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found"),
        ),
    })
}

/// Accepts forever, one task per connection.
async fn serve(addr: String) -> std::io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    announce(listener.local_addr()?);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning or dying.
                eprintln!("peer-hyper: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().pipeline_flush(true);
            let _ = builder
                .serve_connection(TokioIo::new(stream), service_fn(handle))
                .await;
        });
    }
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let rt = if args.workers == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.workers)
            .enable_all()
            .build()?
    };
    rt.block_on(serve(args.addr))
}
