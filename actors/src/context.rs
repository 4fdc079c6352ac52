//! What an actor sees of its host while it runs: its id, its address, stop, and spawning.

use std::fmt;
use std::future::Future;
use std::sync::Weak;

use crate::addr::AddrInner;
use crate::{Actor, ActorId, Addr};

/// The actor's view of its host, passed to `started` and `handle`.
pub struct Context<A: Actor> {
    /// The actor's identity.
    id: ActorId,
    /// Weak, so that an actor does not keep its own mailbox open: it ends
    /// when every address held by others is gone.
    addr: Weak<AddrInner<A::Msg>>,
    /// Set by [`stop`](Self::stop); the host ends the actor after the current call.
    stop: bool,
    /// The arbiter the actor runs on; `None` on a loop host.
    arbiter: Option<actix_rt::ArbiterHandle>,
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(addr: &Addr<A>, arbiter: Option<actix_rt::ArbiterHandle>) -> Self {
        Context {
            id: addr.id().clone(),
            addr: addr.downgrade(),
            stop: false,
            arbiter,
        }
    }

    /// The actor's identity.
    pub fn id(&self) -> &ActorId {
        &self.id
    }

    /// The actor's own address, to hand to others or to futures it spawns.
    /// `None` once every other address is gone: the actor is then draining
    /// its last messages before it stops.
    pub fn addr(&self) -> Option<Addr<A>> {
        self.addr.upgrade().map(Addr::from_inner)
    }

    /// Ends the actor once the current `started`/`handle` returns: `stopping`
    /// runs, messages still queued are dropped (their asks fail at once) and
    /// later sends fail as closed.
    pub fn stop(&mut self) {
        self.stop = true;
    }

    /// True once [`stop`](Self::stop) has been called.
    pub fn is_stopping(&self) -> bool {
        self.stop
    }

    /// The arbiter this actor runs on; `None` on a loop host.
    pub fn arbiter(&self) -> Option<&actix_rt::ArbiterHandle> {
        self.arbiter.as_ref()
    }

    /// Runs `fut` on the actor's arbiter, beside the actor, so awaiting I/O
    /// never holds up its mailbox; results come back as messages through
    /// [`addr`](Self::addr). Returns `None` on a loop host, which has no
    /// executor. A panic in `fut` ends that task only, unsupervised.
    pub fn spawn<F>(&self, fut: F) -> Option<actix_rt::task::JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // The arbiter host calls the actor on the arbiter's own thread, inside
        // its LocalSet, so a local spawn lands on the right arbiter and the
        // future need not be Send.
        self.arbiter.as_ref().map(|_| actix_rt::spawn(fut))
    }
}

impl<A: Actor> fmt::Debug for Context<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("id", &self.id)
            .field("stop", &self.stop)
            .field("on_arbiter", &self.arbiter.is_some())
            .finish()
    }
}
