//! Addresses: the sending handles of a mailbox (`Addr`, and the type-erased `Recipient`).

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::error::{AskError, SendError};
use crate::wake::WakeSignal;
use crate::{Actor, ActorId, Reply};

/// What every address of one actor shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The actor's identity.
    pub(crate) id: ActorId,
    /// Present when the mailbox is drained by an event loop that must be woken.
    pub(crate) signal: Option<WakeSignal>,
}

impl Shared {
    fn notify(&self) {
        if let Some(signal) = &self.signal {
            signal.notify();
        }
    }
}

/// Which lane a question goes on.
#[derive(Clone, Copy)]
enum Lane {
    Work,
    Control,
}

/// The sending half of one mailbox; all clones of an `Addr` share one.
pub(crate) struct AddrInner<M> {
    /// Lane for ordinary messages.
    work: flume::Sender<M>,
    /// Priority lane, always received before `work`.
    control: flume::Sender<M>,
    /// Declared last so it drops after both senders (fields drop in order):
    /// by the time it wakes a loop, the lanes already read as closed.
    last: LastAddr,
}

impl<M> AddrInner<M> {
    pub(crate) fn new(
        work: flume::Sender<M>,
        control: flume::Sender<M>,
        shared: Arc<Shared>,
    ) -> Self {
        AddrInner {
            work,
            control,
            last: LastAddr(shared),
        }
    }
}

/// Wakes a loop-hosted mailbox when its last address goes, so the loop sees
/// the closed lanes and ends the actor instead of sleeping forever.
struct LastAddr(Arc<Shared>);

impl Drop for LastAddr {
    fn drop(&mut self) {
        self.0.notify();
    }
}

/// The address of an actor: send it messages, or ask and await a reply.
///
/// Cheap to clone and usable from any thread. The actor ends after handling
/// what is queued once every `Addr` (and every [`Recipient`] built from one)
/// is dropped.
pub struct Addr<A: Actor> {
    /// Shared by all clones; its drop is the "no address left" signal.
    inner: Arc<AddrInner<A::Msg>>,
}

impl<A: Actor> Addr<A> {
    pub(crate) fn from_inner(inner: Arc<AddrInner<A::Msg>>) -> Self {
        Addr { inner }
    }

    pub(crate) fn downgrade(&self) -> Weak<AddrInner<A::Msg>> {
        Arc::downgrade(&self.inner)
    }

    /// The actor's identity.
    pub fn id(&self) -> &ActorId {
        &self.inner.last.0.id
    }

    /// Queues a work message without blocking. On a full mailbox or a
    /// stopped actor the message comes back inside the error.
    pub fn tell(&self, msg: A::Msg) -> Result<(), SendError<A::Msg>> {
        send(&self.inner.work, &self.inner.last.0, msg)
    }

    /// Queues a message on the control lane, which the actor reads before
    /// any queued work message. Meant for rare, urgent messages (shutdown,
    /// pause); its lane is small.
    pub fn tell_control(&self, msg: A::Msg) -> Result<(), SendError<A::Msg>> {
        send(&self.inner.control, &self.inner.last.0, msg)
    }

