//! A recording test actor and helpers shared by the host test suites.

// Each suite uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_actors::{Actor, Context, ExitEvent, Recipient, Reply, RestartPolicy};

/// Long enough never to fire in a passing test; a failing one fails on it
/// instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// What the recorder saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Work(u32),
    Control(u32),
}

/// Messages of the recording actor.
pub enum Msg {
    Work(u32),
    Control(u32),
    /// Tells `entered`, then blocks the actor until `open` yields or closes.
    Gate {
        entered: flume::Sender<()>,
        open: flume::Receiver<()>,
    },
    Log(Reply<Vec<Seen>>),
    Panic,
    /// Keeps the reply port without answering.
    Hold(Reply<u32>),
    /// Drops the reply port without answering.
    Ignore(Reply<u32>),
    /// Answers from a future spawned on the actor's arbiter.
    Spawned(Reply<u32>),
    Stop,
}

/// Records what it handles; a fresh instance starts with an empty log.
pub struct Recorder {
    log: Vec<Seen>,
    held: Vec<Reply<u32>>,
    /// Told when `stopping` runs.
    stopped: flume::Sender<()>,
}

impl Recorder {
    /// What this instance has handled so far.
    pub fn seen(&self) -> &[Seen] {
        &self.log
    }
}

impl Actor for Recorder {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) {
        match msg {
            Msg::Work(n) => self.log.push(Seen::Work(n)),
            Msg::Control(n) => self.log.push(Seen::Control(n)),
            Msg::Gate { entered, open } => {
                let _ = entered.send(());
                let _ = open.recv();
            }
            Msg::Log(reply) => {
                reply.send(self.log.clone());
            }
            Msg::Panic => panic!("boom"),
            Msg::Hold(reply) => self.held.push(reply),
            Msg::Ignore(reply) => drop(reply),
            Msg::Spawned(reply) => {
                let spawned = ctx.spawn(async move {
                    reply.send(5);
                });
                assert!(spawned.is_some(), "arbiter host offers spawn");
            }
            Msg::Stop => ctx.stop(),
        }
    }

    fn stopping(&mut self) {
        let _ = self.stopped.send(());
    }
}

/// Builds recorders, counting how many it built.
pub struct Factory {
    pub built: Arc<AtomicUsize>,
    pub stopped: flume::Receiver<()>,
    stopped_tx: flume::Sender<()>,
}

impl Factory {
    pub fn new() -> Self {
        let (stopped_tx, stopped) = flume::unbounded();
        Factory {
            built: Arc::new(AtomicUsize::new(0)),
            stopped,
            stopped_tx,
        }
    }

    pub fn make(&self) -> impl FnMut() -> Recorder + Send + 'static {
        let built = Arc::clone(&self.built);
        let stopped = self.stopped_tx.clone();
        move || {
            built.fetch_add(1, Ordering::SeqCst);
            Recorder {
                log: Vec::new(),
                held: Vec::new(),
                stopped: stopped.clone(),
            }
        }
    }

    pub fn built(&self) -> usize {
        self.built.load(Ordering::SeqCst)
    }
}

/// A supervisor that is a plain channel.
pub fn supervisor() -> (Recipient<ExitEvent>, flume::Receiver<ExitEvent>) {
    let (tx, rx) = flume::unbounded();
    (Recipient::from_sender(tx), rx)
}

/// Restarts at once, up to `max` times a minute.
pub fn restart_now(max: u32) -> RestartPolicy {
    RestartPolicy {
        max_restarts: max,
        within: Duration::from_secs(60),
        backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    }
}

/// A gate message and the handles to see it entered and to open it.
pub fn gate() -> (Msg, flume::Receiver<()>, flume::Sender<()>) {
    let (entered_tx, entered) = flume::unbounded();
    let (open, open_rx) = flume::unbounded();
    let msg = Msg::Gate {
        entered: entered_tx,
        open: open_rx,
    };
    (msg, entered, open)
}

pub fn works(range: std::ops::Range<u32>) -> Vec<Seen> {
    range.map(Seen::Work).collect()
}
