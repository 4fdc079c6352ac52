//! What the conformance app says at start: an io-uring engine that cannot
//! get io_uring (forced here) refuses to start with one line naming the
//! cause (the adaptive engine's warning where io_uring is refused is
//! tested in wire_adaptive.rs).

#[macro_use]
#[allow(unused_macros)]
mod common;

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
fn h2c_on_io_uring_is_refused_with_the_engines_that_speak_it() {
    match common::App::start("io-uring", &["--protocol", "h2c"]) {
        Ok(_) => panic!("io-uring started for h2c, which its workers do not speak"),
        Err(common::Skip(reason)) => {
            assert!(
                reason.contains("h2c is not available on engine io-uring"),
                "{reason}"
            );
            assert!(reason.contains("epoll or std"), "{reason}");
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
