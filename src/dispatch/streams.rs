//! The async stream pool: h2c streams a loop worker hands off (async
//! routes, responses it cannot send in its turn) run as local tasks on the
//! dispatch arbiters, round-robin, each arbiter with one [`H2Env`] of its
//! own for its streams.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::Shared;
use crate::conn::h2::{H2Env, H2Job, StreamRunner};
use crate::proto::h1::DateCache;
use crate::proto::h2::H2Settings;

thread_local! {
    /// This arbiter's stream environment (arbiters are threads of one pool).
    static ENV: OnceCell<Rc<H2Env>> = const { OnceCell::new() };
}

/// A runner placing jobs on `arbiters` in turn.
pub(super) fn runner(
    arbiters: Vec<actix_rt::ArbiterHandle>,
    shared: Arc<Shared>,
    settings: H2Settings,
) -> StreamRunner {
    let next = AtomicUsize::new(0);
    Arc::new(move |job: H2Job| {
        let i = next.fetch_add(1, Ordering::Relaxed) % arbiters.len();
        let shared = shared.clone();
        let placed = arbiters[i].spawn_fn(move || {
            let env = ENV.with(|e| e.get_or_init(|| env(&shared, settings)).clone());
            actix_rt::spawn(job.run(env));
        });
        if !placed {
            // Dropping the job resets its stream.
            tracing::debug!("the dispatch pool is stopped; an h2 stream is dropped");
        }
    })
}

/// The environment of an arbiter's streams.
fn env(shared: &Shared, settings: H2Settings) -> Rc<H2Env> {
    Rc::new(H2Env {
        table: shared.table.clone(),
        cfg: shared.cfg,
        settings,
        engine: shared.engine,
        tally: shared.counters.clone(),
        date: RefCell::new(DateCache::new(SystemTime::now())),
    })
}
