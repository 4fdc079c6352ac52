//! What the conformance app says at start: an io-uring engine that cannot
//! get io_uring (forced here) refuses to start with one line naming the
//! cause, and the adaptive engine warns once, at the default log level,
//! that it serves on epoll only.

#[macro_use]
#[allow(unused_macros)]
mod common;

use std::time::{Duration, Instant};

#[test]
fn a_refused_io_uring_fails_at_start_naming_the_cause() {
    let launch = common::Launch {
        env: vec![("SWITCHYARD_IOURING", "refuse")],
        ..Default::default()
    };
    match common::App::start_with("io-uring", &[], &launch) {
        Ok(_) => panic!("io-uring started although io_uring was refused"),
        Err(common::Skip(reason)) => {
            assert!(
                reason.contains("engine io-uring is not available"),
                "{reason}"
            );
            assert!(
                reason.contains("SWITCHYARD_IOURING"),
                "the cause is named: {reason}"
            );
        }
    }
}

#[test]
fn a_typo_in_the_forced_tiers_is_refused_not_ignored() {
    let launch = common::Launch {
        env: vec![("SWITCHYARD_IOURING", "bsae")],
        ..Default::default()
    };
    match common::App::start_with("io-uring", &[], &launch) {
        Ok(_) => panic!("io-uring started with a misspelt tier"),
        Err(common::Skip(reason)) => assert!(reason.contains("bsae"), "{reason}"),
    }
}

#[test]
fn adaptive_warns_once_at_the_default_level_that_it_serves_on_epoll() {
    let app = app!("adaptive");
    let until = Instant::now() + Duration::from_secs(5);
    let needle =
        "moving connections to io_uring is not implemented yet, so it serves on epoll only";
    while !app.stderr().contains(needle) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = app.stderr();
    assert_eq!(err.matches(needle).count(), 1, "stderr:\n{err}");
    assert!(err.contains("WARN"), "stderr:\n{err}");
    assert_eq!(app.get("/hello").header("x-engine"), Some("epoll"));
}
