//! Behaviour of actors hosted on actix-rt arbiters: ask/tell, ordering, control lane, supervision.

mod support;

use std::time::Duration;

use actix_rt::{Arbiter, System};
use support::{gate, restart_now, supervisor, works, Factory, Msg, Seen, PATIENCE};
use switchyard_actors::{
    spawn_on, Actor, Addr, Context, ExitEvent, ExitReason, RestartPolicy, SpawnOptions,
};

/// Runs `test` on a plain thread that has an actix System and one extra
/// Arbiter for the actors, then stops the arbiter.
fn with_arbiter(test: impl FnOnce(&Arbiter)) {
    let _system = System::new();
    let arbiter = Arbiter::new();
    test(&arbiter);
    arbiter.stop();
    arbiter.join().expect("arbiter thread exits cleanly");
}

fn spawn(arbiter: &Arbiter, factory: &Factory, options: SpawnOptions) -> Addr<support::Recorder> {
    spawn_on(&arbiter.handle(), factory.make(), options)
}

fn log(addr: &Addr<support::Recorder>) -> Vec<Seen> {
    addr.ask_blocking(Msg::Log, PATIENCE).expect("log answered")
}

#[test]
fn ask_round_trip_async() {
    System::new().block_on(async {
        let arbiter = Arbiter::new();
        let factory = Factory::new();
        let addr = spawn(&arbiter, &factory, SpawnOptions::new("recorder"));
        addr.tell(Msg::Work(7)).expect("queued");
        let log = addr.ask(Msg::Log, PATIENCE).await.expect("answered");
        assert_eq!(log, [Seen::Work(7)]);
        arbiter.stop();
    });
}

#[test]
fn ask_round_trip_blocking() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("recorder"));
        addr.tell(Msg::Work(3)).expect("queued");
        assert_eq!(log(&addr), [Seen::Work(3)]);
    });
}

#[test]
fn thousand_tells_from_one_sender_arrive_in_order() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("recorder"));
        for n in 0..1000 {
            addr.tell(Msg::Work(n)).expect("queued");
        }
        assert_eq!(log(&addr), works(0..1000));
    });
}

#[test]
fn control_message_is_handled_before_queued_work() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("recorder"));
        let (gate, entered, open) = gate();
        addr.tell(gate).expect("queued");
        entered.recv().expect("actor entered the gate");
        for n in 0..3 {
            addr.tell(Msg::Work(n)).expect("queued");
        }
        addr.tell_control(Msg::Control(9)).expect("queued");
        open.send(()).expect("gate open");
        let mut expected = vec![Seen::Control(9)];
        expected.extend(works(0..3));
        assert_eq!(log(&addr), expected);
    });
}

#[test]
fn panic_restarts_with_fresh_state_and_keeps_queued_messages() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let (sup, events) = supervisor();
        let options = SpawnOptions::new("recorder")
            .restart(restart_now(3))
            .supervisor(sup);
        let addr = spawn(arbiter, &factory, options);
        let (gate, entered, open) = gate();
        addr.tell(gate).expect("queued");
        entered.recv().expect("actor entered the gate");
        // Queued together: the panic must not take the later ones with it.
        addr.tell(Msg::Work(10)).expect("queued");
        addr.tell(Msg::Panic).expect("queued");
        addr.tell(Msg::Work(2)).expect("queued");
        addr.tell(Msg::Work(3)).expect("queued");
        open.send(()).expect("gate open");

        assert_eq!(
            log(&addr),
            works(2..4),
            "factory state, later messages kept"
        );
        let event = events.recv_timeout(PATIENCE).expect("supervisor told");
        assert_eq!(event.actor, *addr.id());
        assert_eq!(event.reason, ExitReason::Panicked("boom".into()));
        assert_eq!(factory.built(), 2);
        assert!(addr.is_alive());
    });
}

#[test]
fn too_many_panics_give_up_and_close_the_mailbox() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let (sup, events) = supervisor();
        let options = SpawnOptions::new("recorder")
            .restart(restart_now(2))
            .supervisor(sup);
        let addr = spawn(arbiter, &factory, options);
        for _ in 0..3 {
            addr.tell(Msg::Panic).expect("queued");
        }
        let reasons: Vec<_> = (0..4)
            .map(|_| events.recv_timeout(PATIENCE).expect("event").reason)
            .collect();
        let panicked = ExitReason::Panicked("boom".into());
        assert_eq!(
            reasons,
            [
                panicked.clone(),
                panicked.clone(),
                panicked,
                ExitReason::GaveUp
            ]
        );
        assert!(!addr.is_alive(), "closed before GaveUp is reported");
        assert!(addr.tell(Msg::Work(1)).unwrap_err().is_closed());
        assert_eq!(factory.built(), 3);
        assert!(factory.stopped.try_recv().is_err(), "no stopping on panic");
    });
}

#[test]
fn ask_to_a_stopped_actor_fails_at_once() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let (sup, events) = supervisor();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("r").supervisor(sup));
        addr.tell(Msg::Stop).expect("queued");
        let event = events.recv_timeout(PATIENCE).expect("supervisor told");
        assert_eq!(event.reason, ExitReason::Stopped);
        factory
            .stopped
            .recv_timeout(PATIENCE)
            .expect("stopping ran");

        // PATIENCE is long: only a prompt error lets this pass as closed.
        let err = addr.ask_blocking(Msg::Log, PATIENCE).unwrap_err();
        assert!(err.is_closed() && !err.is_timeout(), "{err}");
        assert!(!addr.is_alive());
    });
}

