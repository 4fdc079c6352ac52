//! The adaptive engine: an epoll engine and an io_uring engine on one
//! shared port, new connections going to one of them as the controller
//! ([`policy`]) decides on every supervisor tick, or as an operator forces.
//!
//! This module holds what the rest of the server sees of it — the
//! [`Handle`] that ticks the controller, forces a switch and reports the
//! [`Status`] — and, on Linux, the engine itself (`switch`).

pub mod policy;
#[cfg(target_os = "linux")]
mod switch;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

#[cfg(target_os = "linux")]
pub(crate) use switch::start;

use crate::config::EngineKind;
pub use policy::{Decision, Reason};

/// What the adaptive engine is doing, as `EngineInfo` and the metrics
/// report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// The engine new connections go to.
    pub active: EngineKind,
    /// Switches performed so far (forced ones too).
    pub switches: u64,
    /// The controller's last decision and why (`None` before its first
    /// tick); a forced switch is recorded as one, with [`Reason::Forced`].
    pub last: Option<Decision>,
    /// Whether io_uring serves here: `false` where the kernel or a sandbox
    /// refused it (the engine then stays on epoll).
    pub io_uring: bool,
}

/// Why a switch was not made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchError {
    /// What stood in the way.
    kind: Refusal,
}

/// What stood in the way of a switch.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Refusal {
    /// The engine running is not the adaptive one.
    NotAdaptive,
    /// io_uring cannot serve here, for this reason.
    Unavailable(String),
    /// Accepting is paused, or the server is shutting down.
    NotAccepting,
    /// The other engine did not start accepting, for this reason.
    Failed(String),
}

impl SwitchError {
    /// The engine running is not the adaptive one.
    pub(crate) fn not_adaptive() -> Self {
        SwitchError {
            kind: Refusal::NotAdaptive,
        }
    }

    /// io_uring cannot serve here.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn unavailable(why: String) -> Self {
        SwitchError {
            kind: Refusal::Unavailable(why),
        }
    }

    /// Accepting is paused or the server is shutting down.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn not_accepting() -> Self {
        SwitchError {
            kind: Refusal::NotAccepting,
        }
    }

    /// The other engine did not start accepting.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn failed(why: String) -> Self {
        SwitchError {
            kind: Refusal::Failed(why),
        }
    }

    /// Whether the server runs another engine than the adaptive one (no
    /// switch can ever be made).
    pub fn is_not_adaptive(&self) -> bool {
        self.kind == Refusal::NotAdaptive
    }

    /// Whether the switch failed while being made (the engine stays where
    /// it was); the other refusals are states in which no switch is made.
    pub fn is_failure(&self) -> bool {
        matches!(self.kind, Refusal::Failed(_))
    }
}

impl fmt::Display for SwitchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Refusal::NotAdaptive => f.write_str("the engine running is not the adaptive one"),
            Refusal::Unavailable(why) => write!(f, "io_uring cannot serve here: {why}"),
            Refusal::NotAccepting => {
                f.write_str("accepting is paused or the server is shutting down")
            }
            Refusal::Failed(why) => write!(f, "the switch failed: {why}"),
        }
    }
}

impl std::error::Error for SwitchError {}

/// Where a forced switch's outcome goes: the new active engine, or why
/// none.
pub type SwitchReply = Box<dyn FnOnce(Result<EngineKind, SwitchError>) + Send>;

/// What the engine's switching thread is told.
pub(crate) enum Cmd {
    /// The supervisor's tick: sample, decide, act.
    Tick,
    /// Switch now, and say how it went.
    Force(SwitchReply),
    /// The server is shutting down: the thread ends.
    Stop,
}

/// What the server holds of a running adaptive engine; clones share it.
#[derive(Clone)]
pub struct Handle(Arc<Shared>);

/// What a handle shares with the engine's switching thread.
struct Shared {
    /// The thread's inbox (unbounded: a tick a second, and forced switches
    /// an operator sends one at a time; a switch is bounded by its acks'
    /// timeouts, so the queue drains).
    cmd: flume::Sender<Cmd>,
    /// The latest status, published by the thread.
    status: Mutex<Status>,
}

impl Handle {
    /// A handle over the thread's inbox, starting with `status`.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn new(cmd: flume::Sender<Cmd>, status: Status) -> Self {
        Handle(Arc::new(Shared {
            cmd,
            status: Mutex::new(status),
        }))
    }

    /// What the engine is doing now.
    pub fn status(&self) -> Status {
        *self.0.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes a new status (the switching thread).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn publish(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.0.status.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Runs the controller once (the supervisor's 1 s tick); returns at
    /// once, the decision is made and acted on by the engine's thread.
    pub(crate) fn tick(&self) {
        let _ = self.0.cmd.send(Cmd::Tick);
    }

    /// Switches new connections to the other engine now; `reply` hears the
    /// new active engine once the other engine accepts and the old one
    /// stopped accepting, or why there was no switch.
    pub fn force_switch(&self, reply: SwitchReply) {
        if let Err(flume::SendError(Cmd::Force(reply))) = self.0.cmd.send(Cmd::Force(reply)) {
            reply(Err(SwitchError::not_accepting()));
        }
    }

    /// Ends the switching thread (shutdown).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn stop(&self) {
        let _ = self.0.cmd.send(Cmd::Stop);
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handle").field(&self.status()).finish()
    }
}
