//! The arbiter host: an actor that runs as a task on an actix-rt Arbiter.

use actix_rt::ArbiterHandle;

use crate::host::{Host, Readiness};
use crate::mailbox::mailbox;
use crate::supervise::Life;
use crate::{Actor, Addr, Context, ExitReason, SpawnOptions};

/// Spawns an actor as a task on `arbiter` and returns its address at once.
///
/// `factory` builds the first instance on the arbiter, and a fresh one after
/// every restart. If the arbiter has already stopped, the returned address is
/// dead from the start (`is_alive()` is false, sends fail as closed).
pub fn spawn_on<A, F>(arbiter: &ArbiterHandle, factory: F, options: SpawnOptions) -> Addr<A>
where
    A: Actor,
    F: FnMut() -> A + Send + 'static,
{
    let (addr, inbox) = mailbox::<A>(&options, None);
    let (policy, supervisor) = options.into_supervision();
    let life = Life::new(factory, policy, supervisor, inbox.id().clone());
    let ctx = Context::new(&addr, Some(arbiter.clone()));
    let host = Host::new(life, inbox, ctx);
    if !arbiter.spawn(run(host)) {
        tracing::warn!(actor = %addr.id(), "arbiter stopped before the actor could start");
    }
    addr
}

/// The actor's task: one message per turn, control lane first.
async fn run<A: Actor>(mut host: Host<A>) {
    loop {
        match host.ready() {
            Readiness::Ready => {}
            Readiness::Backoff(until) => {
                actix_rt::time::sleep_until(until.into()).await;
                continue;
            }
            Readiness::Ended => return,
        }
        let Some(inbox) = host.inbox() else {
            return;
        };
        match inbox.recv().await {
            Some(msg) => host.handle(msg),
            None => {
                host.end(ExitReason::Stopped);
                return;
            }
        }
    }
}
