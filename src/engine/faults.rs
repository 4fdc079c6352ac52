//! Fault injection for the tests of supervision (the conformance app's
//! `--enable-faults` routes): a handler asks for the worker that runs it to
//! crash, outside any handler guard, once the handler has returned. The
//! request lives in a thread-local, since a worker and the handlers it runs
//! inline share its thread; the worker looks once per loop turn (epoll,
//! io_uring) or waits for it beside its accept loop (std).
//!
//! A handler can also ask for the task serving its connection to crash (a
//! dispatch actor's task on the loop engines, the connection's own task on
//! std): that request lives in a task-local of the connection's task, so
//! exactly that task panics, after the poll that ran the handler.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;

use tokio::sync::Notify;

tokio::task_local! {
    /// Whether a crash of this connection's task was asked for.
    static TASK_ASKED: Cell<bool>;
}

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

/// Asks the task serving this handler's connection to panic once the
/// handler has returned, outside any handler guard. False (and nothing
/// asked) when the handler does not run in a connection's task: a loop
/// worker's own connections, or a plain handler on the blocking pool.
pub fn crash_this_connection() -> bool {
    TASK_ASKED.try_with(|a| a.set(true)).is_ok()
}

/// Runs a connection's task `serve` so that [`crash_this_connection`] from
/// one of its handlers makes it panic right after the poll that ran the
/// handler. Costs one task-local lookup per poll.
pub(crate) async fn crashable<F: Future>(serve: F) -> F::Output {
    TASK_ASKED
        .scope(Cell::new(false), async move {
            let mut serve = pin!(serve);
            std::future::poll_fn(|cx| {
                let polled = serve.as_mut().poll(cx);
                if TASK_ASKED.with(Cell::take) {
                    panic!("fault injected: the task serving this connection crashes");
                }
                polled
            })
            .await
        })
        .await
}
