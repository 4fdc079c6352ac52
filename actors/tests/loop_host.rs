//! Behaviour of loop-hosted mailboxes: wake coalescing, draining, supervision off any runtime.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use support::{restart_now, supervisor, works, Factory, Msg, Recorder, Seen, PATIENCE};
use switchyard_actors::{Addr, Drained, ExitReason, LoopMailbox, RestartPolicy, SpawnOptions};

/// Counts wake-ups.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wakes {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl switchyard_actors::Wake for Wakes {
    fn wake(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn mailbox(
    factory: &Factory,
    options: SpawnOptions,
) -> (LoopMailbox<Recorder>, Addr<Recorder>, Arc<Wakes>) {
    let wakes = Arc::new(Wakes::default());
    let (mailbox, addr) = LoopMailbox::new(factory.make(), wakes.clone(), options);
    (mailbox, addr, wakes)
}

/// The live instance's log, read between drains as an event loop would.
fn log(mailbox: &mut LoopMailbox<Recorder>) -> Vec<Seen> {
    mailbox
        .with_actor(|actor, _| actor.seen().to_vec())
        .expect("actor live")
}

#[test]
fn burst_of_sends_wakes_the_loop_once() {
    let factory = Factory::new();
    let (mut mailbox, addr, wakes) = mailbox(&factory, SpawnOptions::new("loop"));
    for n in 0..100 {
        addr.tell(Msg::Work(n)).expect("queued");
    }
    assert_eq!(wakes.count(), 1, "one wake for the whole burst");

    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
    assert_eq!(log(&mut mailbox), works(0..100));
    assert_eq!(wakes.count(), 1, "draining does not wake");

    addr.tell(Msg::Work(100)).expect("queued");
    assert_eq!(wakes.count(), 2, "a send after the drain wakes again");
    addr.tell_control(Msg::Control(0)).expect("queued");
    assert_eq!(wakes.count(), 2, "control shares the coalescing flag");
}

#[test]
fn control_is_drained_before_queued_work() {
    let factory = Factory::new();
    let (mut mailbox, addr, _) = mailbox(&factory, SpawnOptions::new("loop"));
    for n in 0..3 {
        addr.tell(Msg::Work(n)).expect("queued");
    }
    addr.tell_control(Msg::Control(9)).expect("queued");
    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
    let mut expected = vec![Seen::Control(9)];
    expected.extend(works(0..3));
    assert_eq!(log(&mut mailbox), expected);
}

#[test]
fn spent_budget_leaves_the_loop_woken_for_the_rest() {
    let factory = Factory::new();
    let (mut mailbox, addr, wakes) = mailbox(&factory, SpawnOptions::new("loop"));
    for n in 0..10 {
        addr.tell(Msg::Work(n)).expect("queued");
    }
    assert_eq!(mailbox.drain(4), Drained::More);
    assert_eq!(log(&mut mailbox), works(0..4));
    assert_eq!(wakes.count(), 2, "the drain re-raised the wake");
    assert_eq!(mailbox.drain(100), Drained::Idle);
    assert_eq!(log(&mut mailbox), works(0..10));
}

#[test]
fn full_mailbox_hands_the_message_back_and_loses_nothing() {
    let factory = Factory::new();
    let (mut mailbox, addr, _) = mailbox(&factory, SpawnOptions::new("loop").capacity(2));
    addr.tell(Msg::Work(0)).expect("queued");
    addr.tell(Msg::Work(1)).expect("queued");
    let err = addr.tell(Msg::Work(2)).unwrap_err();
    assert!(err.is_full() && !err.is_closed(), "{err}");
    let Msg::Work(2) = err.into_inner() else {
        panic!("a different message came back");
    };
    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
    addr.tell(Msg::Work(2)).expect("room again");
    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
    assert_eq!(log(&mut mailbox), works(0..3));
}

#[test]
fn panic_in_handle_restarts_and_keeps_later_messages() {
    let factory = Factory::new();
    let (sup, events) = supervisor();
    let options = SpawnOptions::new("loop")
        .restart(restart_now(3))
        .supervisor(sup);
    let (mut mailbox, addr, _) = mailbox(&factory, options);
    addr.tell(Msg::Work(1)).expect("queued");
    addr.tell(Msg::Panic).expect("queued");
    addr.tell(Msg::Work(2)).expect("queued");
    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
    assert_eq!(log(&mut mailbox), [Seen::Work(2)]);
    let event = events.try_recv().expect("supervisor told");
    assert_eq!(event.reason, ExitReason::Panicked("boom".into()));
    assert_eq!(factory.built(), 2);
}

#[test]
fn panic_in_with_actor_is_supervised_too() {
    let factory = Factory::new();
    let (sup, events) = supervisor();
    let options = SpawnOptions::new("loop")
        .restart(restart_now(3))
        .supervisor(sup);
    let (mut mailbox, _addr, _) = mailbox(&factory, options);
    let outcome = mailbox.with_actor(|_, _| -> () { panic!("io went wrong") });
    assert_eq!(outcome, None);
    let event = events.try_recv().expect("supervisor told");
    assert_eq!(event.reason, ExitReason::Panicked("io went wrong".into()));
    assert_eq!(log(&mut mailbox), [], "a fresh instance");
}

#[test]
fn backoff_is_reported_as_a_deadline_not_slept() {
    let factory = Factory::new();
    let policy = RestartPolicy {
        backoff: PATIENCE,
        max_backoff: PATIENCE,
        ..RestartPolicy::default()
    };
    let (mut mailbox, addr, _) = mailbox(&factory, SpawnOptions::new("loop").restart(policy));
    addr.tell(Msg::Panic).expect("queued");
    addr.tell(Msg::Work(1)).expect("queued");
    let before = Instant::now();
    let Drained::Backoff(until) = mailbox.drain(usize::MAX) else {
        panic!("expected a backoff");
    };
    assert!(until > before + PATIENCE / 2);
    assert_eq!(
        mailbox.with_actor(|_, _| ()),
        None,
        "no instance while backing off"
    );
    assert!(addr.is_alive(), "the mailbox outlives the instance");
}

#[test]
fn giving_up_closes_the_mailbox() {
    let factory = Factory::new();
    let (sup, events) = supervisor();
    let options = SpawnOptions::new("loop")
        .restart(RestartPolicy::never())
        .supervisor(sup);
    let (mut mailbox, addr, _) = mailbox(&factory, options);
    addr.tell(Msg::Panic).expect("queued");
    assert_eq!(mailbox.drain(usize::MAX), Drained::Stopped);
    let reasons: Vec<_> = events.try_iter().map(|e| e.reason).collect();
    assert_eq!(
        reasons,
        [ExitReason::Panicked("boom".into()), ExitReason::GaveUp]
    );
    assert!(mailbox.is_stopped());
    assert!(!addr.is_alive());
    assert!(addr.tell(Msg::Work(0)).unwrap_err().is_closed());
}

#[test]
fn dropping_the_last_addr_wakes_the_loop_to_stop() {
    let factory = Factory::new();
    let (sup, events) = supervisor();
    let (mut mailbox, addr, wakes) = mailbox(&factory, SpawnOptions::new("loop").supervisor(sup));
    assert_eq!(mailbox.drain(usize::MAX), Drained::Idle);
    let second = addr.clone();
    drop(addr);
    assert_eq!(wakes.count(), 0, "another address is still held");
    drop(second);
    assert_eq!(wakes.count(), 1);
    assert_eq!(mailbox.drain(usize::MAX), Drained::Stopped);
    factory.stopped.try_recv().expect("stopping ran");
    assert_eq!(events.try_recv().map(|e| e.reason), Ok(ExitReason::Stopped));
}

#[test]
fn stop_inside_with_actor_ends_the_actor_and_fails_asks() {
    let factory = Factory::new();
    let (mut mailbox, addr, _) = mailbox(&factory, SpawnOptions::new("loop"));
    mailbox.with_actor(|_, ctx| ctx.stop()).expect("actor live");
    assert!(mailbox.is_stopped());
    factory.stopped.try_recv().expect("stopping ran");
    let err = addr.ask_blocking(Msg::Log, PATIENCE).unwrap_err();
    assert!(err.is_closed() && !err.is_timeout(), "{err}");
}

/// Wakes by sending a token to the loop thread, like an eventfd write.
struct ChannelWake(flume::Sender<()>);

impl switchyard_actors::Wake for ChannelWake {
    fn wake(&self) {
        let _ = self.0.send(());
    }
}

#[test]
fn concurrent_senders_never_lose_a_wake() {
    const SENDERS: u32 = 4;
    const EACH: u32 = 5_000;
    let factory = Factory::new();
    let (wake, woken) = flume::unbounded();
    let (mut mailbox, addr) = LoopMailbox::new(
        factory.make(),
        Arc::new(ChannelWake(wake)),
        SpawnOptions::new("loop").capacity(64),
    );
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                for n in 0..EACH {
                    let mut msg = Msg::Work(s * EACH + n);
                    // Backpressure: a full lane hands the message back to retry.
                    while let Err(err) = addr.tell(msg) {
                        assert!(err.is_full());
                        msg = err.into_inner();
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let total = (SENDERS * EACH) as usize;
    // The loop sleeps on its wake channel only; a lost wake hangs it until
    // PATIENCE runs out and the test fails.
    while log(&mut mailbox).len() < total {
        woken
            .recv_timeout(PATIENCE)
            .expect("woken for every message");
        assert_ne!(mailbox.drain(16), Drained::Stopped, "an address is held");
    }
    for sender in senders {
        sender.join().expect("sender ran");
    }
    let seen = log(&mut mailbox);
    for s in 0..SENDERS {
        let from_s: Vec<_> = seen
            .iter()
            .filter(|seen| matches!(seen, Seen::Work(n) if n / EACH == s))
            .cloned()
            .collect();
        assert_eq!(
            from_s,
            works(s * EACH..(s + 1) * EACH),
            "sender {s} in order"
        );
    }
    drop(addr);
}
