//! What this kernel's io_uring can do, probed once at start, tier by tier:
//! whether a ring can be set up at all (and if not, one line naming why),
//! the best flags tier, and whether multishot receives from a provided-
//! buffer ring work (multishot accept is older than multishot receive, so
//! one proves the other). `SWITCHYARD_IOURING` forces lower tiers or a
//! refusal, so every tier and the refusal are testable on a kernel that has
//! everything.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use io_uring::{opcode, types};

use super::bufs::{BufRing, GROUP};
use super::ring::{Cqe, Kind, Ring, Setup, Tag};

/// The environment variable that forces tiers down: a comma-separated list
/// of `refuse` (io_uring is refused as if the kernel did), `base`
/// (single-shot accept and receive into per-connection buffers), `coop`
/// (no `DEFER_TASKRUN`), `plain` (no setup flags, and waits bounded by a
/// timeout operation instead of their own timeout) and `few-buffers` (8
/// provided buffers per worker instead of 512, so that receives run out of
/// them and are re-armed).
pub const FORCE_VAR: &str = "SWITCHYARD_IOURING";

/// Provided buffers per worker.
const RING_BUFS: u16 = 512;

/// Provided buffers per worker when `few-buffers` is forced.
const FEW_BUFFERS: u16 = 8;

/// How long a probe waits for a completion per try.
const PROBE_WAIT: Duration = Duration::from_millis(100);

/// What the workers' rings use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Caps {
    /// The flags tier.
    pub(crate) setup: Setup,
    /// Multishot accept, and multishot receive from a provided-buffer ring;
    /// otherwise single-shot accept and receive into each connection's own
    /// buffer (the base tier).
    pub(crate) multishot: bool,
    /// Provided buffers per worker (a power of two).
    pub(crate) ring_bufs: u16,
}

impl Caps {
    /// The tiers in words, for the start-up log.
    pub(crate) fn describe(&self) -> String {
        let recv = if self.multishot {
            "multishot accept and receive on a provided-buffer ring"
        } else {
            "single-shot accept and receive (base tier)"
        };
        format!("{recv}; ring setup {}", self.setup.as_str())
    }
}

/// What was forced through [`FORCE_VAR`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Forced {
    /// Refuse io_uring.
    refuse: bool,
    /// Base tier only.
    base: bool,
    /// The best flags tier allowed.
    setup: Option<Setup>,
    /// Few provided buffers.
    few_buffers: bool,
}

/// Parses [`FORCE_VAR`]; unknown words are an error (a typo must not test
/// the wrong tier silently).
fn forced(value: Option<&str>) -> Result<Forced, String> {
    let mut f = Forced::default();
    for word in value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        match word {
            "refuse" => f.refuse = true,
            "base" => f.base = true,
            "coop" => f.setup = Some(Setup::Coop),
            "plain" => f.setup = Some(Setup::Plain),
            "few-buffers" => f.few_buffers = true,
            other => {
                return Err(format!(
                    "{FORCE_VAR}={other:?} is not understood (expected refuse, base, coop, plain, few-buffers)"
                ))
            }
        }
    }
    Ok(f)
}

/// Probes the kernel, honouring [`FORCE_VAR`]; the error is one line
/// saying why io_uring cannot run here.
pub(crate) fn probe() -> Result<Caps, String> {
    let var = std::env::var(FORCE_VAR).ok();
    let forced = forced(var.as_deref())?;
    if forced.refuse {
        return Err(format!(
            "io_uring refused because {FORCE_VAR} contains \"refuse\""
        ));
    }
    let ring = Ring::new(forced.setup.unwrap_or(Setup::Defer)).map_err(|e| why_refused(&e))?;
    let setup = ring.setup();
    let multishot = !forced.base && multishot_recv_works(ring);
    let ring_bufs = if forced.few_buffers {
        FEW_BUFFERS
    } else {
        RING_BUFS
    };
    Ok(Caps {
        setup,
        multishot,
        ring_bufs,
    })
}

