//! A std-engine worker: the accept loop on its arbiter, its control inbox
//! (pause, resume, graceful shutdown) and the bookkeeping of its
//! connections.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::sleep_until;

use super::conn::{serve_conn, ConnEnv};
use crate::config::{EngineKind, Resolved};
use crate::conn::h2::H2Env;
use crate::engine::{sys, Control};
use crate::metrics::WorkerCounters;
use crate::proto::h1::DateCache;
use crate::router::SharedTable;

/// How long to wait before accepting again after an accept error (out of
/// descriptors, most likely).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One worker, before it runs.
pub(super) struct Worker {
    /// Index among the workers.
    pub(super) id: usize,
    /// The listen address (to re-bind on resume).
    pub(super) addr: SocketAddr,
    /// Its listener (non-blocking).
    pub(super) listener: StdListener,
    /// Control messages from the server actor.
    pub(super) control: flume::Receiver<Control>,
    /// Signalled when the worker stops.
    pub(super) done: flume::Sender<()>,
    /// Route table snapshots.
    pub(super) table: Arc<SharedTable>,
    /// The resolved configuration.
    pub(super) cfg: Resolved,
    /// This worker's counters (written only on its arbiter).
    pub(super) counters: Arc<WorkerCounters>,
}

/// Open connections of a worker; dropping one of these marks one closed.
struct Live {
    /// Count and wake-up shared by the worker and its connections.
    inner: Rc<(Cell<usize>, Notify)>,
}

impl Drop for Live {
    fn drop(&mut self) {
        let (count, notify) = &*self.inner;
        count.set(count.get() - 1);
        notify.notify_one();
    }
}

/// A running worker's state on its arbiter.
struct Running {
    /// Index among the workers.
    id: usize,
    /// The listen address (to re-bind on resume).
    addr: SocketAddr,
    /// The listener; none while paused or after shutdown.
    listener: Option<TcpListener>,
    /// What its connections share.
    env: Rc<ConnEnv>,
    /// This worker's counters.
    counters: Arc<WorkerCounters>,
    /// Tells connections to wind down (with the hard deadline).
    stop: watch::Sender<Option<Instant>>,
    /// Open connections and the wake-up when one closes.
    live: Rc<(Cell<usize>, Notify)>,
    /// Set by shutdown: when the remaining connections are dropped.
    draining: Option<Instant>,
    /// Set after an accept error: when accepting is tried again.
    retry_at: Option<Instant>,
}

impl Worker {
    /// The accept loop; ends after a shutdown once every connection closed or
    /// the deadline passed.
    pub(super) async fn run(self) {
        let listener = match TcpListener::from_std(self.listener) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(worker = self.id, error = %e, "std worker cannot use its listener");
                None
            }
        };
        let env = Rc::new(ConnEnv {
            protocol: self.cfg.protocol,
            h2: Rc::new(H2Env {
                table: self.table,
                cfg: self.cfg.conn,
                settings: self.cfg.h2,
                engine: EngineKind::Std,
                tally: self.counters.clone(),
                date: RefCell::new(DateCache::new(SystemTime::now())),
            }),
        });
        let mut w = Running {
            id: self.id,
            addr: self.addr,
            listener,
            env,
            counters: self.counters,
            stop: watch::channel(None).0,
            live: Rc::new((Cell::new(0), Notify::new())),
            draining: None,
            retry_at: None,
        };
        let control = self.control;
        loop {
            if let Some(deadline) = w.draining {
                if w.live.0.get() == 0 || Instant::now() >= deadline {
                    break;
                }
            }
            let accepting = w.listener.is_some() && w.draining.is_none() && w.retry_at.is_none();
            let retry = at(w.retry_at);
            let drained = at(w.draining);
            let live = w.live.clone();
            tokio::select! {
                accepted = accept(&w.listener), if accepting => w.on_accept(accepted),
                _ = sleep_until(retry), if w.retry_at.is_some() => w.retry_at = None,
                msg = control.recv_async(), if w.draining.is_none() => w.on_control(msg),
                _ = live.1.notified(), if w.draining.is_some() => {}
                _ = sleep_until(drained), if w.draining.is_some() => {}
            }
        }
        let _ = self.done.send(());
    }
}

impl Running {
    /// Starts serving an accepted connection, or backs off after an error.
    fn on_accept(&mut self, accepted: io::Result<(TcpStream, SocketAddr)>) {
        match accepted {
            Ok((stream, remote)) => {
                self.counters.accepts.add(1);
                let _ = stream.set_nodelay(true);
                self.live.0.set(self.live.0.get() + 1);
                let guard = Live {
                    inner: self.live.clone(),
                };
                let (env, stop) = (self.env.clone(), self.stop.subscribe());
                actix_rt::spawn(async move {
                    serve_conn(stream, remote, &env, stop).await;
                    drop(guard);
                });
            }
            Err(e) if is_transient(&e) => {}
            Err(e) => {
                if sys::is_fd_exhaustion(&e) {
                    tracing::warn!(
                        worker = self.id,
                        "out of file descriptors; accept paused briefly"
                    );
                } else {
                    tracing::warn!(worker = self.id, error = %e, "accept failed");
                }
                self.counters.errors.add(1);
                self.retry_at = Some(Instant::now() + ACCEPT_BACKOFF);
            }
        }
    }

    /// Obeys a control message (a closed inbox means the engine is gone:
    /// stop as after a shutdown with no grace).
    fn on_control(&mut self, msg: Result<Control, flume::RecvError>) {
        match msg {
            Ok(Control::PauseAccept { done }) => {
                self.close_listener();
                let _ = done.send(Ok(()));
            }
            Ok(Control::ResumeAccept { done }) => {
                let mut outcome = Ok(());
                if self.listener.is_none() && self.draining.is_none() {
                    match sys::reuseport_listener(self.addr).and_then(TcpListener::from_std) {
                        Ok(l) => self.listener = Some(l),
                        Err(e) => {
                            tracing::error!(worker = self.id, error = %e, "resume accept failed");
                            outcome = Err(e);
                        }
                    }
                }
                let _ = done.send(outcome);
            }
            Ok(Control::Shutdown { deadline }) => self.shut(deadline),
            Err(_) => self.shut(Instant::now()),
        }
    }

    /// Stops accepting: connections the kernel already completed are served
    /// like any other (not reset with their requests unread), then the
    /// listener closes.
    fn close_listener(&mut self) {
        let Some(l) = self.listener.take() else {
            return;
        };
        let l = match l.into_std() {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "closing a listener");
                return;
            }
        };
        while let Ok((stream, remote)) = l.accept() {
            let adopted = stream
                .set_nonblocking(true)
                .and_then(|()| TcpStream::from_std(stream));
            match adopted {
                Ok(stream) => self.on_accept(Ok((stream, remote))),
                Err(e) => tracing::debug!(error = %e, "a queued connection was unusable"),
            }
        }
    }

    /// Stops accepting and tells every connection to finish by `deadline`.
    fn shut(&mut self, deadline: Instant) {
        self.close_listener();
        self.draining = Some(deadline);
        self.stop.send_replace(Some(deadline));
    }
}

/// A tokio instant for an optional std one (now when none; the branch using
/// it is disabled then).
fn at(t: Option<Instant>) -> tokio::time::Instant {
    tokio::time::Instant::from_std(t.unwrap_or_else(Instant::now))
}

/// Accepts one connection (never called without a listener).
async fn accept(listener: &Option<TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Errors that concern one connection, not the listener.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
