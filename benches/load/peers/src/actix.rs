//! actix-web 4 peer: `/hello`, `/json`, and `/async/sleep?ms=N` blocking on `web::block`; HTTP/1.1 and h2c.

use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use switchyard_load_peers::{announce, millis, Args, HELLO, MESSAGE};

/// `GET /hello`
async fn hello() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(HELLO)
}

/// `GET /json`
async fn json() -> HttpResponse {
    HttpResponse::Ok().json(MESSAGE)
}

/// `GET /async/sleep?ms=N`: blocks a thread of actix's blocking pool.
async fn sleep(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let ms = millis(Some(req.query_string()));
    web::block(move || std::thread::sleep(ms)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body(format!("slept:{}", ms.as_millis())))
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    actix_web::rt::System::new().block_on(async move {
        #[allow(deprecated)] // renamed in later 4.x releases; kept for older ones
        let server = HttpServer::new(|| {
            App::new()
                .route("/hello", web::get().to(hello))
                .route("/json", web::get().to(json))
                .route("/async/sleep", web::get().to(sleep))
        })
        .workers(args.workers)
        .backlog(4096)
        .max_connections(100_000)
        .keep_alive(Duration::from_secs(75))
        .bind_auto_h2c(&args.addr)?;
        announce(&args.addr);
        server.run().await
    })
}
