//! Bounded two-lane mailboxes: spawn options, and the receiving side both hosts drain.
//!
//! Every mailbox is two bounded flume channels. Bounds are what keep a slow
//! actor from turning into unbounded memory: a send never blocks, and when a
//! lane is full the sender gets its message back ([`SendError::is_full`])
//! and chooses to retry, shed or fail. Nothing in the kernel queues without
//! a bound.
//!
//! [`SendError::is_full`]: crate::SendError::is_full

use std::sync::Arc;

use crate::addr::{AddrInner, Shared};
use crate::wake::{Wake, WakeSignal};
use crate::{Actor, ActorId, Addr, ExitEvent, Recipient, RestartPolicy};

/// Default work-lane capacity: deep enough to absorb a burst from many
/// senders between two turns of the actor, small enough that a stuck actor
/// pushes back within about a thousand messages.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Default control-lane capacity: control messages (shutdown, pause) are
/// rare and sent by a few owners, so a handful always fit; a full control
/// lane means the actor is wedged, which its sender should learn promptly.
pub const DEFAULT_CONTROL_CAPACITY: usize = 64;

/// How to spawn an actor: name, lane sizes, restart policy and supervisor.
#[derive(Clone, Debug)]
pub struct SpawnOptions {
    /// Name carried by the actor's [`ActorId`].
    name: String,
    /// Work-lane bound (at least 1).
    capacity: usize,
    /// Control-lane bound (at least 1).
    control_capacity: usize,
    /// What happens after a panic.
    policy: RestartPolicy,
    /// Who hears of panics and exits; none means they are only logged.
    supervisor: Option<Recipient<ExitEvent>>,
}

impl SpawnOptions {
    /// Defaults for an actor called `name`: [`DEFAULT_CAPACITY`],
    /// [`DEFAULT_CONTROL_CAPACITY`], the default restart policy, no supervisor.
    pub fn new(name: impl Into<String>) -> Self {
        SpawnOptions {
            name: name.into(),
            capacity: DEFAULT_CAPACITY,
            control_capacity: DEFAULT_CONTROL_CAPACITY,
            policy: RestartPolicy::default(),
            supervisor: None,
        }
    }

    /// Sets the work-lane bound; zero is raised to one, as a rendezvous
    /// lane would make every `tell` fail while the actor is busy.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Sets the control-lane bound; zero is raised to one.
    pub fn control_capacity(mut self, capacity: usize) -> Self {
        self.control_capacity = capacity.max(1);
        self
    }

    /// Sets the restart policy.
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the supervisor that receives this actor's [`ExitEvent`]s.
    pub fn supervisor(mut self, supervisor: Recipient<ExitEvent>) -> Self {
        self.supervisor = Some(supervisor);
        self
    }

    pub(crate) fn into_supervision(self) -> (RestartPolicy, Option<Recipient<ExitEvent>>) {
        (self.policy, self.supervisor)
    }
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions::new("actor")
    }
}

/// Builds a mailbox: its first address and its receiving side.
pub(crate) fn mailbox<A: Actor>(
    options: &SpawnOptions,
    hook: Option<Arc<dyn Wake>>,
) -> (Addr<A>, Inbox<A::Msg>) {
    let (work_tx, work) = flume::bounded(options.capacity);
    let (control_tx, control) = flume::bounded(options.control_capacity);
    let shared = Arc::new(Shared {
        id: ActorId::next(&options.name),
        signal: hook.map(WakeSignal::new),
    });
    let inner = AddrInner::new(work_tx, control_tx, Arc::clone(&shared));
    let addr = Addr::from_inner(Arc::new(inner));
    (
        addr,
        Inbox {
            work,
            control,
            shared,
        },
    )
}

/// What a non-blocking look at the inbox found.
pub(crate) enum Polled<M> {
    /// The next message, control lane first.
    Msg(M),
    /// Nothing queued; says which lanes can still receive.
    Empty {
        /// The control lane has a live sender.
        control_open: bool,
        /// The work lane has a live sender.
        work_open: bool,
    },
}

/// The receiving side of a mailbox, owned by whichever host runs the actor.
pub(crate) struct Inbox<M> {
    /// Ordinary messages.
    work: flume::Receiver<M>,
    /// Priority messages.
    control: flume::Receiver<M>,
    /// Identity and wake flag, shared with the addresses.
    shared: Arc<Shared>,
}

impl<M> Inbox<M> {
    pub(crate) fn id(&self) -> &ActorId {
        &self.shared.id
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Takes the next message without waiting: control first, then work.
    pub(crate) fn poll(&self) -> Polled<M> {
        let control_open = match self.control.try_recv() {
            Ok(msg) => return Polled::Msg(msg),
            Err(flume::TryRecvError::Empty) => true,
            Err(flume::TryRecvError::Disconnected) => false,
        };
        let work_open = match self.work.try_recv() {
            Ok(msg) => return Polled::Msg(msg),
            Err(flume::TryRecvError::Empty) => true,
            Err(flume::TryRecvError::Disconnected) => false,
        };
        Polled::Empty {
            control_open,
            work_open,
        }
    }

    /// Waits for the next message, control first; `None` once every address
    /// is gone and both lanes are empty.
    pub(crate) async fn recv(&self) -> Option<M> {
        loop {
            let (control_open, work_open) = match self.poll() {
                Polled::Msg(msg) => return Some(msg),
                Polled::Empty {
                    control_open,
                    work_open,
                } => (control_open, work_open),
            };
            if !control_open && !work_open {
                return None;
            }
            // Biased: when both lanes wake at once, control wins. flume's
            // receive futures are cancel-safe, so the losing branch keeps
            // its message queued.
            tokio::select! {
                biased;
                Ok(msg) = self.control.recv_async(), if control_open => return Some(msg),
                Ok(msg) = self.work.recv_async(), if work_open => return Some(msg),
                // A lane closed while we waited; the poll above sorts it out.
                else => {}
            }
        }
    }

    /// Ends the mailbox: drops every queued message (so each reply port in
    /// it fails its asker now, not at its timeout) and disconnects the lanes
    /// so later sends fail as closed.
    pub(crate) fn close(self) {
        // flume keeps queued messages alive until the last *sender* drops, so
        // dropping the receivers alone would strand queued asks. A send that
        // lands between this drain and the drop below is the one exception:
        // it is freed with the last address, and an ask in it waits for its
        // timeout. Every send after the drop fails at once as closed.
        let Inbox {
            work,
            control,
            shared,
        } = self;
        drop(control.drain());
        drop(work.drain());
        drop((control, work));
        drop(shared);
    }
}
