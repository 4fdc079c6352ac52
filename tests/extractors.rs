//! Typed extractors over real connections, on every engine, from plain and
//! future handlers: query (400), form (415, 422), path parameter (400);
//! errors carry a JSON body naming what was wrong.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use switchyard::{Config, EngineChoice, HttpError, Request, Response, Server};

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
    q: Option<String>,
}

#[derive(serde::Deserialize)]
struct Login {
    user: String,
    remember: bool,
}

/// Status and body of one request.
fn send(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    c.read_to_string(&mut raw).unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn get(addr: SocketAddr, target: &str) -> (u16, String) {
    send(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    )
}

fn post(addr: SocketAddr, target: &str, ct: &str, body: &str) -> (u16, String) {
    send(
        addr,
        &format!(
            "POST {target} HTTP/1.1\r\nHost: t\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn extractors_answer_with_their_statuses(engine: EngineChoice) {
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine,
        workers: 1,
        ..Config::default()
    };
    let handle = Server::new(config)
        .get("/items", |ctx| {
            let p: Page = ctx.query_as()?;
            let text = format!("page {} q {}", p.page, p.q.unwrap_or_default());
            ctx.text(&text);
            Ok(())
        })
        .post("/login", |ctx| {
            let l: Login = ctx.form()?;
            let text = format!("{} {}", l.user, l.remember);
            ctx.text(&text);
            Ok(())
        })
        .get("/users/:id", |ctx| {
            let id: u64 = ctx.param_as("id")?;
            let text = format!("user {}", id + 1);
            ctx.text(&text);
            Ok(())
        })
        .get_future("/async/items", |req: Request| async move {
            let p: Page = req.query_as()?;
            Ok::<_, HttpError>(Response::with_text(&format!("page {}", p.page)))
        })
        .start()
        .expect("start");
    let a = handle.local_addr();
    assert_eq!(
        get(a, "/items?page=2&q=a%20b"),
        (200, "page 2 q a b".into())
    );
    let (status, body) = get(a, "/items?page=two");
    assert_eq!(status, 400);
    assert!(
        body.starts_with("{\"error\":\"invalid query string"),
        "{body}"
    );
    assert_eq!(get(a, "/async/items?page=7"), (200, "page 7".into()));
    assert_eq!(get(a, "/async/items").0, 400);
    let form = "application/x-www-form-urlencoded";
    assert_eq!(
        post(a, "/login", form, "user=ann&remember=true"),
        (200, "ann true".into())
    );
    assert_eq!(post(a, "/login", "application/json", "{}").0, 415);
    assert_eq!(post(a, "/login", form, "user=ann&remember=maybe").0, 422);
    assert_eq!(get(a, "/users/41"), (200, "user 42".into()));
    let (status, body) = get(a, "/users/x");
    assert_eq!(status, 400);
    assert!(body.contains("invalid path parameter `id`"), "{body}");
    handle.shutdown(Duration::from_secs(2)).expect("shutdown");
}

#[cfg(target_os = "linux")]
#[test]
fn on_epoll() {
    extractors_answer_with_their_statuses(EngineChoice::Epoll);
}

#[test]
fn on_std() {
    extractors_answer_with_their_statuses(EngineChoice::Std);
}
