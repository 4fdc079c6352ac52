//! The ring of one worker: set up in the best flags tier the kernel accepts,
//! SQEs pushed (the queue flushed early only when full), one submit-and-wait
//! per loop turn, completions copied out, and the `user_data` tags that say
//! which operation of which connection slot (and generation) completed.

use std::io;
use std::time::Duration;

use io_uring::{cqueue, squeue, types, IoUring};

/// Submission queue entries.
const SQ_ENTRIES: u32 = 1024;

/// Completion queue entries: multishot operations post many completions per
/// submission.
const CQ_ENTRIES: u32 = 16 * 1024;

/// How the ring runs the kernel's completion work, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Setup {
    /// `SINGLE_ISSUER | DEFER_TASKRUN`: completion work runs only when the
    /// loop waits (6.1+); the ring must be used by the thread that made it.
    Defer,
    /// `COOP_TASKRUN`: no interrupt of the loop to run completion work (5.19+).
    Coop,
    /// No flags, and no wait timeout: a timeout operation bounds each wait.
    Plain,
}

impl Setup {
    /// The tier below this one, if any.
    fn fallback(self) -> Option<Setup> {
        match self {
            Setup::Defer => Some(Setup::Coop),
            Setup::Coop => Some(Setup::Plain),
            Setup::Plain => None,
        }
    }

    /// The name used in logs and docs.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Setup::Defer => "single-issuer+defer-taskrun",
            Setup::Coop => "coop-taskrun",
            Setup::Plain => "plain",
        }
    }
}

/// What an operation is, in the top byte of its `user_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An accept on the listener (slot: listener generation).
    Accept,
    /// A receive on a connection.
    Recv,
    /// A send on a connection.
    Send,
    /// A cancel request (its own completion carries nothing).
    Cancel,
    /// The multishot poll on the mailbox's eventfd.
    Wake,
    /// The deadline tick.
    Tick,
}

impl Kind {
    /// The tag value.
    const fn code(self) -> u64 {
        match self {
            Kind::Accept => 1,
            Kind::Recv => 2,
            Kind::Send => 3,
            Kind::Cancel => 4,
            Kind::Wake => 5,
            Kind::Tick => 6,
        }
    }

    /// The kind of a tag value.
    fn from_code(code: u64) -> Option<Kind> {
        Some(match code {
            1 => Kind::Accept,
            2 => Kind::Recv,
            3 => Kind::Send,
            4 => Kind::Cancel,
            5 => Kind::Wake,
            6 => Kind::Tick,
            _ => return None,
        })
    }
}

/// Bits of a slot's generation kept in a tag.
pub(crate) const GEN_MASK: u32 = 0x00ff_ffff;

/// A `user_data` tag: kind (8 bits), generation (24 bits), slot (32 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    /// The operation.
    pub(crate) kind: Kind,
    /// The slot's generation when the operation was submitted.
    pub(crate) gen: u32,
    /// The connection slot (or 0).
    pub(crate) slot: u32,
}

impl Tag {
    /// A tag for `kind` on `slot` at generation `gen`.
    pub(crate) fn new(kind: Kind, gen: u32, slot: usize) -> Tag {
        Tag {
            kind,
            gen: gen & GEN_MASK,
            slot: slot as u32,
        }
    }

    /// The `user_data` value.
    pub(crate) fn encode(self) -> u64 {
        (self.kind.code() << 56) | (u64::from(self.gen & GEN_MASK) << 32) | u64::from(self.slot)
    }

    /// The tag of a `user_data` value (none for a value this ring never made).
    pub(crate) fn decode(ud: u64) -> Option<Tag> {
        Some(Tag {
            kind: Kind::from_code(ud >> 56)?,
            gen: ((ud >> 32) as u32) & GEN_MASK,
            slot: ud as u32,
        })
    }
}

/// One completion, copied out of the ring so that handling it may push.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cqe {
    /// Whose completion.
    pub(crate) tag: Tag,
    /// The result (negative: an errno).
    pub(crate) res: i32,
    /// The completion flags.
    pub(crate) flags: u32,
}

impl Cqe {
    /// Whether more completions follow for this (multishot) operation.
    pub(crate) fn more(&self) -> bool {
        cqueue::more(self.flags)
    }

    /// The provided buffer the kernel picked, if any.
    pub(crate) fn buffer(&self) -> Option<u16> {
        cqueue::buffer_select(self.flags)
    }
}

