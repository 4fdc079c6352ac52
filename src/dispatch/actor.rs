//! `DispatchActor`: owns one promoted connection; its task serves the
//! connection, its mailbox takes shutdown.

use std::sync::Arc;
use std::time::Instant;

use switchyard_actors::{Actor, Context};
use tokio::sync::watch;

use super::{serve::serve, DispatchMsg, Shared};
use crate::engine::Promotion;

/// One promoted HTTP/1.1 connection.
pub struct DispatchActor {
    /// The connection, until `started` hands it to the serving task.
    promotion: Option<Promotion>,
    /// Shared state of every dispatch actor.
    shared: Arc<Shared>,
    /// Tells the serving task to wind down (with the hard deadline).
    stop: watch::Sender<Option<Instant>>,
}

impl DispatchActor {
    /// An actor for `promotion`.
    pub(crate) fn new(promotion: Option<Promotion>, shared: Arc<Shared>) -> Self {
        DispatchActor {
            promotion,
            shared,
            stop: watch::channel(None).0,
        }
    }
}

/// Sends [`DispatchMsg::Finished`] when dropped.
struct Finished(switchyard_actors::Addr<DispatchActor>);

impl Drop for Finished {
    fn drop(&mut self) {
        let _ = self.0.tell_control(DispatchMsg::Finished);
    }
}

impl Actor for DispatchActor {
    type Msg = DispatchMsg;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(promotion) = self.promotion.take() else {
            ctx.stop();
            return;
        };
        let (Some(addr), shared) = (ctx.addr(), self.shared.clone()) else {
            ctx.stop();
            return;
        };
        if let Some(&deadline) = shared.shutdown.get() {
            self.stop.send_replace(Some(deadline));
        }
        let stop = self.stop.subscribe();
        ctx.spawn(async move {
            // Tells the actor its connection is over however the task ends,
            // a panic included.
            let _finished = Finished(addr);
            serve(promotion, &shared, stop).await;
        });
    }

    fn handle(&mut self, msg: DispatchMsg, ctx: &mut Context<Self>) {
        match msg {
            DispatchMsg::Shutdown { deadline } => {
                self.stop.send_replace(Some(deadline));
            }
            DispatchMsg::Finished => {
                self.shared.live.finished(ctx.id().id());
                ctx.stop();
            }
        }
    }
}
