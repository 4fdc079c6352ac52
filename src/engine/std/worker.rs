//! A std-engine worker: the accept loop on its arbiter, its control inbox
//! (pause, resume, graceful shutdown) and the bookkeeping of its
//! connections.

use std::cell::RefCell;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener as StdListener};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::net::TcpListener;
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
    inner: Rc<(std::cell::Cell<usize>, Notify)>,
}

impl Drop for Live {
    fn drop(&mut self) {
        let (count, notify) = &*self.inner;
        count.set(count.get() - 1);
        notify.notify_one();
    }
}

impl Worker {
    /// The accept loop; ends after a shutdown once every connection closed or
    /// the deadline passed.
    pub(super) async fn run(self) {
        let Worker {
            id,
            addr,
            listener,
            control,
            done,
            table,
            cfg,
            counters,
        } = self;
        let mut listener = match TcpListener::from_std(listener) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(worker = id, error = %e, "std worker cannot use its listener");
                None
            }
        };
        let env = Rc::new(ConnEnv {
            protocol: cfg.protocol,
            h2: Rc::new(H2Env {
                table,
                cfg: cfg.conn,
                settings: cfg.h2,
                engine: EngineKind::Std,
                tally: counters.clone(),
                date: RefCell::new(DateCache::new(SystemTime::now())),
            }),
        });
        let (stop_tx, stop_rx) = watch::channel(None);
        let live = Rc::new((std::cell::Cell::new(0usize), Notify::new()));
        let mut draining: Option<Instant> = None;
        let mut retry_at: Option<Instant> = None;
        loop {
            if let Some(deadline) = draining {
                if live.0.get() == 0 || Instant::now() >= deadline {
                    break;
                }
            }
            let accepting = listener.is_some() && draining.is_none() && retry_at.is_none();
            tokio::select! {
                accepted = accept(&listener), if accepting => match accepted {
                    Ok((stream, remote)) => {
                        counters.accepts.add(1);
                        let _ = stream.set_nodelay(true);
                        live.0.set(live.0.get() + 1);
                        let guard = Live { inner: live.clone() };
                        let (env, stop) = (env.clone(), stop_rx.clone());
                        actix_rt::spawn(async move {
                            serve_conn(stream, remote, &env, stop).await;
                            drop(guard);
                        });
                    }
                    Err(e) if is_transient(&e) => {}
                    Err(e) => {
                        if sys::is_fd_exhaustion(&e) {
                            tracing::warn!(worker = id, "out of file descriptors; accept paused briefly");
                        } else {
                            tracing::warn!(worker = id, error = %e, "accept failed");
                        }
                        counters.errors.add(1);
                        retry_at = Some(Instant::now() + ACCEPT_BACKOFF);
                    }
                },
                _ = sleep_until(tokio::time::Instant::from_std(retry_at.unwrap_or_else(Instant::now))), if retry_at.is_some() => {
                    retry_at = None;
                }
                msg = control.recv_async(), if draining.is_none() => match msg {
                    Ok(Control::PauseAccept) => close_listener(&mut listener),
                    Ok(Control::ResumeAccept) => {
                        if listener.is_none() {
                            match sys::reuseport_listener(addr).and_then(TcpListener::from_std) {
                                Ok(l) => listener = Some(l),
                                Err(e) => tracing::error!(worker = id, error = %e, "resume accept failed"),
                            }
                        }
                    }
                    Ok(Control::Shutdown { deadline }) => {
                        close_listener(&mut listener);
                        draining = Some(deadline);
                        stop_tx.send_replace(Some(deadline));
                    }
                    // The engine is gone: stop as after a shutdown with no grace.
                    Err(_) => {
                        close_listener(&mut listener);
                        draining = Some(Instant::now());
                        stop_tx.send_replace(Some(Instant::now()));
                    }
                },
                _ = live.1.notified(), if draining.is_some() => {}
                _ = sleep_until(tokio::time::Instant::from_std(draining.unwrap_or_else(Instant::now))), if draining.is_some() => {}
            }
        }
        let _ = done.send(());
    }
}

/// Accepts one connection (never called without a listener).
async fn accept(listener: &Option<TcpListener>) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
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

/// Stops accepting: connections already queued are accepted and closed
/// cleanly (a FIN, not a reset), then the listener closes.
fn close_listener(listener: &mut Option<TcpListener>) {
    let Some(l) = listener.take() else {
        return;
    };
    match l.into_std() {
        Ok(l) => {
            while let Ok((stream, _)) = l.accept() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        Err(e) => tracing::debug!(error = %e, "closing a listener"),
    }
}
