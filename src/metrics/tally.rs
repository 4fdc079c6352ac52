//! `Tally`: where every driver reports its traffic — the epoll worker and a
//! std-engine worker (their own single-writer counters), a dispatch actor
//! (shared atomic counters) — so each request is counted, and its latency
//! recorded, in one place whichever driver answered it.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::counters::latency_bucket;
use super::{SharedCounters, WorkerCounters};

/// A sink for a connection's counts.
pub trait Tally {
    /// A connection started being served here.
    fn opened(&self);
    /// A connection served here closed.
    fn closed(&self);
    /// `n` bytes were read.
    fn read(&self, n: u64);
    /// `n` bytes were written.
    fn wrote(&self, n: u64);
    /// `requests` were answered, `errors` of them with a 5xx or a protocol
    /// error, in about `took` each.
    fn answered(&self, requests: u64, errors: u64, took: Duration);
    /// The task serving a connection panicked (the connection is closed
    /// too: [`Tally::closed`] is reported as well).
    fn crashed(&self);
}

/// A connection being served, counted open now and closed when this is
/// dropped: at its end, and also when the task serving it panics (then
/// counted crashed as well: the supervisor's telemetry sees every crash of
/// a connection task, without a message per connection).
pub(crate) struct Counted<'a, T: Tally + ?Sized>(&'a T);

impl<'a, T: Tally + ?Sized> Counted<'a, T> {
    /// Counts a connection open in `tally`.
    pub(crate) fn open(tally: &'a T) -> Self {
        tally.opened();
        Counted(tally)
    }
}

impl<T: Tally + ?Sized> Drop for Counted<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.crashed();
        }
        self.0.closed();
    }
}

impl Tally for SharedCounters {
    fn opened(&self) {
        self.active.fetch_add(1, Relaxed);
    }

    fn closed(&self) {
        self.active.fetch_sub(1, Relaxed);
        self.closes.fetch_add(1, Relaxed);
    }

    fn read(&self, n: u64) {
        self.bytes_in.fetch_add(n, Relaxed);
    }

    fn wrote(&self, n: u64) {
        self.bytes_out.fetch_add(n, Relaxed);
    }

    fn crashed(&self) {
        self.crashes.fetch_add(1, Relaxed);
    }

    fn answered(&self, requests: u64, errors: u64, took: Duration) {
        if requests == 0 {
            return;
        }
        self.requests.fetch_add(requests, Relaxed);
        self.errors.fetch_add(errors, Relaxed);
        self.latency[latency_bucket(took)].fetch_add(requests, Relaxed);
        self.latency_ns
            .fetch_add(nanos(took).saturating_mul(requests), Relaxed);
    }
}

/// Only the worker's own thread may report here (single-writer counters):
/// the std engine runs every task of a connection on its worker's arbiter.
impl Tally for WorkerCounters {
    fn opened(&self) {
        // Open connections are accepts minus closes; the accept counted it.
    }

    fn closed(&self) {
        self.closes.add(1);
    }

    fn read(&self, n: u64) {
        self.bytes_in.add(n);
    }

    fn wrote(&self, n: u64) {
        self.bytes_out.add(n);
    }

    fn crashed(&self) {
        self.crashes.add(1);
    }

    fn answered(&self, requests: u64, errors: u64, took: Duration) {
        if requests == 0 {
            return;
        }
        self.requests.add(requests);
        self.errors.add(errors);
        self.latency[latency_bucket(took)].add(requests);
        self.latency_ns.add(nanos(took).saturating_mul(requests));
    }
}

/// `took` in nanoseconds (saturating: 584 years fit).
#[inline]
fn nanos(took: Duration) -> u64 {
    u64::try_from(took.as_nanos()).unwrap_or(u64::MAX)
}
