//! Metrics: per-worker counters, the sink connection tasks report to, the snapshot the metrics actor answers with,
//! and CPU utilisation from /proc/stat.

mod counters;
mod cpu;
pub mod prometheus;
mod snapshot;
mod tally;

pub use counters::{Counter, SharedCounters, WorkerCounters, LATENCY_BOUNDS};
pub use cpu::CpuSampler;
pub use snapshot::{AdaptiveMetrics, Rates, Snapshot, Sources};
pub(crate) use tally::Counted;
pub use tally::Tally;
