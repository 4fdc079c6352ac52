//! `SupervisorActor`: told of every worker's and dispatch actor's exit by
//! the actor kernel (the std engine's accept loops report their own), it
//! logs crashes, and when a worker's restart policy gives up (too many
//! crashes in its window) it stops the server with a clear error instead of
//! leaving it to limp or loop. On a 1 s tick it has the metrics actor sample
//! the counters (the rates of the snapshot) and runs the adaptive engine's
//! controller, which rates the active engine's own counters.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use switchyard_actors::{Actor, Addr, Context, ExitEvent, ExitReason};

use super::messages::{MetricsMsg, ServerMsg};
use super::{MetricsActor, ServerActor};
use crate::engine::adaptive::Handle;

/// How often the counters are sampled.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// The supervisor's messages.
pub enum SupervisorMsg {
    /// A watched actor panicked, stopped, or was given up.
    Exit(ExitEvent),
    /// The actors the supervisor acts through, once they exist.
    Attach {
        /// The server actor (told to shut down when a worker is given up).
        server: Addr<ServerActor>,
        /// The metrics actor (told to sample on every tick).
        metrics: Addr<MetricsActor>,
        /// The adaptive engine, when it runs (its controller runs on every
        /// tick).
        adaptive: Option<Handle>,
        /// The shutdown grace.
        grace: Duration,
    },
    /// Time to sample the counters.
    Tick,
}

/// Why the server stopped by itself, for whoever waits on it.
#[derive(Debug, Default)]
pub(crate) struct Failure {
    /// The reason, once there is one.
    reason: Mutex<Option<String>>,
    /// Wakes a waiter (`Server::run`).
    wake: Mutex<Option<flume::Sender<String>>>,
}

impl Failure {
    /// A failure slot and the receiver that hears of it.
    pub(crate) fn new() -> (Arc<Self>, flume::Receiver<String>) {
        let (tx, rx) = flume::bounded(1);
        let f = Failure {
            reason: Mutex::new(None),
            wake: Mutex::new(Some(tx)),
        };
        (Arc::new(f), rx)
    }

    /// Records the first failure and wakes the waiter.
    fn set(&self, reason: String) {
        let mut slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return;
        }
        *slot = Some(reason.clone());
        if let Some(tx) = self
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = tx.try_send(reason);
        }
    }

    /// The failure, if the server stopped by itself.
    pub(crate) fn get(&self) -> Option<String> {
        self.reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What outlives a supervisor instance.
#[derive(Default)]
struct State {
    /// The server actor, once attached.
    server: Option<Addr<ServerActor>>,
    /// The metrics actor, once attached.
    metrics: Option<Addr<MetricsActor>>,
    /// The adaptive engine, once attached (when it runs).
    adaptive: Option<Handle>,
    /// Shutdown grace.
    grace: Duration,
    /// Whether the tick task runs (one per server, whatever the restarts).
    ticking: Arc<AtomicBool>,
}

/// The server's supervisor.
pub struct SupervisorActor {
    /// Shared with the instances rebuilt after a panic.
    state: Arc<Mutex<State>>,
    /// Where a fatal failure is reported.
    failure: Arc<Failure>,
}

impl SupervisorActor {
    /// The actor's factory: every instance shares the state.
    pub(crate) fn factory(failure: Arc<Failure>) -> impl FnMut() -> Self + Send + 'static {
        let state = Arc::new(Mutex::new(State::default()));
        move || SupervisorActor {
            state: state.clone(),
            failure: failure.clone(),
        }
    }

    /// Locks the state (a poisoned lock holds nothing half-done).
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A watched actor exited.
    fn on_exit(&mut self, event: ExitEvent) {
        let name = event.actor.name();
        let worker = is_worker(name);
        match event.reason {
            ExitReason::Panicked(message) => {
                if worker {
                    tracing::error!(actor = %event.actor, panic = %message, "worker crashed; restarting it by policy");
                } else {
                    tracing::warn!(actor = %event.actor, panic = %message, "actor crashed");
                }
            }
            ExitReason::GaveUp if worker => {
                let reason = format!(
                    "{name} crashed too often (its restart limit was reached); the server stops"
                );
                tracing::error!("{reason}");
                self.failure.set(reason);
                let (server, grace) = {
                    let s = self.state();
                    (s.server.clone(), s.grace)
                };
                if let Some(server) = server {
                    let _ = server.tell_control(ServerMsg::Shutdown { grace, reply: None });
                }
            }
            ExitReason::GaveUp | ExitReason::Stopped => {
                tracing::debug!(actor = %event.actor, reason = ?event.reason, "actor ended");
            }
        }
    }
}

/// Whether `name` is an engine worker's (`<engine>-worker-<index>`).
fn is_worker(name: &str) -> bool {
    name.rsplit_once("-worker-")
        .is_some_and(|(_, index)| index.parse::<usize>().is_ok())
}

impl Actor for SupervisorActor {
    type Msg = SupervisorMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let ticking = self.state().ticking.clone();
        if ticking.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(me) = ctx.addr() else {
            ticking.store(false, Ordering::Release);
            return;
        };
        ctx.spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if me.tell(SupervisorMsg::Tick).is_err() {
                    break;
                }
            }
        });
    }

    fn handle(&mut self, msg: SupervisorMsg, _ctx: &mut Context<Self>) {
        match msg {
            SupervisorMsg::Exit(event) => self.on_exit(event),
            SupervisorMsg::Attach {
                server,
                metrics,
                adaptive,
                grace,
            } => {
                let mut s = self.state();
                s.server = Some(server);
                s.metrics = Some(metrics);
                s.adaptive = adaptive;
                s.grace = grace;
            }
            SupervisorMsg::Tick => {
                let s = self.state();
                if let Some(metrics) = &s.metrics {
                    let _ = metrics.tell(MetricsMsg::Tick);
                }
                if let Some(adaptive) = &s.adaptive {
                    adaptive.tick();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_are_told_apart_by_name() {
        assert!(is_worker("epoll-worker-0"));
        assert!(is_worker("std-worker-12"));
        assert!(is_worker("io-uring-worker-3"));
        assert!(!is_worker("dispatch"));
        assert!(!is_worker("epoll-worker"));
        assert!(!is_worker("metrics"));
    }

    #[test]
    fn the_first_failure_is_kept_and_heard() {
        let (f, rx) = Failure::new();
        assert_eq!(f.get(), None);
        f.set("first".into());
        f.set("second".into());
        assert_eq!(f.get().as_deref(), Some("first"));
        assert_eq!(rx.try_recv().as_deref(), Ok("first"));
        assert!(rx.try_recv().is_err());
    }
}