#[test]
fn ask_queued_behind_a_stop_fails_when_the_actor_stops() {
    System::new().block_on(async {
        let arbiter = Arbiter::new();
        let factory = Factory::new();
        let addr = spawn(&arbiter, &factory, SpawnOptions::new("r"));
        let (gate, entered, open) = gate();
        addr.tell(gate).expect("queued");
        entered.recv_async().await.expect("actor entered the gate");
        addr.tell(Msg::Stop).expect("queued");
        // join! polls the ask first, so it is queued behind Stop before the
        // gate opens.
        let (answer, _) = tokio::join!(addr.ask(Msg::Log, PATIENCE), async {
            open.send(()).expect("gate open");
        });
        let err = answer.unwrap_err();
        assert!(err.is_closed() && !err.is_timeout(), "{err}");
        arbiter.stop();
    });
}

#[test]
fn dropping_every_addr_ends_the_actor() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let (sup, events) = supervisor();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("r").supervisor(sup));
        addr.tell(Msg::Work(1)).expect("queued");
        drop(addr);
        factory
            .stopped
            .recv_timeout(PATIENCE)
            .expect("stopping ran");
        let event = events.recv_timeout(PATIENCE).expect("supervisor told");
        assert_eq!(event.reason, ExitReason::Stopped);
    });
}

#[test]
fn full_mailbox_hands_the_message_back() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("r").capacity(2));
        let (gate, entered, open) = gate();
        addr.tell(gate).expect("queued");
        entered.recv().expect("actor entered the gate");
        addr.tell(Msg::Work(1)).expect("queued");
        addr.tell(Msg::Work(2)).expect("queued");

        let err = addr.tell(Msg::Work(3)).unwrap_err();
        assert!(err.is_full() && !err.is_closed());
        assert!(matches!(err.into_inner(), Msg::Work(3)));
        let ask = addr.ask_blocking(Msg::Log, PATIENCE).unwrap_err();
        assert!(ask.is_full(), "{ask}");

        // The lanes are bounded apart: a full work lane never blocks control.
        addr.tell_control(Msg::Control(0))
            .expect("control lane has room");
        open.send(()).expect("gate open");
    });
}

#[test]
fn ask_times_out_when_the_actor_never_replies() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("r"));
        let err = addr
            .ask_blocking(Msg::Hold, Duration::from_millis(20))
            .unwrap_err();
        assert!(err.is_timeout() && !err.is_closed(), "{err}");
    });
    System::new().block_on(async {
        let arbiter = Arbiter::new();
        let factory = Factory::new();
        let addr = spawn(&arbiter, &factory, SpawnOptions::new("r"));
        let err = addr
            .ask(Msg::Hold, Duration::from_millis(20))
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        arbiter.stop();
    });
}

#[test]
fn dropped_reply_fails_the_ask_at_once() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("r"));
        let err = addr.ask_blocking(Msg::Ignore, PATIENCE).unwrap_err();
        assert!(err.is_closed() && !err.is_timeout(), "{err}");
    });
}

#[test]
fn context_spawns_futures_on_the_actors_arbiter() {
    with_arbiter(|arbiter| {
        let factory = Factory::new();
        let addr = spawn(arbiter, &factory, SpawnOptions::new("r"));
        assert_eq!(addr.ask_blocking(Msg::Spawned, PATIENCE), Ok(5));
    });
}

/// A supervisor that is itself an actor, fed through `recipient_with`.
struct Watcher {
    seen: flume::Sender<ExitEvent>,
}

enum WatcherMsg {
    Exit(ExitEvent),
}

impl Actor for Watcher {
    type Msg = WatcherMsg;

    fn handle(&mut self, msg: WatcherMsg, _ctx: &mut Context<Self>) {
        let WatcherMsg::Exit(event) = msg;
        let _ = self.seen.send(event);
    }
}

#[test]
fn supervisor_actor_hears_exits_through_a_recipient() {
    with_arbiter(|arbiter| {
        let (seen, events) = flume::unbounded();
        let watcher = spawn_on(
            &arbiter.handle(),
            move || Watcher { seen: seen.clone() },
            SpawnOptions::new("watcher"),
        );
        let recipient = watcher.recipient_with(WatcherMsg::Exit, |WatcherMsg::Exit(e)| e);
        let factory = Factory::new();
        let options = SpawnOptions::new("worker")
            .restart(RestartPolicy::never())
            .supervisor(recipient);
        let addr = spawn(arbiter, &factory, options);
        addr.tell(Msg::Panic).expect("queued");
        let first = events.recv_timeout(PATIENCE).expect("panic reported");
        let second = events.recv_timeout(PATIENCE).expect("give-up reported");
        assert_eq!(first.actor.name(), "worker");
        assert_eq!(first.reason, ExitReason::Panicked("boom".into()));
        assert_eq!(second.reason, ExitReason::GaveUp);
    });
}
