//! Actor kernel costs: `tell` and `ask` round trips on actix-rt arbiters, and wake coalescing of a loop-hosted mailbox under a burst of sends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_rt::{Arbiter, System};
use criterion::{Criterion, Throughput};
use switchyard::actors::{
    spawn_on, Actor, Addr, Context, Drained, LoopMailbox, Reply, SpawnOptions, Wake,
};

/// Long enough never to fire while the bench runs.
const PATIENCE: Duration = Duration::from_secs(10);

/// Tells sent between two ask barriers; below the default work-lane bound.
const TELL_BATCH: u64 = 256;

/// Sends in one burst to a loop-hosted mailbox.
const BURST: usize = 64;

/// Adds what it is told; answers the running sum.
struct Counter {
    /// Sum of every `Add`.
    sum: u64,
}

/// Messages of [`Counter`].
enum Msg {
    /// Adds to the sum.
    Add(u64),
    /// Asks for the sum.
    Get(Reply<u64>),
}

impl Actor for Counter {
    type Msg = Msg;

    fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) {
        match msg {
            Msg::Add(n) => self.sum += n,
            Msg::Get(reply) => {
                reply.send(self.sum);
            }
        }
    }
}

fn counter() -> Counter {
    Counter { sum: 0 }
}

/// `iters` tells in batches, each batch closed by an ask so the time covers
/// the actor handling every message.
async fn tells(addr: &Addr<Counter>, iters: u64) -> Duration {
    let start = Instant::now();
    let mut left = iters;
    while left > 0 {
        let n = left.min(TELL_BATCH);
        for _ in 0..n {
            let mut msg = Msg::Add(1);
            // A full lane hands the message back; yield until it fits.
            while let Err(e) = addr.tell(msg) {
                msg = e.into_inner();
                tokio::task::yield_now().await;
            }
        }
        addr.ask(Msg::Get, PATIENCE).await.expect("answered");
        left -= n;
    }
    start.elapsed()
}

/// `iters` asks, one at a time.
async fn asks(addr: &Addr<Counter>, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        addr.ask(Msg::Get, PATIENCE).await.expect("answered");
    }
    start.elapsed()
}

fn arbiter(c: &mut Criterion) {
    let sys = System::new();
    let other = Arbiter::new();
    let remote = spawn_on(&other.handle(), counter, SpawnOptions::new("remote"));
    let local =
        sys.block_on(async { spawn_on(&Arbiter::current(), counter, SpawnOptions::new("local")) });
    let mut group = c.benchmark_group("actors/arbiter");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ask_other_thread", |b| {
        b.iter_custom(|iters| sys.block_on(asks(&remote, iters)))
    });
    group.bench_function("ask_same_arbiter", |b| {
        b.iter_custom(|iters| sys.block_on(asks(&local, iters)))
    });
    group.bench_function("tell_other_thread", |b| {
        b.iter_custom(|iters| sys.block_on(tells(&remote, iters)))
    });
    group.bench_function("tell_same_arbiter", |b| {
        b.iter_custom(|iters| sys.block_on(tells(&local, iters)))
    });
    group.bench_function("ask_blocking_other_thread", |b| {
        b.iter(|| remote.ask_blocking(Msg::Get, PATIENCE).expect("answered"))
    });
    group.finish();
    drop((remote, local));
    other.stop();
    other.join().expect("arbiter thread exits");
}

/// Counts wake-ups, as an event loop's notify would be counted.
#[derive(Default)]
struct CountingWake(AtomicUsize);

impl Wake for CountingWake {
    fn wake(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// One burst of `n` tells, then one drain, as the owning loop would do.
fn burst(mailbox: &mut LoopMailbox<Counter>, addr: &Addr<Counter>, n: usize) {
    for _ in 0..n {
        if addr.tell(Msg::Add(1)).is_err() {
            panic!("mailbox full or closed");
        }
    }
    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
}

fn wake_coalescing(c: &mut Criterion) {
    let wakes = Arc::new(CountingWake::default());
    let (mut mailbox, addr) = LoopMailbox::new(counter, wakes.clone(), SpawnOptions::new("loop"));
    let mut group = c.benchmark_group("actors/loop_mailbox");
    for n in [1, BURST] {
        let before = wakes.0.load(Ordering::Relaxed);
        burst(&mut mailbox, &addr, n);
        assert_eq!(
            wakes.0.load(Ordering::Relaxed) - before,
            1,
            "a burst of {n} sends wakes the loop once"
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("burst_{n}_then_drain"), |b| {
            b.iter(|| burst(&mut mailbox, &addr, n))
        });
    }
    group.finish();
    let sent: u64 = mailbox.with_actor(|a, _| a.sum).expect("actor live");
    let woken = wakes.0.load(Ordering::Relaxed);
    println!(
        "wake coalescing: {sent} messages woke the loop {woken} times ({:.1} messages per wake)",
        sent as f64 / woken.max(1) as f64
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    arbiter(&mut c);
    wake_coalescing(&mut c);
    c.final_summary();
}
