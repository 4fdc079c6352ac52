//! The adaptive engine on Linux: an epoll and an io_uring engine started
//! together on one [`SharedPort`] (worker `i` of either accepts on socket
//! `i`), one accepting and the other paused; a thread of its own that runs
//! the controller on every tick and performs switches.
//!
//! A switch never leaves the port without an accepting worker: the standby
//! engine is told to resume and every one of its workers acknowledges that
//! it accepts on the port's sockets (the same accept queues), only then is
//! it published as active and the old engine paused (its workers adopt
//! what the kernel already queued for them, then close their descriptors;
//! the port keeps the sockets open). Established connections finish on the
//! engine that accepted them.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use super::policy::{Decision, Policy, Reason, Sample, Thresholds};
use super::{Cmd, Handle, Status, SwitchError};
use crate::config::{AdaptiveSettings, EngineKind, Resolved};
use crate::engine::{start_on, Control, Engine, Handoff, Listen, SharedPort, Watcher};
use crate::metrics::WorkerCounters;
use crate::router::SharedTable;

/// Starts the adaptive engine: binds the shared port, starts epoll on it
/// accepting and io_uring on it paused (unless io_uring is refused here,
/// which is said once), and the switching
/// thread.
pub(crate) fn start(
    cfg: &Resolved,
    settings: AdaptiveSettings,
    table: Arc<SharedTable>,
    handoff: Handoff,
    watcher: Watcher,
) -> io::Result<Box<dyn Engine>> {
    let port = Arc::new(SharedPort::bind(cfg.addr, cfg.listen_fd, cfg.workers)?);
    let on = |accepting| Listen::Shared {
        port: port.clone(),
        accepting,
    };
    let epoll = start_on(
        EngineKind::Epoll,
        cfg,
        table.clone(),
        handoff.clone(),
        watcher.clone(),
        &on(true),
    )?;
    let (uring, uring_why) = match start_on(
        EngineKind::IoUring,
        cfg,
        table,
        handoff,
        watcher,
        &on(false),
    ) {
        Ok(e) => (Some(e), None),
        Err(e) => {
            tracing::warn!(
                "adaptive engine: io_uring is not available ({e}); it serves on epoll only"
            );
            (None, Some(e.to_string()))
        }
    };
    let blocked = uring.is_none().then_some(Reason::Unavailable);
    let epoll_counters = epoll.counters();
    let uring_counters = uring.as_ref().map_or_else(Vec::new, |u| u.counters());
    let mut counters = epoll_counters.clone();
    counters.extend(uring_counters.iter().cloned());
    let (tx, rx) = flume::unbounded();
    let handle = Handle::new(
        tx,
        Status {
            active: EngineKind::Epoll,
            switches: 0,
            last: None,
            io_uring: uring.is_some(),
        },
    );
    let engines = Arc::new(Mutex::new(Engines {
        epoll,
        uring,
        uring_why,
        active: EngineKind::Epoll,
        paused: false,
        stopping: false,
    }));
    let controller = Controller {
        engines: engines.clone(),
        policy: Policy::new(Thresholds::new(settings.up, settings.down), blocked),
        handle: handle.clone(),
        epoll_counters,
        uring_counters,
        last: None,
    };
    let switcher = std::thread::Builder::new()
        .name("switchyard-adaptive".into())
        .spawn(move || controller.run(rx))?;
    tracing::info!(
        up = settings.up,
        down = settings.down,
        automatic = blocked.is_none(),
        "adaptive engine: starts on epoll"
    );
    Ok(Box::new(AdaptiveEngine {
        addr: port.addr(),
        workers: cfg.workers,
        counters,
        port,
        engines,
        handle,
        switcher: Some(switcher),
    }))
}

/// The two engines and what was told to them.
struct Engines {
    /// Always there.
    epoll: Box<dyn Engine>,
    /// Missing where io_uring is refused.
    uring: Option<Box<dyn Engine>>,
    /// Why it is missing.
    uring_why: Option<String>,
    /// The engine whose workers accept.
    active: EngineKind,
    /// Accepting is paused (by the server): no switch until resumed.
    paused: bool,
    /// Shutdown began: no switch any more.
    stopping: bool,
}