/// One line naming the cause of a failed ring setup.
pub(crate) fn why_refused(e: &io::Error) -> String {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .map(|s| s.trim().to_owned());
    match e.raw_os_error() {
        Some(libc::ENOSYS) => format!(
            "io_uring_setup is not implemented here ({e}): the kernel lacks io_uring, or a \
             seccomp filter blocks it"
        ),
        Some(libc::EPERM) | Some(libc::EACCES) => match disabled.as_deref() {
            Some(v) if v != "0" => {
                format!("io_uring_setup was refused ({e}): kernel.io_uring_disabled = {v}")
            }
            _ => format!(
                "io_uring_setup was refused ({e}): a seccomp filter or a security module blocks it"
            ),
        },
        Some(libc::ENOMEM) => format!(
            "io_uring_setup could not lock memory for the ring ({e}): RLIMIT_MEMLOCK is too small \
             (raise it with `ulimit -l`)"
        ),
        _ => format!("io_uring_setup failed: {e}"),
    }
}

/// Whether a multishot receive from a provided-buffer ring delivers bytes
/// and stays armed: tried on a socket pair, then cancelled and reaped.
fn multishot_recv_works(mut ring: Ring) -> bool {
    let Ok(mut bufs) = BufRing::new(&ring, 1, 64) else {
        return false;
    };
    let works = (|| {
        let (mut a, b) = UnixStream::pair().ok()?;
        a.write_all(b"x").ok()?;
        let tag = Tag::new(Kind::Recv, 0, 0);
        let recv = opcode::RecvMulti::new(types::Fd(b.as_raw_fd()), GROUP)
            .build()
            .user_data(tag.encode());
        // SAFETY: the receive writes only into the provided-buffer ring,
        // which outlives it: it is cancelled and reaped below, before
        // `bufs` is unregistered.
        unsafe { ring.push(&recv) }.ok()?;
        let first = wait_one(&mut ring)?;
        let ok = first.res == 1 && first.more() && first.buffer().is_some();
        if first.more() {
            let cancel = opcode::AsyncCancel::new(tag.encode())
                .build()
                .user_data(Tag::new(Kind::Cancel, 0, 0).encode());
            // SAFETY: a cancel points at no memory.
            unsafe { ring.push(&cancel) }.ok()?;
            // Reap until the receive's terminal completion.
            loop {
                let c = wait_one_of(&mut ring, Kind::Recv)?;
                if !c.more() {
                    break;
                }
            }
        }
        Some(ok)
    })();
    let unregistered = bufs.unregister(&ring);
    works == Some(true) && unregistered
}

/// Submits and waits for the next completion.
fn wait_one(ring: &mut Ring) -> Option<Cqe> {
    let mut got = Vec::new();
    for _ in 0..100 {
        ring.submit_and_wait(PROBE_WAIT).ok()?;
        ring.reap(&mut got);
        if let Some(c) = got.first() {
            return Some(*c);
        }
    }
    None
}

/// Submits and waits for the next completion of `kind`.
fn wait_one_of(ring: &mut Ring, kind: Kind) -> Option<Cqe> {
    let mut got = Vec::new();
    for _ in 0..100 {
        ring.submit_and_wait(PROBE_WAIT).ok()?;
        ring.reap(&mut got);
        if let Some(c) = got.iter().find(|c| c.tag.kind == kind) {
            return Some(*c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forcing_words_parse_and_typos_are_refused() {
        assert_eq!(forced(None), Ok(Forced::default()));
        let f = forced(Some("base, coop")).unwrap();
        assert!(f.base && !f.refuse);
        assert_eq!(f.setup, Some(Setup::Coop));
        assert!(forced(Some("refuse")).unwrap().refuse);
        assert!(forced(Some("few-buffers")).unwrap().few_buffers);
        assert!(forced(Some("bsae")).unwrap_err().contains("bsae"));
    }

    #[test]
    fn a_refused_setup_names_its_cause() {
        let e = io::Error::from_raw_os_error(libc::ENOMEM);
        assert!(why_refused(&e).contains("RLIMIT_MEMLOCK"));
        let e = io::Error::from_raw_os_error(libc::ENOSYS);
        assert!(why_refused(&e).contains("seccomp"));
    }
}