    /// Sends the message `make` builds around a fresh reply port and awaits
    /// the answer for at most `timeout`.
    ///
    /// Must be awaited inside a Tokio runtime with its timer enabled (any
    /// actix-rt System or Arbiter). Fails at once when the mailbox is full or
    /// the actor is gone, and as soon as the actor drops the port unanswered.
    pub async fn ask<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> A::Msg,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let rx = self.put_question(make, Lane::Work)?;
        await_reply(rx, timeout).await
    }

    /// [`ask`](Self::ask) on the control lane.
    pub async fn ask_control<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> A::Msg,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let rx = self.put_question(make, Lane::Control)?;
        await_reply(rx, timeout).await
    }

    /// The blocking twin of [`ask`](Self::ask), for plain threads. Never call
    /// it from the thread that runs the asked actor: it would wait on itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchyard_actors::{spawn_on, Actor, Context, Reply, SpawnOptions};
    ///
    /// struct Echo;
    ///
    /// impl Actor for Echo {
    ///     type Msg = (String, Reply<String>);
    ///
    ///     fn handle(&mut self, (text, reply): Self::Msg, _ctx: &mut Context<Self>) {
    ///         reply.send(text);
    ///     }
    /// }
    ///
    /// // The actor runs on an arbiter thread of its own; this thread blocks.
    /// let _system = actix_rt::System::new();
    /// let arbiter = actix_rt::Arbiter::new();
    /// let echo = spawn_on(&arbiter.handle(), || Echo, SpawnOptions::new("echo"));
    /// let answer = echo.ask_blocking(|reply| ("hi".to_owned(), reply), Duration::from_secs(1));
    /// assert_eq!(answer.unwrap(), "hi");
    ///
    /// arbiter.stop();
    /// arbiter.join().unwrap();
    /// let err = echo.ask_blocking(|reply| ("anyone?".to_owned(), reply), Duration::from_secs(1));
    /// assert!(err.unwrap_err().is_closed());
    /// ```
    pub fn ask_blocking<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> A::Msg,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let rx = self.put_question(make, Lane::Work)?;
        match rx.recv_timeout(timeout) {
            Ok(value) => Ok(value),
            Err(flume::RecvTimeoutError::Disconnected) => Err(AskError::dropped()),
            Err(flume::RecvTimeoutError::Timeout) => Err(AskError::timeout()),
        }
    }

    fn put_question<R>(
        &self,
        make: impl FnOnce(Reply<R>) -> A::Msg,
        lane: Lane,
    ) -> Result<flume::Receiver<R>, AskError> {
        let (reply, rx) = Reply::pair();
        let msg = make(reply);
        let sent = match lane {
            Lane::Work => self.tell(msg),
            Lane::Control => self.tell_control(msg),
        };
        sent.map_err(|err| AskError::from_send(&err))?;
        Ok(rx)
    }

    /// True until the actor has stopped for good (a restart does not count).
    pub fn is_alive(&self) -> bool {
        !self.inner.work.is_disconnected()
    }

    /// A recipient of this actor's own message type.
    pub fn recipient(&self) -> Recipient<A::Msg> {
        let addr = self.clone();
        Recipient::from_fn(move |msg| addr.tell(msg))
    }

    /// A recipient of one message type `M` that this actor accepts wrapped,
    /// typically as one variant of its message enum.
    ///
    /// `unwrap` is only applied to a message `wrap` just built, to hand it
    /// back inside a [`SendError`] when the send fails.
    pub fn recipient_with<M: Send + 'static>(
        &self,
        wrap: impl Fn(M) -> A::Msg + Send + Sync + 'static,
        unwrap: impl Fn(A::Msg) -> M + Send + Sync + 'static,
    ) -> Recipient<M> {
        let addr = self.clone();
        Recipient::from_fn(move |msg| addr.tell(wrap(msg)).map_err(|err| err.map(&unwrap)))
    }
}

async fn await_reply<R>(rx: flume::Receiver<R>, timeout: Duration) -> Result<R, AskError> {
    match tokio::time::timeout(timeout, rx.recv_async()).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(flume::RecvError::Disconnected)) => Err(AskError::dropped()),
        Err(_) => Err(AskError::timeout()),
    }
}

fn send<M>(lane: &flume::Sender<M>, shared: &Shared, msg: M) -> Result<(), SendError<M>> {
    lane.try_send(msg).map_err(SendError::from_flume)?;
    // Only after the message is in the queue: a wake that raced ahead of the
    // push could let the loop drain an empty lane and sleep.
    shared.notify();
    Ok(())
}

impl<A: Actor> Clone for Addr<A> {
    fn clone(&self) -> Self {
        Addr {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<A: Actor> fmt::Debug for Addr<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Addr")
            .field("id", self.id())
            .field("alive", &self.is_alive())
            .finish()
    }
}

/// Type of the function a recipient sends through.
type SendFn<M> = dyn Fn(M) -> Result<(), SendError<M>> + Send + Sync;

/// Sends one message type without naming the actor behind it.
///
/// Supervisors receive [`ExitEvent`](crate::ExitEvent)s through one. Holding
/// a recipient built from an [`Addr`] keeps that actor's mailbox open.
pub struct Recipient<M> {
    /// The erased send.
    send: Arc<SendFn<M>>,
}

impl<M: Send + 'static> Recipient<M> {
    fn from_fn(send: impl Fn(M) -> Result<(), SendError<M>> + Send + Sync + 'static) -> Self {
        Recipient {
            send: Arc::new(send),
        }
    }

    /// A recipient that feeds a plain channel, for observers that are not
    /// actors (a thread waiting for its actor to exit, a test).
    pub fn from_sender(tx: flume::Sender<M>) -> Self {
        Recipient::from_fn(move |msg| tx.try_send(msg).map_err(SendError::from_flume))
    }

    /// Queues a message without blocking, handing it back on failure.
    pub fn tell(&self, msg: M) -> Result<(), SendError<M>> {
        (self.send)(msg)
    }
}

impl<M> Clone for Recipient<M> {
    fn clone(&self) -> Self {
        Recipient {
            send: Arc::clone(&self.send),
        }
    }
}

impl<M> fmt::Debug for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient").finish_non_exhaustive()
    }
}
