//! Metrics: per-worker counters, the snapshot the metrics actor answers with,
//! and CPU utilisation from /proc/stat.

mod counters;
mod cpu;
mod snapshot;

pub use counters::{Counter, SharedCounters, WorkerCounters, LATENCY_BOUNDS};
pub use cpu::CpuSampler;
pub use snapshot::{Snapshot, Sources};
