//! may_minihttp peer: `/hello` and `/json` only (it has no blocking-pool route to compare).

use std::io;

use bytes::BufMut;
use may_minihttp::{HttpService, HttpServiceFactory, Request, Response};
use switchyard_load_peers::{announce, Args, HELLO, MESSAGE};

/// One connection's service.
struct Peer;

impl HttpService for Peer {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        match req.path() {
            "/hello" => {
                rsp.header("Content-Type: text/plain").body(HELLO);
            }
            "/json" => {
                rsp.header("Content-Type: application/json");
                serde_json::to_writer(rsp.body_mut().writer(), &MESSAGE)?;
            }
            _ => {
                rsp.status_code(404, "Not Found").body("not found");
            }
        }
        Ok(())
    }
}

/// Builds a service per connection.
struct Factory;

impl HttpServiceFactory for Factory {
    type Service = Peer;

    fn new_service(&self, _id: usize) -> Peer {
        Peer
    }
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    may::config().set_workers(args.workers);
    let server = Factory.start(&args.addr)?;
    announce(&args.addr);
    server
        .join()
        .map_err(|_| io::Error::other("may_minihttp server thread panicked"))
}
