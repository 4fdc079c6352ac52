//! The smallest switchyard server: `GET /` and `GET /hello` answer
//! `Hello, World!` on 127.0.0.1:8080. Ctrl-C stops it gracefully.

use switchyard::{Config, Ctx, HttpError, Server};
use tracing_subscriber::EnvFilter;

fn hello(ctx: &mut Ctx<'_>) -> Result<(), HttpError> {
    ctx.text("Hello, World!");
    Ok(())
}

fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    Server::new(Config::default())
        .get("/", hello)
        .get("/hello", hello)
        .run()
}
