//! The actor kernel: typed mailboxes, tell/ask addresses, two hosts (actix-rt arbiter, event loop) and supervision.
//!
//! An [`Actor`] owns its state and handles one message at a time. Its
//! mailbox has two bounded lanes: control (read first) and work. Senders
//! hold an [`Addr`]: [`tell`](Addr::tell) never blocks and hands the message
//! back when it cannot be queued; [`ask`](Addr::ask) sends a message carrying
//! a [`Reply`] port and awaits the answer with a timeout.
//!
//! Two hosts run actors:
//! - [`spawn_on`] runs one as a task on an actix-rt Arbiter;
//! - [`LoopMailbox`] is drained by an event loop on a plain thread, which a
//!   send wakes through a [`Wake`] hook, once per burst.
//!
//! Either way a panic in `started` or `handle` is caught, reported to the
//! supervisor as an [`ExitEvent`], and answered by the [`RestartPolicy`].
//!
//! # Examples
//!
//! A counter that one side tells to add and another asks for the total:
//!
//! ```
//! use std::time::Duration;
//! use switchyard_actors::{spawn_on, Actor, Context, Reply, SpawnOptions};
//!
//! struct Counter {
//!     total: u64,
//! }
//!
//! enum CounterMsg {
//!     Add(u64),
//!     Total { reply: Reply<u64> },
//! }
//!
//! impl Actor for Counter {
//!     type Msg = CounterMsg;
//!
//!     fn handle(&mut self, msg: CounterMsg, _ctx: &mut Context<Self>) {
//!         match msg {
//!             CounterMsg::Add(n) => self.total += n,
//!             CounterMsg::Total { reply } => {
//!                 reply.send(self.total);
//!             }
//!         }
//!     }
//! }
//!
//! let system = actix_rt::System::new();
//! let total = system.block_on(async {
//!     let arbiter = actix_rt::Arbiter::current();
//!     let counter = spawn_on(&arbiter, || Counter { total: 0 }, SpawnOptions::new("counter"));
//!     counter.tell(CounterMsg::Add(2)).expect("room in the mailbox");
//!     counter.tell(CounterMsg::Add(3)).expect("room in the mailbox");
//!     counter
//!         .ask(|reply| CounterMsg::Total { reply }, Duration::from_secs(1))
//!         .await
//! });
//! assert_eq!(total.unwrap(), 5); // one sender's messages are handled in order
//! ```
//!
//! # Ordering
//! - Messages from one sender on one lane are handled in send order.
//! - A control message is handled before every work message still queued
//!   when the actor takes its next message; there is no order between lanes
//!   beyond that, nor between different senders.
//! - A message that panics is not redelivered; messages queued behind it are
//!   kept for the restarted instance.

#![deny(unsafe_code)]

mod actor;
mod addr;
mod arbiter;
mod context;
mod error;
mod host;
mod loop_host;
mod mailbox;
mod reply;
mod supervise;
mod wake;

pub use actor::{Actor, ActorId};
pub use addr::{Addr, Recipient};
pub use arbiter::spawn_on;
pub use context::Context;
pub use error::{AskError, SendError};
pub use loop_host::{Drained, LoopMailbox};
pub use mailbox::{SpawnOptions, DEFAULT_CAPACITY, DEFAULT_CONTROL_CAPACITY};
pub use reply::Reply;
pub use supervise::{ExitEvent, ExitReason, RestartPolicy, Restarts};
pub use wake::Wake;
