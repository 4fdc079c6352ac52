//! Resource exhaustion over the wire, on every engine: a server started under
//! a low open-file limit that runs out of file descriptors keeps serving, does not spin, and accepts again once
//! descriptors are free.

#[macro_use]
mod common;

use std::net::TcpStream;
use std::time::Duration;

use common::assert_ok;

/// CPU seconds (user + system) the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// Descriptors the process has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .count()
}

for_each_engine! {
    fn running_out_of_descriptors_neither_kills_nor_spins_the_workers(engine) {
        // The limit is set before the app starts, 4 above what it uses once
        // it has served a request (measured on a first instance): io_uring
        // reads the limit when an accept is armed, so one lowered later
        // would not apply to the multishot accept already armed.
        let in_use = {
            let app = app!(engine);
            assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
            std::thread::sleep(Duration::from_millis(100));
            open_fds(app.pid())
        };
        let launch = common::Launch { nofile: Some(in_use + 4), ..Default::default() };
        let Some(app) = common::start_or_skip_with(engine, &[], &launch) else { return };
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
        let pid = app.pid();

        // Far more connections than descriptors: most wait in the backlog
        // while accepting fails with EMFILE.
        let held: Vec<TcpStream> =
            (0..40).map(|_| TcpStream::connect(app.addr()).expect("connect")).collect();
        std::thread::sleep(Duration::from_millis(300));
        let cpu_before = cpu_seconds(pid);
        std::thread::sleep(Duration::from_secs(1));
        let spent = cpu_seconds(pid) - cpu_before;
        assert!(spent < 0.5, "the server burned {spent:.2} CPU-s in 1 s while out of descriptors");

        assert!(
            app.stderr().contains("out of file descriptors"),
            "the limit was not reached; stderr: {}",
            app.stderr()
        );
        drop(held);
        // Descriptors come back as the dropped connections are accepted,
        // read to EOF and closed; a new client queued behind them is served.
        assert_ok(&app.get("/hello"), "Hello, World!", "inline", engine);
    }
}