impl Engines {
    /// The engine of `kind` (io_uring only when it exists).
    fn get(&self, kind: EngineKind) -> Option<&dyn Engine> {
        match kind {
            EngineKind::IoUring => self.uring.as_deref(),
            _ => Some(&*self.epoll),
        }
    }
}

/// Locks the engines (a poisoned lock holds nothing half-done: every
/// change is one assignment).
fn lock(engines: &Mutex<Engines>) -> MutexGuard<'_, Engines> {
    engines.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running adaptive engine.
struct AdaptiveEngine {
    /// The port's address.
    addr: SocketAddr,
    /// Workers per engine.
    workers: usize,
    /// Every worker's counters, epoll's then io_uring's.
    counters: Vec<Arc<WorkerCounters>>,
    /// The shared listening sockets.
    port: Arc<SharedPort>,
    /// The engines, shared with the switching thread.
    engines: Arc<Mutex<Engines>>,
    /// The switching thread's inbox and the status.
    handle: Handle,
    /// The switching thread (joined at the end).
    switcher: Option<JoinHandle<()>>,
}

impl Engine for AdaptiveEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Epoll
    }

    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn workers(&self) -> usize {
        self.workers
    }

    /// Pause and resume go to the active engine (the other one is paused
    /// already) and hold switching while paused; a pause also lets go of
    /// the port's own descriptors, so the sockets close with the workers'
    /// (a resume binds them afresh). Shutdown goes to both engines.
    fn control(&self, msg: &dyn Fn() -> Control) -> io::Result<()> {
        let mut e = lock(&self.engines);
        let active = e.active;
        let active = e.get(active).expect("the active engine exists");
        match msg() {
            Control::PauseAccept { .. } => {
                let told = active.control(msg);
                e.paused = true;
                self.port.close();
                told
            }
            Control::ResumeAccept { .. } => {
                let told = active.control(msg);
                e.paused = false;
                told
            }
            Control::Shutdown { .. } => {
                e.stopping = true;
                self.port.close();
                let first = e.epoll.control(msg);
                let second = e.uring.as_ref().map_or(Ok(()), |u| u.control(msg));
                first.and(second)
            }
            #[cfg(test)]
            Control::Crash => active.control(msg),
        }
    }

    fn join(mut self: Box<Self>) {
        self.handle.stop();
        if let Some(t) = self.switcher.take() {
            if t.join().is_err() {
                tracing::error!("the adaptive engine's switching thread panicked");
            }
        }
        let Some(Engines { epoll, uring, .. }) = Arc::into_inner(self.engines)
            .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        else {
            tracing::error!("the adaptive engine's engines are still shared; not joined");
            return;
        };
        epoll.join();
        if let Some(u) = uring {
            u.join();
        }
    }

    fn counters(&self) -> Vec<Arc<WorkerCounters>> {
        self.counters.clone()
    }

    fn adaptive(&self) -> Option<Handle> {
        Some(self.handle.clone())
    }
}

/// Counter totals of one engine at a tick.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    /// Requests answered.
    requests: u64,
    /// Errors.
    errors: u64,
    /// Bytes read.
    bytes_in: u64,
}

/// The switching thread's state.
struct Controller {
    /// The engines.
    engines: Arc<Mutex<Engines>>,
    /// The pure policy.
    policy: Policy,
    /// Where the status is published.
    handle: Handle,
    /// epoll's workers' counters.
    epoll_counters: Vec<Arc<WorkerCounters>>,
    /// io_uring's workers' counters (empty without io_uring).
    uring_counters: Vec<Arc<WorkerCounters>>,
    /// The previous tick's totals, and the engine they are of.
    last: Option<(EngineKind, Totals)>,
}

impl Controller {
    /// Obeys commands until told to stop.
    fn run(mut self, rx: flume::Receiver<Cmd>) {
        while let Ok(cmd) = rx.recv() {
            match cmd {
                Cmd::Tick => self.tick(Instant::now()),
                Cmd::Force(reply) => {
                    let outcome = self.switch(Instant::now(), Reason::Forced);
                    if let Err(e) = &outcome {
                        tracing::warn!(error = %e, "adaptive engine: forced switch refused");
                    }
                    reply(outcome);
                }
                Cmd::Stop => break,
            }
        }
    }

