//! Supervision: catching panics, the restart policy, and the exit events a supervisor receives.
//!
//! Both hosts run an actor through [`Life`], so a panic means the same thing
//! wherever the actor lives: the instance is discarded (its state is
//! suspect), the panicking message is dropped, the supervisor hears
//! `Panicked`, and the factory builds a fresh instance over the same mailbox,
//! or, once the policy is exhausted, the actor stops and the supervisor
//! hears `GaveUp`.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::{Actor, ActorId, Context, Recipient};

/// When a panicked actor is rebuilt, and when it is given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Restarts allowed within `within`; one more panic gives up. Zero never restarts.
    pub max_restarts: u32,
    /// The sliding window restarts are counted in.
    pub within: Duration,
    /// Delay before the first restart in the window; doubles for each
    /// further restart in it.
    pub backoff: Duration,
    /// Upper bound on the doubled delay.
    pub max_backoff: Duration,
}

impl RestartPolicy {
    /// Never restart: the first panic gives up.
    pub fn never() -> Self {
        RestartPolicy {
            max_restarts: 0,
            within: Duration::ZERO,
            backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }

    /// Decides the fate of an actor that panicked at `now`, given the times
    /// of its earlier restarts (pruned and extended here): the delay before
    /// rebuilding it, or `None` to give up.
    pub(crate) fn next_restart(
        &self,
        history: &mut VecDeque<Instant>,
        now: Instant,
    ) -> Option<Duration> {
        while history
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) >= self.within)
        {
            history.pop_front();
        }
        let recent = u32::try_from(history.len()).unwrap_or(u32::MAX);
        if recent >= self.max_restarts {
            return None;
        }
        history.push_back(now);
        let factor = 1u32.checked_shl(recent).unwrap_or(u32::MAX);
        Some(
            self.backoff
                .checked_mul(factor)
                .unwrap_or(Duration::MAX)
                .min(self.max_backoff),
        )
    }
}

impl Default for RestartPolicy {
    /// Five restarts a minute, 10 ms after the first panic, doubling to at
    /// most one second: a transient fault recovers fast, a crash loop is
    /// given up within seconds instead of spinning.
    fn default() -> Self {
        RestartPolicy {
            max_restarts: 5,
            within: Duration::from_secs(60),
            backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
        }
    }
}

/// Why an actor left (or restarted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// `started` or `handle` panicked with this message. Sent for every
    /// panic, whether a restart follows or not.
    Panicked(String),
    /// The actor ended in order: it called `stop()` or every address was dropped.
    Stopped,
    /// The restart policy was exhausted; the actor is gone for good.
    GaveUp,
}

/// What a supervisor is told about one of its actors.
///
/// By the time `Stopped` or `GaveUp` is sent the mailbox is closed, so the
/// supervisor sees `is_alive() == false` on the actor's addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitEvent {
    /// The actor concerned.
    pub actor: ActorId,
    /// What happened to it.
    pub reason: ExitReason,
}

/// What to do after a panic.
pub(crate) enum Verdict {
    /// Rebuild the actor after this delay.
    Restart(Duration),
    /// Stop for good; `GaveUp` has been reported by the time this is seen.
    GiveUp,
}

/// The restart history of one supervised thing (an actor, or a task a
/// host supervises by hand), judged by its policy.
#[derive(Clone, Debug)]
pub struct Restarts {
    /// Applied on every panic.
    policy: RestartPolicy,
    /// When the recent restarts happened, oldest first.
    history: VecDeque<Instant>,
}

impl Restarts {
    /// No restarts yet.
    pub fn new(policy: RestartPolicy) -> Self {
        Restarts {
            policy,
            history: VecDeque::new(),
        }
    }

    /// A panic happened at `now`: the delay before rebuilding, or `None` to
    /// give up (the policy is exhausted).
    pub fn after_panic(&mut self, now: Instant) -> Option<Duration> {
        self.policy.next_restart(&mut self.history, now)
    }
}

/// A host's handle on one actor across its instances: factory, policy,
/// restart history and supervisor.
pub(crate) struct Life<A> {
    /// Builds each instance.
    factory: Box<dyn FnMut() -> A + Send>,
    /// The policy and the recent restarts.
    restarts: Restarts,
    /// Receives exit events.
    supervisor: Option<Recipient<ExitEvent>>,
    /// For events and logs.
    id: ActorId,
}

