//! The `Actor` trait and the identity every actor carries.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::Context;

/// A unit of state that handles its messages one at a time.
///
/// `handle` runs for one message at a time, in the order the mailbox gives
/// them (control lane first, then work, each in send order per sender). A panic
/// in `started` or `handle` is caught and reported to the supervisor; the
/// actor is then rebuilt by its factory or stopped, by its restart policy.
pub trait Actor: Send + Sized + 'static {
    /// The messages this actor accepts; usually an enum whose request
    /// variants carry a [`Reply`](crate::Reply).
    type Msg: Send + 'static;

    /// Runs once per instance, before its first message (and again after
    /// every restart, on the fresh instance).
    fn started(&mut self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }

    /// Handles one message.
    fn handle(&mut self, msg: Self::Msg, ctx: &mut Context<Self>);

    /// Runs once when the actor ends in order: after [`Context::stop`] or
    /// when every address is gone. Not called on an instance that panicked.
    fn stopping(&mut self) {}
}

/// Source of the numeric half of actor ids; only uniqueness matters.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Who an actor is: a name for people and a process-unique number.
///
/// One id covers an actor's whole life, restarts included, because the
/// mailbox and every address outlive the instances a factory builds.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ActorId {
    /// The name given at spawn; shared, as every address and event carries it.
    name: Arc<str>,
    /// Unique within the process.
    id: u64,
}

impl ActorId {
    /// A fresh id for something supervised by hand rather than hosted by
    /// this crate (a task that reports its own exits as [`ExitEvent`]s).
    ///
    /// [`ExitEvent`]: crate::ExitEvent
    pub fn new(name: &str) -> Self {
        Self::next(name)
    }

    pub(crate) fn next(name: &str) -> Self {
        // Relaxed: the counter orders nothing else, it only has to be unique.
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        ActorId {
            name: Arc::from(name),
            id,
        }
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process-unique number.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.id)
    }
}

impl fmt::Debug for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
