//! The loop host: a mailbox that a plain-thread event loop drains when woken.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crate::host::{Host, Readiness};
use crate::mailbox::{mailbox, Polled};
use crate::supervise::Life;
use crate::wake::Wake;
use crate::{Actor, Addr, Context, ExitReason, SpawnOptions};

/// What a [`LoopMailbox::drain`] left behind.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drained {
    /// Both lanes are empty; wait for the next wake.
    Idle,
    /// The budget ran out with messages left. The mailbox has already woken
    /// the loop again, so it may go back to its poller (fairness for I/O).
    More,
    /// The actor panicked and is restarted at this instant: drain again no
    /// earlier than then (use it as the poller's timeout).
    Backoff(Instant),
    /// The actor has ended for good and its mailbox is closed.
    Stopped,
}

/// An actor's mailbox and instance, driven by the event loop that owns it.
///
/// Senders call the loop's [`Wake`] hook, at most once per drain: a burst of
/// sends wakes the loop once. The loop calls [`drain`](Self::drain) on each
/// wake; it handles messages control-first under the same supervision as the
/// arbiter host (panics caught, restarts by policy). The loop can also touch
/// the actor between drains through [`with_actor`](Self::with_actor), e.g. to
/// feed it I/O readiness. Dropping the mailbox ends the actor in order.
pub struct LoopMailbox<A: Actor> {
    /// The instance, its inbox and its supervision.
    host: Host<A>,
}

impl<A: Actor> LoopMailbox<A> {
    /// Creates the mailbox and its first address. The first instance is
    /// built by the first `drain` or `with_actor`, on the loop's thread.
    pub fn new<F>(factory: F, wake: Arc<dyn Wake>, options: SpawnOptions) -> (Self, Addr<A>)
    where
        F: FnMut() -> A + Send + 'static,
    {
        let (addr, inbox) = mailbox::<A>(&options, Some(wake));
        let (policy, supervisor) = options.into_supervision();
        let life = Life::new(factory, policy, supervisor, inbox.id().clone());
        let ctx = Context::new(&addr, None);
        let host = Host::new(life, inbox, ctx);
        (LoopMailbox { host }, addr)
    }

    /// Handles up to `budget` messages, control lane first.
    ///
    /// Clears the wake flag before it reads the lanes, so a send that races
    /// with the drain either is read by it or wakes the loop again.
    pub fn drain(&mut self, budget: usize) -> Drained {
        if let Some(done) = self.not_ready() {
            return done;
        }
        if let Some(signal) = self.host.inbox().and_then(|i| i.shared().signal.as_ref()) {
            signal.rearm();
        }
        for _ in 0..budget {
            let Some(inbox) = self.host.inbox() else {
                return Drained::Stopped;
            };
            match inbox.poll() {
                Polled::Msg(msg) => self.host.handle(msg),
                Polled::Empty {
                    control_open: false,
                    work_open: false,
                } => {
                    self.host.end(ExitReason::Stopped);
                    return Drained::Stopped;
                }
                Polled::Empty { .. } => return Drained::Idle,
            }
            if let Some(done) = self.not_ready() {
                return done;
            }
        }
        // Re-raise the wake we lowered above, so a loop that just polls
        // for readiness comes back for the rest without a special case.
        if let Some(signal) = self.host.inbox().and_then(|i| i.shared().signal.as_ref()) {
            signal.notify();
        }
        Drained::More
    }

    fn not_ready(&mut self) -> Option<Drained> {
        match self.host.ready() {
            Readiness::Ready => None,
            Readiness::Backoff(until) => Some(Drained::Backoff(until)),
            Readiness::Ended => Some(Drained::Stopped),
        }
    }

    /// Runs `f` on the live instance, supervised like `handle`: a panic is
    /// caught, reported and answered by the restart policy. `None` when no
    /// instance is live (backing off or ended) or `f` panicked.
    pub fn with_actor<R>(&mut self, f: impl FnOnce(&mut A, &mut Context<A>) -> R) -> Option<R> {
        let value = self.host.call(f);
        // Honour a stop() made inside `f` now, not at the next drain.
        let _ = self.host.ready();
        value
    }

    /// True once the actor has ended for good.
    pub fn is_stopped(&self) -> bool {
        self.host.inbox().is_none()
    }
}

impl<A: Actor> fmt::Debug for LoopMailbox<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopMailbox")
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}
