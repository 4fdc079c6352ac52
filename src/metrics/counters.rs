//! Counters a worker owns: written by that worker alone (a plain load and
//! store, no locked instruction on the hot path), read by the metrics actor.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets; the last bucket takes
/// everything slower.
pub const LATENCY_BOUNDS: [Duration; 9] = [
    Duration::from_millis(1),
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(25),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
];

/// A counter with exactly one writer thread.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning thread may call this: a load and a store are
    /// not one atomic step, which is what keeps it cheap.
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// The current value (any thread).
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// One worker's counters.
#[derive(Debug, Default)]
pub struct WorkerCounters {
    /// Requests answered.
    pub requests: Counter,
    /// 5xx answers, protocol errors and connection errors.
    pub errors: Counter,
    /// Connections accepted.
    pub accepts: Counter,
    /// Connections closed (or handed to a dispatch actor).
    pub closes: Counter,
    /// Bytes read.
    pub bytes_in: Counter,
    /// Bytes written.
    pub bytes_out: Counter,
    /// Connections promoted to a dispatch actor.
    pub promoted: Counter,
    /// Times the worker was rebuilt after a crash.
    pub restarts: Counter,
    /// Connection tasks of this worker that panicked (std engine).
    pub crashes: Counter,
    /// Requests per latency bucket (see [`LATENCY_BOUNDS`]); written only
    /// through [`Tally::answered`](super::Tally::answered).
    pub latency: [Counter; LATENCY_BUCKETS],
    /// Sum of every answered request's latency, in nanoseconds.
    pub latency_ns: Counter,
}

/// Number of latency buckets: one per bound, and the unbounded last one.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS.len() + 1;

/// The latency bucket of a request that took `took`.
pub fn latency_bucket(took: Duration) -> usize {
    LATENCY_BOUNDS
        .iter()
        .position(|b| took <= *b)
        .unwrap_or(LATENCY_BOUNDS.len())
}

/// Counters shared by many writers (dispatch actors): atomic adds.
#[derive(Debug, Default)]
pub struct SharedCounters {
    /// Requests answered.
    pub requests: AtomicU64,
    /// 5xx answers and errors.
    pub errors: AtomicU64,
    /// Connections open.
    pub active: AtomicU64,
    /// Connections closed.
    pub closes: AtomicU64,
    /// Connection tasks that panicked.
    pub crashes: AtomicU64,
    /// Bytes read.
    pub bytes_in: AtomicU64,
    /// Bytes written.
    pub bytes_out: AtomicU64,
    /// Requests per latency bucket (see [`LATENCY_BOUNDS`]); written only
    /// through [`Tally::answered`](super::Tally::answered).
    pub latency: [AtomicU64; LATENCY_BUCKETS],
    /// Sum of every answered request's latency, in nanoseconds.
    pub latency_ns: AtomicU64,
}
