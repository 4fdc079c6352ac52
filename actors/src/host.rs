//! The host-independent life of one actor: build, handle, panic, restart, end.
//!
//! Both hosts drive a [`Host`]; they differ only in how they wait (an
//! arbiter task awaits, a loop returns to its poller), so supervision and
//! stop semantics cannot drift apart between them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::mailbox::Inbox;
use crate::supervise::{discard, panic_message, Life, Verdict};
use crate::{Actor, Context, ExitReason};

/// Whether the host can hand the actor a message now.
pub(crate) enum Readiness {
    /// A live instance is ready for its next message.
    Ready,
    /// A restart is pending until this instant.
    Backoff(Instant),
    /// The actor is gone for good and its mailbox closed.
    Ended,
}

/// One actor's state on its host.
pub(crate) struct Host<A: Actor> {
    /// Factory, policy, supervisor.
    life: Life<A>,
    /// `None` once the actor has ended; taking it is what ends it.
    inbox: Option<Inbox<A::Msg>>,
    /// `None` before the first build and between a panic and its restart.
    actor: Option<A>,
    /// Shared by every instance: the id and address do not change on restart.
    ctx: Context<A>,
    /// While `actor` is `None`: the earliest time to build the next instance.
    resume_at: Instant,
}

impl<A: Actor> Host<A> {
    pub(crate) fn new(life: Life<A>, inbox: Inbox<A::Msg>, ctx: Context<A>) -> Self {
        Host {
            life,
            inbox: Some(inbox),
            actor: None,
            ctx,
            resume_at: Instant::now(),
        }
    }

    pub(crate) fn inbox(&self) -> Option<&Inbox<A::Msg>> {
        self.inbox.as_ref()
    }

    /// Brings the actor to a state where it can take a message, building an
    /// instance when one is due, and ending it when it asked to stop.
    pub(crate) fn ready(&mut self) -> Readiness {
        loop {
            if self.inbox.is_none() {
                return Readiness::Ended;
            }
            if self.ctx.is_stopping() {
                self.end(ExitReason::Stopped);
                return Readiness::Ended;
            }
            if self.actor.is_some() {
                return Readiness::Ready;
            }
            if Instant::now() < self.resume_at {
                return Readiness::Backoff(self.resume_at);
            }
            match self.life.start(&mut self.ctx) {
                Ok(actor) => self.actor = Some(actor),
                Err(message) => self.on_panic(message),
            }
        }
    }

    /// Hands one message to the live instance. Call only after
    /// [`ready`](Self::ready) said `Ready`; otherwise the message is dropped.
    pub(crate) fn handle(&mut self, msg: A::Msg) {
        let Some(actor) = self.actor.as_mut() else {
            return;
        };
        if let Err(message) = Life::handle(actor, msg, &mut self.ctx) {
            self.on_panic(message);
        }
    }

    /// Runs `f` on the live instance under the same supervision as `handle`.
    /// `None` when there is no live instance or `f` panicked.
    pub(crate) fn call<R>(&mut self, f: impl FnOnce(&mut A, &mut Context<A>) -> R) -> Option<R> {
        if !matches!(self.ready(), Readiness::Ready) {
            return None;
        }
        let actor = self.actor.as_mut()?;
        let ctx = &mut self.ctx;
        match catch_unwind(AssertUnwindSafe(|| f(actor, ctx))) {
            Ok(value) => Some(value),
            Err(payload) => {
                self.on_panic(panic_message(payload));
                None
            }
        }
    }

    /// The actor panicked: drop the suspect instance and apply the policy.
    fn on_panic(&mut self, message: String) {
        if let Some(actor) = self.actor.take() {
            discard(actor);
        }
        if self.ctx.is_stopping() {
            // It asked to stop before it panicked; restarting would undo that.
            self.life.report(ExitReason::Panicked(message));
            self.end(ExitReason::Stopped);
            return;
        }
        match self.life.panicked(message) {
            Verdict::Restart(delay) => self.resume_at = later(delay),
            Verdict::GiveUp => self.end(ExitReason::GaveUp),
        }
    }

    /// Ends the actor: `stopping` on a live instance, mailbox closed, then
    /// the supervisor told. Does nothing the second time.
    pub(crate) fn end(&mut self, reason: ExitReason) {
        let Some(inbox) = self.inbox.take() else {
            return;
        };
        if let Some(mut actor) = self.actor.take() {
            Life::stop(&mut actor);
            discard(actor);
        }
        inbox.close();
        self.life.report(reason);
    }
}

impl<A: Actor> Drop for Host<A> {
    /// A host torn down under a running actor (its arbiter stopped, its loop
    /// thread exited) still ends it in order and tells the supervisor.
    fn drop(&mut self) {
        self.end(ExitReason::Stopped);
    }
}

/// `now + delay`, saturating far in the future for absurd policies.
fn later(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}
