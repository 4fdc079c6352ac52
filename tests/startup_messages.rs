//! What the conformance app says at start: an io-uring request is refused
//! as not implemented yet, and the adaptive engine warns once, at the
//! default log level, that it serves on epoll only.

#[macro_use]
#[allow(unused_macros)]
mod common;

use std::time::{Duration, Instant};

#[test]
fn io_uring_is_refused_as_not_implemented_yet() {
    match common::App::start("io-uring", &[]) {
        Ok(_) => panic!("io-uring started although it is not implemented"),
        Err(common::Skip(reason)) => {
            assert!(reason.contains("not implemented yet"), "{reason}");
            assert!(!reason.contains("this build"), "{reason}");
        }
    }
}

#[test]
fn adaptive_warns_once_at_the_default_level_that_it_serves_on_epoll() {
    let app = app!("adaptive");
    let until = Instant::now() + Duration::from_secs(5);
    let needle = "io_uring is not implemented yet, so it serves on epoll only";
    while !app.stderr().contains(needle) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = app.stderr();
    assert_eq!(err.matches(needle).count(), 1, "stderr:\n{err}");
    assert!(err.contains("WARN"), "stderr:\n{err}");
    assert_eq!(app.get("/hello").header("x-engine"), Some("epoll"));
}
