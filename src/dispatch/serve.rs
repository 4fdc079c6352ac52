//! A dispatch actor's task: serves its promoted connection with the task
//! driver of `conn` until it closes.

use std::time::Instant;

use tokio::net::TcpStream;
use tokio::sync::watch;

use super::Shared;
use crate::conn::{serve_h1, Serving};
use crate::engine::faults::crashable;
use crate::engine::Promotion;
use crate::metrics::{Counted, SharedCounters};
use crate::router::Dispatch;

/// Serves a promoted connection until it closes.
pub(super) async fn serve(
    p: Promotion,
    shared: &Shared,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    let stream = match TcpStream::from_std(p.stream) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "promoted socket unusable");
            return;
        }
    };
    let tally: &SharedCounters = &shared.counters;
    let _counted = Counted::open(tally);
    let with = Serving {
        table: &shared.table,
        cfg: shared.cfg,
        engine: p.engine,
        arbiter_dispatch: Dispatch::Async,
        tally,
    };
    crashable(serve_h1(stream, p.session, p.remote, &with, &mut stop)).await;
}
