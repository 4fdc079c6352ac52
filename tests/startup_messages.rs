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
