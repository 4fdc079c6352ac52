//! Run-time route registration through the handle: an invalid route is a
//! typed error that changes nothing, the server keeps serving, and shutdown
//! always returns — also once the server actor has stopped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use switchyard::server::ServerMsg;
use switchyard::{Config, EngineChoice, Handler, RouteSpec, Router, ServerActor, ServerHandle};

/// Engines the actor API is tested on.
const ENGINES: [EngineChoice; 3] = [
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

/// How long a shutdown may take before the test calls it hung.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(15);

fn start(engine: EngineChoice) -> Option<ServerHandle> {
    let config = Config {
        addr: "127.0.0.1:0".into(),
        engine,
        workers: 2,
        ..Config::default()
    };
    let mut r = Router::new();
    r.get("/hello", |ctx| {
        ctx.text("Hello, World!");
        Ok(())
    });
    spawn_or_skip(engine, config, r)
}

/// The body of `GET path` on a fresh connection.
fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn spec(path: &str, body: &'static str) -> RouteSpec {
    RouteSpec {
        method: "GET".into(),
        path: path.into(),
        handler: Handler::plain(move |ctx| {
            ctx.text(body);
            Ok(())
        }),
        dispatch: None,
    }
}

/// Shuts down on another thread; fails the test if it does not return.
fn shutdown_within_limit(handle: ServerHandle) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(handle.shutdown(Duration::from_secs(1)));
    });
    finished
        .recv_timeout(SHUTDOWN_LIMIT)
        .expect("shutdown returned")
        .expect("shutdown succeeded");
}

#[test]
fn invalid_pattern_is_a_typed_error_and_the_server_keeps_serving() {
    for engine in ENGINES {
        let Some(handle) = start(engine) else {
            continue;
        };
        let addr = handle.local_addr();
        for bad in ["/dyn/:", "/dyn/*", "dyn", "/a//b", "/*x/y", "/:a/:a"] {
            let err = handle
                .register(spec(bad, "never"))
                .expect_err("an invalid pattern is refused");
            assert!(err.is_invalid_route(), "{bad}: {err}");
            assert!(!err.is_closed() && !err.is_timeout(), "{bad}: {err}");
            let route = err.route_error().expect("the router's reason");
            assert!(route.is_invalid_pattern(), "{bad}: {route}");
            assert_eq!(route.subject(), bad);
        }
        let err = handle
            .register(RouteSpec {
                method: "GE T".into(),
                ..spec("/x", "x")
            })
            .expect_err("a method that is not a token is refused");
        assert!(
            err.route_error().is_some_and(|e| e.is_invalid_method()),
            "{err}"
        );
        let err = handle.register(spec("/dyn/:", "x")).unwrap_err();
        assert!(err.to_string().contains("empty parameter name"), "{err}");

        assert!(get(addr, "/hello").unwrap().ends_with("Hello, World!"));
        handle
            .register(spec("/late", "late"))
            .expect("a valid route after a refused one");
        assert!(get(addr, "/late").unwrap().ends_with("late"));
        handle.pause_accept().expect("pause");
        assert!(get(addr, "/hello").is_err(), "served while paused");
        handle.resume_accept().expect("resume");
        assert!(get(addr, "/hello").unwrap().ends_with("Hello, World!"));
        shutdown_within_limit(handle);
    }
}

#[test]
fn shutdown_returns_when_the_server_actor_is_already_gone() {
    for engine in ENGINES {
        let Some(handle) = start(engine) else {
            continue;
        };
        // Stop the actor behind the handle's back: its mailbox closes.
        handle
            .server()
            .tell(ServerMsg::Shutdown {
                grace: Duration::from_millis(100),
                reply: None,
            })
            .expect("tell");
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while handle.server().is_alive() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!handle.server().is_alive(), "the actor stopped");
        let err = handle.register(spec("/x", "x")).unwrap_err();
        assert!(err.is_closed(), "{err}");
        shutdown_within_limit(handle);
    }
}

#[test]
fn a_route_removed_at_run_time_is_gone_for_every_worker() {
    for engine in ENGINES {
        let Some(handle) = start(engine) else {
            continue;
        };
        let addr = handle.local_addr();
        handle
            .register(spec("/dyn/:name", "dyn"))
            .expect("registered");
        assert!(get(addr, "/dyn/a").unwrap().ends_with("\r\n\r\ndyn"));
        // Same shape, other parameter name: the same route.
        assert_eq!(
            handle.unregister("GET", "/dyn/:other"),
            Ok(true),
            "{engine:?}"
        );
        for _ in 0..6 {
            let reply = get(addr, "/dyn/a").unwrap();
            assert!(reply.starts_with("HTTP/1.1 404 "), "{engine:?}: {reply}");
        }
        assert_eq!(handle.unregister("GET", "/dyn/:name"), Ok(false));
        assert_eq!(
            handle.unregister("GET", "/nope/:"),
            Ok(false),
            "an invalid pattern names nothing"
        );
        assert!(
            get(addr, "/hello").unwrap().ends_with("Hello, World!"),
            "the others stay"
        );
        shutdown_within_limit(handle);
    }
}