impl<A: Actor> Life<A> {
    pub(crate) fn new(
        factory: impl FnMut() -> A + Send + 'static,
        policy: RestartPolicy,
        supervisor: Option<Recipient<ExitEvent>>,
        id: ActorId,
    ) -> Self {
        Life {
            factory: Box::new(factory),
            restarts: Restarts::new(policy),
            supervisor,
            id,
        }
    }

    /// Builds an instance and runs its `started`; a panic in either is
    /// returned as its message.
    pub(crate) fn start(&mut self, ctx: &mut Context<A>) -> Result<A, String> {
        let mut actor =
            catch_unwind(AssertUnwindSafe(|| (self.factory)())).map_err(panic_message)?;
        match catch_unwind(AssertUnwindSafe(|| actor.started(ctx))) {
            Ok(()) => Ok(actor),
            Err(payload) => {
                discard(actor);
                Err(panic_message(payload))
            }
        }
    }

    /// Handles one message; a panic is returned as its message and the
    /// instance is left for the caller to [`discard`].
    pub(crate) fn handle(actor: &mut A, msg: A::Msg, ctx: &mut Context<A>) -> Result<(), String> {
        catch_unwind(AssertUnwindSafe(|| actor.handle(msg, ctx))).map_err(panic_message)
    }

    /// Reports a panic and applies the policy.
    pub(crate) fn panicked(&mut self, message: String) -> Verdict {
        tracing::error!(actor = %self.id, panic = %message, "actor panicked");
        self.report(ExitReason::Panicked(message));
        match self.restarts.after_panic(Instant::now()) {
            Some(delay) => Verdict::Restart(delay),
            None => {
                tracing::error!(actor = %self.id, "restart policy exhausted; actor gives up");
                Verdict::GiveUp
            }
        }
    }

    /// Runs `stopping` on an instance that ends in order.
    pub(crate) fn stop(actor: &mut A) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| actor.stopping())) {
            // The actor is ending either way; the panic changes nothing but the log.
            tracing::error!(panic = %panic_message(payload), "actor panicked in stopping");
        }
    }

    /// Sends an event to the supervisor, if any. Call after the mailbox is
    /// closed for `Stopped` and `GaveUp`.
    pub(crate) fn report(&self, reason: ExitReason) {
        let Some(supervisor) = &self.supervisor else {
            return;
        };
        let event = ExitEvent {
            actor: self.id.clone(),
            reason,
        };
        if let Err(err) = supervisor.tell(event) {
            tracing::warn!(actor = %self.id, error = %err, "exit event not delivered");
        }
    }
}

/// Drops an instance that panicked; its `Drop` may panic too, on state the
/// first panic left half-updated, and that must not unwind into the host.
pub(crate) fn discard<A>(actor: A) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(actor))) {
        tracing::error!(panic = %panic_message(payload), "panicked actor panicked again while dropped");
    }
}

pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_restarts: u32) -> RestartPolicy {
        RestartPolicy {
            max_restarts,
            within: Duration::from_secs(10),
            backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(35),
        }
    }

    #[test]
    fn backoff_doubles_then_caps_then_gives_up() {
        let policy = policy(4);
        let mut history = VecDeque::new();
        let now = Instant::now();
        let delays: Vec<_> = (0..5)
            .map(|_| policy.next_restart(&mut history, now))
            .collect();
        let ms = Duration::from_millis;
        assert_eq!(
            delays,
            [Some(ms(10)), Some(ms(20)), Some(ms(35)), Some(ms(35)), None]
        );
    }

    #[test]
    fn restarts_outside_the_window_are_forgotten() {
        let policy = policy(1);
        let mut history = VecDeque::new();
        let start = Instant::now();
        assert!(policy.next_restart(&mut history, start).is_some());
        assert!(policy
            .next_restart(&mut history, start + Duration::from_secs(1))
            .is_none());
        let later = start + Duration::from_secs(11);
        assert_eq!(
            policy.next_restart(&mut history, later),
            Some(Duration::from_millis(10))
        );
    }

    #[test]
    fn never_gives_up_on_the_first_panic() {
        let mut history = VecDeque::new();
        assert!(RestartPolicy::never()
            .next_restart(&mut history, Instant::now())
            .is_none());
    }
}
