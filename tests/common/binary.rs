//! The conformance app's binary for the wire tests, built (or brought up to
//! date) once per test process: `cargo test --test NAME` alone does not
//! build examples. Shared by every test support module.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The conformance binary next to this test executable, built (or brought
/// up to date) once per test process: `cargo test --test NAME` alone does not
/// build examples.
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_binary).clone()
}

/// Runs `cargo build --example conformance` for this test's profile and
/// target directory, and returns the binary's path.
fn build_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target directory");
    let profile = profile_dir
        .file_name()
        .and_then(|p| p.to_str())
        .expect("profile directory name");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--quiet", "--example", "conformance", "--profile"])
        .arg(if profile == "debug" { "dev" } else { profile })
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let status = cargo
        .status()
        .expect("run cargo to build the conformance app");
    assert!(
        status.success(),
        "building the conformance app failed: {status}"
    );
    let bin = profile_dir.join("examples").join("conformance");
    assert!(bin.exists(), "{} is missing after the build", bin.display());
    bin
}
