//! Replays the fuzz corpora kept in `fuzz/corpus/` (and any crash inputs
//! kept as regressions in `fuzz/regressions/`) through the properties the
//! fuzz targets check, on the stable toolchain: a change that breaks an
//! input the fuzzer once covered fails here.

use std::path::Path;

/// Runs `check` over every file of `fuzz/<dir>/<target>/`; the number run.
fn replay(dir: &str, target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(dir)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).expect("a corpus file");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails its property", path.display());
        n += 1;
    }
    n
}

/// Replays one target's corpus and regressions; the corpus must exist.
fn target(name: &str, check: fn(&[u8])) {
    let corpus = replay("corpus", name, check);
    let regressions = replay("regressions", name, check);
    println!("{name}: {corpus} corpus inputs, {regressions} regressions");
    assert!(corpus > 0, "fuzz/corpus/{name} is empty or missing");
}

#[test]
fn h1_requests() {
    target("h1_requests", switchyard::fuzzing::h1_requests);
}

#[test]
fn h1_session() {
    target("h1_session", switchyard::fuzzing::h1_session);
}

#[test]
fn router() {
    target("router", switchyard::fuzzing::router);
}

#[test]
fn detect() {
    target("detect", switchyard::fuzzing::detect_protocol);
}

#[test]
fn h2c() {
    target("h2c", switchyard::fuzzing::h2c);
}
