//! The wake hook of a loop-hosted mailbox and the flag that coalesces its wake-ups.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Tells an event loop that its mailbox has work.
///
/// An epoll loop implements it with `polling::Poller::notify`, an io_uring
/// loop with a write to the eventfd it keeps a read armed on. It is called
/// from any sending thread, at most once per drain of the mailbox, and must
/// not block. It may also be called once the loop has stopped draining (the
/// last address dropping wakes the loop so it can see the actor end), and
/// must then be harmless.
pub trait Wake: Send + Sync {
    /// Makes the loop's next (or current) wait return so it drains the mailbox.
    fn wake(&self);
}

impl<F: Fn() + Send + Sync> Wake for F {
    fn wake(&self) {
        self()
    }
}

/// A wake hook behind a "wake already pending" flag.
///
/// The protocol, between senders and the one loop thread:
/// - a sender queues its message, then raises the flag; only the sender that
///   moves it false→true calls the hook, so a burst of sends costs one wake;
/// - the loop lowers the flag *before* it drains, so a message queued after
///   that point either is seen by this drain or raises the flag again and
///   wakes the loop for the next one. No message is left without a wake.
pub(crate) struct WakeSignal {
    /// True while a wake has been issued that the loop has not yet answered
    /// with a drain.
    pending: AtomicBool,
    /// The loop's hook.
    hook: Arc<dyn Wake>,
}

impl WakeSignal {
    pub(crate) fn new(hook: Arc<dyn Wake>) -> Self {
        WakeSignal {
            pending: AtomicBool::new(false),
            hook,
        }
    }

    /// Called by a sender after its message is queued.
    pub(crate) fn notify(&self) {
        // Release: the queue push before this swap must be visible to the
        // loop that later lowers the flag with an Acquire swap reading our
        // `true`; that is the case where we skip the hook and rely on the loop
        // seeing our message. Acquire: if we read `false` written by the
        // loop's lowering, everything the loop drained before is settled and
        // our wake asks for a fresh drain. Being a read-modify-write, the swap
        // always reads the latest value of the flag, so two senders can never
        // both see `false` for one lowering.
        if !self.pending.swap(true, Ordering::AcqRel) {
            self.hook.wake();
        }
    }

    /// Called by the loop just before it drains.
    pub(crate) fn rearm(&self) {
        // Acquire pairs with the senders' Release swaps. Our swap reads the
        // flag's latest value; if that is `true`, it was written by a chain
        // of sender swaps, and read-modify-writes extend a release sequence,
        // so every sender in that chain (the ones that skipped the hook
        // because someone else had raised the flag) has its queue push
        // happen-before the drain that follows. A plain store reads nothing
        // and would not synchronise: the drain could miss a message whose
        // wake was suppressed. Release lets a sender that reads our `false`
        // order its wake after this drain began.
        self.pending.swap(false, Ordering::AcqRel);
    }
}

impl fmt::Debug for WakeSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeSignal")
            .field("pending", &self.pending.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
