//! `MetricsActor`: answers snapshot asks by summing every worker's and
//! dispatch actor's counters at that moment.

use std::sync::Arc;

use switchyard_actors::{Actor, Context};

use super::messages::MetricsMsg;
use crate::metrics::{prometheus, CpuSampler, Snapshot, Sources};
use crate::router::SharedTable;

/// Aggregates counters on ask; owns no counter itself.
pub struct MetricsActor {
    /// Where the counters are.
    sources: Sources,
    /// The route table (for the async route count).
    table: Arc<SharedTable>,
    /// CPU utilisation between asks.
    cpu: CpuSampler,
}

impl MetricsActor {
    /// An actor reading `sources`.
    pub fn new(sources: Sources, table: Arc<SharedTable>) -> Self {
        MetricsActor {
            sources,
            table,
            cpu: CpuSampler::new(),
        }
    }
}

impl Actor for MetricsActor {
    type Msg = MetricsMsg;

    fn handle(&mut self, msg: MetricsMsg, _ctx: &mut Context<Self>) {
        match msg {
            MetricsMsg::Snapshot { reply } => {
                let async_routes = self.table.load().async_route_count();
                reply.send(Snapshot::collect(
                    &self.sources,
                    async_routes,
                    self.cpu.sample(),
                ));
            }
            MetricsMsg::Prometheus { format, reply } => {
                let async_routes = self.table.load().async_route_count();
                reply.send(prometheus::render(&self.sources, async_routes, format));
            }
        }
    }
}
