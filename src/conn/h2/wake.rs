//! Waking a loop-hosted h2 connection from any thread: a [`Wakeups`] queue
//! per worker that connection keys (with their generation) are pushed to,
//! and the per-connection waker handed to the `h2` crate, which pushes its
//! connection at most once per turn and rouses the worker's poller only
//! when woken from another thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

/// Rouses a worker's loop (its poller's `notify`).
pub type Rouse = Box<dyn Fn() + Send + Sync>;

thread_local! {
    /// The [`Wakeups`] the current thread drains (its address), if it is a
    /// loop worker: a wake from that thread needs no notify, the loop looks
    /// at its queue before it waits again.
    static DRAINED_HERE: Cell<usize> = const { Cell::new(0) };
}

/// Connections woken since the worker last looked: `(key, generation)`.
pub struct Wakeups {
    /// Woken connections. Bounded by the worker's connections: each
    /// connection's waker pushes itself at most once until the connection
    /// is polled again (its `queued` flag).
    queue: Mutex<Vec<(usize, u64)>>,
    /// Whether `queue` holds anything: written under its lock, read without
    /// it, so a worker with no h2 connection woken takes no lock per turn. A
    /// push that a look misses is followed by a rouse (off the loop) or
    /// happened on the loop itself, so the worker looks again.
    pending: AtomicBool,
    /// Rouses the worker when a wake comes from another thread.
    rouse: Rouse,
}

impl Wakeups {
    /// A queue whose off-loop wakes call `rouse`.
    pub fn new(rouse: Rouse) -> Arc<Self> {
        Arc::new(Wakeups {
            queue: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            rouse,
        })
    }

    /// Marks the current thread as the one draining this queue (called by
    /// the worker at each turn: a worker rebuilt after a crash on the same
    /// thread has a new queue).
    pub fn enter(self: &Arc<Self>) {
        DRAINED_HERE.with(|d| d.set(Arc::as_ptr(self) as usize));
    }

    /// Moves the woken connections into `into` (which is cleared first).
    pub fn take(&self, into: &mut Vec<(usize, u64)>) {
        into.clear();
        // Acquire: pairs with the Release store of a push.
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        self.pending.store(false, Ordering::Relaxed);
        std::mem::swap(&mut *q, into);
    }

    /// Whether connections were woken since the last [`Wakeups::take`].
    pub fn is_empty(&self) -> bool {
        !self.pending.load(Ordering::Acquire)
    }

    /// Whether the current thread drains this queue.
    fn is_drained_here(self: &Arc<Self>) -> bool {
        DRAINED_HERE.with(|d| d.get() == Arc::as_ptr(self) as usize)
    }
}

/// The waker of one loop-hosted connection.
pub(super) struct ConnWake {
    /// The connection's key in its worker.
    key: usize,
    /// The connection's generation (a key is reused by later connections:
    /// a late wake of an old one must not be taken for theirs).
    gen: u64,
    /// Pushed and not polled since. Cleared (Release) by the loop just
    /// before it polls the connection; a wake's swap (AcqRel) that finds it
    /// clear pushes again, so a wake after the clear is never lost, and one
    /// before it is served by that very poll.
    queued: AtomicBool,
    /// The worker's queue.
    wakeups: Arc<Wakeups>,
}

impl ConnWake {
    /// A waker for connection `key` (generation `gen`).
    pub(super) fn new(key: usize, gen: u64, wakeups: Arc<Wakeups>) -> Arc<Self> {
        Arc::new(ConnWake {
            key,
            gen,
            queued: AtomicBool::new(false),
            wakeups,
        })
    }

    /// The connection is about to be polled: later wakes push it again.
    pub(super) fn clear(&self) {
        self.queued.store(false, Ordering::Release);
    }

    /// Pushes the connection from the loop thread itself (it wants another
    /// turn, without a notify).
    pub(super) fn requeue(self: &Arc<Self>) {
        self.wake_by_ref();
    }
}

impl Wake for ConnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut q = self.wakeups.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.push((self.key, self.gen));
            self.wakeups.pending.store(true, Ordering::Release);
        }
        if !self.wakeups.is_drained_here() {
            (self.wakeups.rouse)();
        }
    }
}

/// The `Waker` of a connection.
pub(super) fn waker(wake: &Arc<ConnWake>) -> Waker {
    Waker::from(wake.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn wakes_coalesce_until_polled_and_only_off_loop_wakes_rouse() {
        let roused = Arc::new(AtomicUsize::new(0));
        let r = roused.clone();
        let wakeups = Wakeups::new(Box::new(move || {
            r.fetch_add(1, Ordering::Relaxed);
        }));
        let wake = ConnWake::new(3, 7, wakeups.clone());
        let w = waker(&wake);
        let off = w.clone();
        std::thread::spawn(move || {
            off.wake_by_ref();
            off.wake_by_ref();
        })
        .join()
        .unwrap();
        assert_eq!(roused.load(Ordering::Relaxed), 1);
        let mut got = Vec::new();
        wakeups.take(&mut got);
        assert_eq!(got, vec![(3, 7)]);
        // Not polled yet: still queued, no second push.
        w.wake_by_ref();
        wakeups.take(&mut got);
        assert!(got.is_empty());
        // Polled, then woken on the loop thread: pushed, not rousing.
        wakeups.enter();
        wake.clear();
        w.wake_by_ref();
        wakeups.take(&mut got);
        assert_eq!(got, vec![(3, 7)]);
        assert_eq!(roused.load(Ordering::Relaxed), 1);
    }
}
