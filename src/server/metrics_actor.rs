//! `MetricsActor`: answers snapshot asks by summing every worker's and
//! dispatch actor's counters at that moment.

use std::sync::Arc;
use std::time::Instant;

use switchyard_actors::{Actor, Context};

use super::messages::MetricsMsg;
use crate::metrics::{prometheus, CpuSampler, Rates, Snapshot, Sources};
use crate::router::SharedTable;

/// Aggregates counters on ask; owns no counter itself.
pub struct MetricsActor {
    /// Where the counters are.
    sources: Sources,
    /// The route table (for the async route count and the learning routes).
    table: Arc<SharedTable>,
    /// CPU utilisation between asks.
    cpu: CpuSampler,
    /// CPU utilisation between ticks.
    tick_cpu: CpuSampler,
    /// The last tick's sample and when it was taken.
    last: Option<(Instant, Snapshot)>,
    /// The rates between the last two ticks.
    rates: Option<Rates>,
}

impl MetricsActor {
    /// An actor reading `sources`.
    pub fn new(sources: Sources, table: Arc<SharedTable>) -> Self {
        MetricsActor {
            sources,
            table,
            cpu: CpuSampler::new(),
            tick_cpu: CpuSampler::new(),
            last: None,
            rates: None,
        }
    }
}

impl Actor for MetricsActor {
    type Msg = MetricsMsg;

    fn handle(&mut self, msg: MetricsMsg, _ctx: &mut Context<Self>) {
        match msg {
            MetricsMsg::Snapshot { reply } => {
                let table = self.table.load();
                let mut snapshot =
                    Snapshot::collect(&self.sources, table.async_route_count(), self.cpu.sample());
                snapshot.rates = self.rates.clone();
                snapshot.learning_routes = table.learning_routes();
                reply.send(snapshot);
            }
            MetricsMsg::Tick => {
                let now = Instant::now();
                let async_routes = self.table.load().async_route_count();
                let sample = Snapshot::collect(&self.sources, async_routes, self.tick_cpu.sample());
                if let Some((then, before)) = &self.last {
                    self.rates = Some(Rates::between(
                        before,
                        &sample,
                        now.duration_since(*then),
                        &self.sources,
                    ));
                }
                self.last = Some((now, sample));
            }
            MetricsMsg::Prometheus { format, reply } => {
                let table = self.table.load();
                reply.send(prometheus::render(
                    &self.sources,
                    table.async_route_count(),
                    &table.learning_routes(),
                    format,
                ));
            }
        }
    }
}