    /// One tick: sample the active engine, decide, switch if decided.
    fn tick(&mut self, now: Instant) {
        let sample = self.sample();
        let decision = self.policy.decide(&sample, now);
        tracing::debug!(?sample, ?decision, "adaptive engine: tick");
        match decision.switch_to {
            Some(to) if to != sample.active => {
                if let Err(e) = self.switch(now, decision.reason) {
                    tracing::warn!(error = %e, reason = %decision.reason, "adaptive engine: switch not made");
                }
            }
            _ => self.handle.publish(|s| s.last = Some(decision)),
        }
    }

    /// The active engine's telemetry since the previous tick.
    fn sample(&mut self) -> Sample {
        let active = self.handle.status().active;
        let counters = match active {
            EngineKind::IoUring => &self.uring_counters,
            _ => &self.epoll_counters,
        };
        let sum = |f: fn(&WorkerCounters) -> u64| counters.iter().map(|w| f(w)).sum::<u64>();
        let open = sum(|w| {
            w.accepts
                .get()
                .saturating_sub(w.closes.get() + w.promoted.get())
        });
        let now = Totals {
            requests: sum(|w| w.requests.get()),
            errors: sum(|w| w.errors.get()),
            bytes_in: sum(|w| w.bytes_in.get()),
        };
        let before = match self.last.replace((active, now)) {
            Some((kind, t)) if kind == active => t,
            // No period of this engine yet: nothing to rate.
            _ => now,
        };
        let requests = now.requests.saturating_sub(before.requests);
        let per_request = |x: u64| match requests {
            0 => 0.0,
            r => x as f64 / r as f64,
        };
        Sample {
            active,
            conns_per_worker: open as f64 / counters.len().max(1) as f64,
            bytes_in_per_request: per_request(now.bytes_in.saturating_sub(before.bytes_in)),
            error_ratio: per_request(now.errors.saturating_sub(before.errors)),
            requests,
        }
    }

    /// Moves new connections to the other engine: it accepts first, then
    /// the old one stops.
    fn switch(&mut self, now: Instant, reason: Reason) -> Result<EngineKind, SwitchError> {
        let mut e = lock(&self.engines);
        if e.paused || e.stopping {
            return Err(SwitchError::not_accepting());
        }
        if e.uring.is_none() {
            let why = e.uring_why.clone().unwrap_or_default();
            return Err(SwitchError::unavailable(why));
        }
        let from = e.active;
        let to = match from {
            EngineKind::IoUring => EngineKind::Epoll,
            _ => EngineKind::IoUring,
        };
        let both = "both engines exist";
        if let Err(err) = acked(e.get(to).expect(both), |done| Control::ResumeAccept {
            done,
        }) {
            // Back to how it was: the old engine never stopped accepting.
            let _ = acked(e.get(to).expect(both), |done| Control::PauseAccept { done });
            return Err(SwitchError::failed(format!("{to} did not accept: {err}")));
        }
        e.active = to;
        self.policy.switched(now);
        let decision = Decision {
            switch_to: Some(to),
            reason,
        };
        self.handle.publish(|s| {
            s.active = to;
            s.switches += 1;
            s.last = Some(decision);
        });
        if let Err(err) = acked(e.get(from).expect(both), |done| Control::PauseAccept {
            done,
        }) {
            // Its workers that did not answer yet stop accepting once they
            // do; what they accept meanwhile is served there.
            tracing::warn!(error = %err, engine = %from, "adaptive engine: the old engine's pause was not acknowledged in time");
        }
        tracing::info!(%from, %to, %reason, "adaptive engine: new connections switched");
        Ok(to)
    }
}

/// Tells every worker of `engine` `msg` and waits until each acknowledged
/// (at most [`ACK_TIMEOUT`](crate::engine::ACK_TIMEOUT)); answers the first
/// failure.
fn acked(engine: &dyn Engine, msg: fn(crate::engine::Ack) -> Control) -> io::Result<()> {
    crate::engine::ask_all(engine, msg)?.wait()
}