/// A worker's ring.
pub(crate) struct Ring {
    /// The ring.
    ring: IoUring,
    /// The flags tier it runs in.
    setup: Setup,
    /// Whether a wait can carry its own timeout (`IORING_FEAT_EXT_ARG`,
    /// 5.11+).
    timed_wait: bool,
}

impl Ring {
    /// A ring in the `want` tier or the best one below it the kernel accepts.
    pub(crate) fn new(want: Setup) -> io::Result<Ring> {
        let mut setup = want;
        loop {
            let mut b = IoUring::builder();
            b.setup_cqsize(CQ_ENTRIES);
            match setup {
                Setup::Defer => {
                    b.setup_single_issuer().setup_defer_taskrun();
                }
                Setup::Coop => {
                    b.setup_coop_taskrun();
                }
                Setup::Plain => {}
            }
            match b.build(SQ_ENTRIES) {
                Ok(ring) => {
                    // The plain tier keeps the oldest kernels' shape:
                    // waits bounded by a timeout operation.
                    let timed_wait = ring.params().is_feature_ext_arg() && setup != Setup::Plain;
                    return Ok(Ring {
                        ring,
                        setup,
                        timed_wait,
                    });
                }
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => match setup.fallback() {
                    Some(lower) => setup = lower,
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// The flags tier the ring runs in.
    pub(crate) fn setup(&self) -> Setup {
        self.setup
    }

    /// The ring's submitter (for registrations).
    pub(crate) fn submitter(&self) -> io_uring::Submitter<'_> {
        self.ring.submitter()
    }

    /// Queues an entry, submitting what is queued first when the queue is full.
    ///
    /// # Safety
    /// Every buffer the entry points to must stay valid, and must not be
    /// moved or reused, until the operation's terminal completion is seen.
    pub(crate) unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: the caller keeps the entry's buffers valid until its
            // terminal completion.
            let pushed = unsafe { self.ring.submission().push(entry) };
            if pushed.is_ok() {
                return Ok(());
            }
            // Full: the early flush is an enter in mid-turn; nothing handed
            // back to the kernel this turn is in use any more.
            match self.ring.submit() {
                Ok(_) => {}
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether [`submit_and_wait`](Self::submit_and_wait) honours its
    /// `limit`; without it the caller arms a timeout operation instead.
    pub(crate) fn has_timed_wait(&self) -> bool {
        self.timed_wait
    }

    /// Submits what is queued and waits for at least one completion, or
    /// `limit` at most where the kernel takes a wait timeout (the only enter
    /// of a loop turn; GETEVENTS also runs deferred work).
    ///
    /// The wait's own timeout, not a timeout operation, is what bounds a
    /// turn: it is the waiting thread's timer, so the turn ends on time even
    /// when a completion is late to be posted.
    pub(crate) fn submit_and_wait(&mut self, limit: Duration) -> io::Result<()> {
        let waited = if self.timed_wait {
            let ts = types::Timespec::from(limit);
            let args = types::SubmitArgs::new().timespec(&ts);
            self.ring.submitter().submit_with_args(1, &args)
        } else {
            self.ring.submit_and_wait(1)
        };
        match waited {
            Ok(_) => Ok(()),
            Err(e) if is_transient(&e) || e.raw_os_error() == Some(libc::ETIME) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Submits what is queued and waits for nothing.
    pub(crate) fn submit(&mut self) -> io::Result<()> {
        match self.ring.submit() {
            Ok(_) => Ok(()),
            Err(e) if is_transient(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Moves every completion into `into` (cleared first). Completions with
    /// a tag this ring never made are dropped.
    pub(crate) fn reap(&mut self, into: &mut Vec<Cqe>) {
        into.clear();
        let mut cq = self.ring.completion();
        cq.sync();
        for cqe in &mut cq {
            if let Some(tag) = Tag::decode(cqe.user_data()) {
                into.push(Cqe {
                    tag,
                    res: cqe.result(),
                    flags: cqe.flags(),
                });
            }
        }
    }
}

/// Whether an enter failure only means "try again" (a signal, or the
/// completion queue is full until the loop reaps it).
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::EAGAIN)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_keep_the_generation_bits() {
        let t = Tag::new(Kind::Send, 0x0123_4567, 42);
        let back = Tag::decode(t.encode()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.gen, 0x0023_4567);
        assert!(Tag::decode(0).is_none(), "zero is no tag");
    }
}
