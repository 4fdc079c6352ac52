//! The actor API in process: pausing and resuming accept, engine info,
//! run-time registration through the handle, metrics snapshots, shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use switchyard::server::{ServerHandle, ServerMsg};
use switchyard::{Config, EngineChoice, EngineKind, Handler, RouteSpec, Router, ServerActor};

const ASK: Duration = Duration::from_secs(5);

/// Engines the actor API is tested on.
const ENGINES: [EngineChoice; 4] = [
    EngineChoice::Adaptive,
    EngineChoice::Epoll,
    EngineChoice::IoUring,
    EngineChoice::Std,
];

/// Spawns the server, or prints why `engine` cannot run here (io_uring
/// refused by the kernel) and yields `None`.
fn spawn_or_skip(engine: EngineChoice, config: Config, router: Router) -> Option<ServerHandle> {
    match ServerActor::spawn(config, router) {
        Ok(handle) => Some(handle),
        Err(e) if e.to_string().contains("not available") => {
            println!("skipped: {engine:?}: {e}");
            None
        }
        Err(e) => panic!("start on {engine:?}: {e}"),
    }
}

fn config(engine: EngineChoice) -> Config {
    Config {
        addr: "127.0.0.1:0".into(),
        engine,
        workers: 2,
        ..Config::default()
    }
}

fn router() -> Router {
    let mut r = Router::new();
    r.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    });
    r
}

/// One request on a fresh connection; the body of the response.
fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
}

#[test]
fn pause_refuses_new_connections_and_resume_accepts_again() {
    ENGINES.into_iter().for_each(pause_and_resume);
}

fn pause_and_resume(engine: EngineChoice) {
    let Some(handle) = spawn_or_skip(engine, config(engine), router()) else {
        return;
    };
    let addr = handle.local_addr();
    assert_eq!(get(addr, "/hello").unwrap(), "Hello, World!");
    // A connection the server has accepted and served before the pause (one
    // still in the backlog when the pause lands is closed, not served).
    let mut kept = TcpStream::connect(addr).expect("a connection open before the pause");
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    kept.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 512];
    let n = kept.read(&mut first).unwrap();
    assert!(
        first[..n].ends_with(b"Hello, World!"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );

    handle
        .server()
        .ask_blocking(|reply| ServerMsg::PauseAccept { reply }, ASK)
        .expect("ask")
        .expect("pause");
    assert!(
        get(addr, "/hello").is_err(),
        "a new connection was served while paused"
    );
    let mut kept = kept;
    kept.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    kept.write_all(b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    kept.read_to_string(&mut out).unwrap();
    assert!(
        out.ends_with("Hello, World!"),
        "an existing connection is still served: {out}"
    );

    handle
        .server()
        .ask_blocking(|reply| ServerMsg::ResumeAccept { reply }, ASK)
        .expect("ask")
        .expect("resume");
    assert_eq!(get(addr, "/hello").unwrap(), "Hello, World!");
    handle.shutdown(Duration::from_secs(2)).expect("shutdown");
}

#[test]
fn engine_info_registration_and_metrics_through_the_handle() {
    ENGINES.into_iter().for_each(info_registration_metrics);
}

fn info_registration_metrics(engine: EngineChoice) {
    let Some(handle) = spawn_or_skip(engine, config(engine), router()) else {
        return;
    };
    let info = handle
        .server()
        .ask_blocking(|reply| ServerMsg::EngineInfo { reply }, ASK)
        .expect("engine info");
    let kind = match engine {
        EngineChoice::Std => EngineKind::Std,
        EngineChoice::IoUring => EngineKind::IoUring,
        _ => EngineKind::Epoll,
    };
    assert_eq!(
        (info.engine, info.addr, info.workers),
        (kind, handle.local_addr(), 2)
    );

    assert!(get(handle.local_addr(), "/late").unwrap().contains("404"));
    handle
        .register(RouteSpec {
            method: "GET".into(),
            path: "/late".into(),
            handler: Handler::plain(|ctx| {
                ctx.text("late");
                Ok(())
            }),
            dispatch: None,
        })
        .expect("register");
    for _ in 0..8 {
        assert_eq!(get(handle.local_addr(), "/late").unwrap(), "late");
    }

    // A worker counts an event's requests once the event is served, just
    // after its response was written: a snapshot taken the instant the
    // client read the last one may not have it yet.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    let mut snap = handle.snapshot().expect("snapshot");
    while snap.requests_total < 9 && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        snap = handle.snapshot().expect("snapshot");
    }
    assert_eq!(snap.active_engine, kind.as_str());
    let name = match engine {
        EngineChoice::Adaptive => "adaptive",
        _ => kind.as_str(),
    };
    assert_eq!(snap.engine, name);
    assert!(snap.requests_total >= 9, "{snap:?}");
    assert_eq!(snap.async_routes, 0);
    handle.shutdown(Duration::from_secs(2)).expect("shutdown");
}

#[test]
fn adaptive_pause_holds_switching_and_resume_accepts_on_the_active_engine() {
    let engine = EngineChoice::Adaptive;
    let Some(handle) = spawn_or_skip(engine, config(engine), router()) else {
        return;
    };
    let addr = handle.local_addr();
    let Some(status) = handle.info().adaptive else {
        panic!("the adaptive engine reports its state");
    };
    if !status.io_uring {
        println!("skipped: adaptive: io_uring is refused here");
        return;
    }
    let switched = handle.force_switch().expect("ask").expect("switch");
    assert_eq!(switched, EngineKind::IoUring);
    let info = handle.info();
    assert_eq!(info.engine, EngineKind::IoUring);
    assert_eq!(info.adaptive.map(|a| a.switches), Some(1));

    handle.pause_accept().expect("pause");
    assert!(get(addr, "/hello").is_err(), "served while paused");
    let refused = handle.force_switch().expect("ask").unwrap_err();
    assert!(
        !refused.is_failure() && !refused.is_not_adaptive(),
        "{refused}"
    );
    handle.resume_accept().expect("resume");
    assert_eq!(get(addr, "/hello").unwrap(), "Hello, World!");
    assert_eq!(handle.info().engine, EngineKind::IoUring);
    assert_eq!(
        handle.force_switch().expect("ask").expect("switch back"),
        EngineKind::Epoll
    );
    assert_eq!(get(addr, "/hello").unwrap(), "Hello, World!");
    handle.shutdown(Duration::from_secs(2)).expect("shutdown");
}
