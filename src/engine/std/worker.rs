//! A std-engine worker: the accept loop on its arbiter, its control inbox
//! (pause, resume, graceful shutdown) and the bookkeeping of its
//! connections.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use switchyard_actors::{ActorId, ExitEvent, ExitReason, RestartPolicy, Restarts};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::sleep_until;

use super::conn::{serve_conn, ConnEnv};
use crate::config::{EngineKind, Resolved};
use crate::conn::h2::H2Env;
use crate::engine::control::{obey, Accepting, Record};
use crate::engine::{faults, sys, Control, Watcher};
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
    /// Told of the accept loop's crashes, and when it is given up.
    pub(super) watcher: Watcher,
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

/// What outlives one instance of a worker's accept loop (an instance that
/// panics is rebuilt over it): what its connections share, their count and
/// the stop signal they watch, and what control told the worker.
#[derive(Clone)]
struct Lasting {
    /// What its connections share.
    env: Rc<ConnEnv>,
    /// Tells connections to wind down (with the hard deadline).
    stop: Rc<watch::Sender<Option<Instant>>>,
    /// Open connections and the wake-up when one closes.
    live: Rc<(Cell<usize>, Notify)>,
    /// Pause and drain, for a rebuilt instance.
    told: Record,
}

/// One instance of a worker's accept loop on its arbiter.
struct Running {
    /// Index among the workers.
    id: usize,
    /// The listen address (to re-bind on resume).
    addr: SocketAddr,
    /// The listener; none while paused or after shutdown.
    listener: Option<TcpListener>,
    /// This worker's counters.
    counters: Arc<WorkerCounters>,
    /// What outlives this instance.
    lasting: Lasting,
    /// Set by shutdown: when the remaining connections are dropped.
    draining: Option<Instant>,
    /// Set after an accept error: when accepting is tried again.
    retry_at: Option<Instant>,
}

impl Worker {
    /// Runs the accept loop, rebuilding it by the restart policy when it
    /// panics (its connections are tasks of their own and keep going); ends
    /// after a shutdown once every connection closed or the deadline passed,
    /// or when the policy gives up.
    pub(super) async fn run(self) {
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
            #[cfg(feature = "tls")]
            tls: self
                .cfg
                .tls
                .as_ref()
                .map(|t| tokio_rustls::TlsAcceptor::from(t.server())),
        });
        let lasting = Lasting {
            env,
            stop: Rc::new(watch::channel(None).0),
            live: Rc::new((Cell::new(0), Notify::new())),
            told: Record::default(),
        };
        let mut listener = Some(self.listener);
        let mut restarts = Restarts::new(RestartPolicy::default());
        let me = ActorId::new(&format!("std-worker-{}", self.id));
        let report = |reason| {
            let _ = self.watcher.tell(ExitEvent {
                actor: me.clone(),
                reason,
            });
        };
        loop {
            let running = Running::new(
                self.id,
                self.addr,
                listener.take(),
                self.counters.clone(),
                lasting.clone(),
            );
            match actix_rt::spawn(running.run(self.control.clone())).await {
                Err(e) if e.is_panic() => {
                    report(ExitReason::Panicked(panic_message(e.into_panic())));
                    let Some(delay) = restarts.after_panic(Instant::now()) else {
                        tracing::error!(worker = self.id, "std worker keeps crashing; given up");
                        report(ExitReason::GaveUp);
                        break;
                    };
                    tokio::time::sleep(delay).await;
                    listener =
                        lasting
                            .told
                            .listener_after_crash(self.id, self.addr, &self.counters);
                }
                _ => break,
            }
        }
        let _ = self.done.send(());
    }
}

impl Running {
    /// An instance on `listener` (none while paused or draining), draining
    /// already if shutdown began before it was built.
    fn new(
        id: usize,
        addr: SocketAddr,
        listener: Option<StdListener>,
        counters: Arc<WorkerCounters>,
        lasting: Lasting,
    ) -> Self {
        if let Some(l) = &listener {
            lasting.told.keep_listener(l);
        }
        let listener = listener.and_then(|l| match TcpListener::from_std(l) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(worker = id, error = %e, "std worker cannot use its listener");
                counters.errors.add(1);
                None
            }
        });
        Running {
            id,
            addr,
            listener,
            counters,
            draining: lasting.told.get().draining_until,
            lasting,
            retry_at: None,
        }
    }

    /// The accept loop: accepts, obeys control, and ends once a drain is
    /// over (no connection left, or its deadline passed).
    async fn run(mut self, control: flume::Receiver<Control>) {
        loop {
            if let Some(deadline) = self.draining {
                if self.lasting.live.0.get() == 0 || Instant::now() >= deadline {
                    break;
                }
            }
            let accepting =
                self.listener.is_some() && self.draining.is_none() && self.retry_at.is_none();
            let retry = at(self.retry_at);
            let drained = at(self.draining);
            let live = self.lasting.live.clone();
            tokio::select! {
                accepted = accept(&self.listener), if accepting => self.on_accept(accepted),
                _ = sleep_until(retry), if self.retry_at.is_some() => self.retry_at = None,
                msg = control.recv_async(), if self.draining.is_none() => {
                    // A closed inbox means the engine is gone: stop as after
                    // a shutdown with no grace.
                    let msg = msg.unwrap_or(Control::Shutdown { deadline: Instant::now() });
                    let told = self.lasting.told.clone();
                    obey(&mut self, &told, msg);
                }
                () = faults::crash_wanted() => {
                    panic!("worker {}: crash asked for by a fault route", self.id);
                }
                _ = live.1.notified(), if self.draining.is_some() => {}
                _ = sleep_until(drained), if self.draining.is_some() => {}
            }
        }
    }

    /// Starts serving an accepted connection, or backs off after an error.
    fn on_accept(&mut self, accepted: io::Result<(TcpStream, SocketAddr)>) {
        match accepted {
            Ok((stream, remote)) => {
                self.counters.accepts.add(1);
                let _ = stream.set_nodelay(true);
                let live = &self.lasting.live;
                live.0.set(live.0.get() + 1);
                let guard = Live {
                    inner: live.clone(),
                };
                let (env, stop) = (self.lasting.env.clone(), self.lasting.stop.subscribe());
                actix_rt::spawn(async move {
                    faults::crashable(serve_conn(stream, remote, &env, stop)).await;
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
}

impl Accepting for Running {
    fn id(&self) -> usize {
        self.id
    }

    fn is_listening(&self) -> bool {
        self.listener.is_some()
    }

    fn close_listener(&mut self) {
        let Some(l) = self.listener.take() else {
            return;
        };
        self.lasting.told.forget_listener();
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

    fn open_listener(&mut self) -> io::Result<()> {
        let l = sys::reuseport_listener(self.addr)?;
        self.lasting.told.keep_listener(&l);
        self.listener = Some(TcpListener::from_std(l)?);
        Ok(())
    }

    fn drain(&mut self, deadline: Instant) {
        self.draining = Some(deadline);
        self.lasting.stop.send_replace(Some(deadline));
    }
}

/// The text of a panic's payload.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload.downcast_ref::<&str>().map_or_else(
            || "a panic without a message".to_owned(),
            |s| (*s).to_owned(),
        ),
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
