//! Fault injection for the tests of supervision (the conformance app's
//! `--enable-faults` routes): a handler asks for the worker that runs it to
//! crash, outside any handler guard, once the handler has returned. The
//! request lives in a thread-local, since a worker and the handlers it runs
//! inline share its thread; the worker looks once per loop turn (epoll) or
//! waits for it beside its accept loop (std).

use std::cell::Cell;
use std::rc::Rc;

use tokio::sync::Notify;

thread_local! {
    /// Whether a crash was asked for on this thread.
    static ASKED: Cell<bool> = const { Cell::new(false) };
    /// Wakes a worker that waits for the ask (std).
    static WAKE: Rc<Notify> = Rc::new(Notify::new());
}

/// Asks the worker running this handler to crash after the handler
/// returns. A handler not run by a worker's own thread (a blocking or
/// dispatched one) asks nobody.
pub fn crash_this_worker() {
    ASKED.with(|a| a.set(true));
    WAKE.with(|w| w.notify_one());
}

/// Whether a crash was asked for on this thread since the last call.
#[inline]
pub fn crash_asked() -> bool {
    ASKED.with(Cell::take)
}

/// Resolves when a crash is asked for on this thread.
pub async fn crash_wanted() {
    let wake = WAKE.with(Rc::clone);
    loop {
        if crash_asked() {
            return;
        }
        wake.notified().await;
    }
}
