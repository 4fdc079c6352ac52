//! An edge-triggered epoll instance with an eventfd waker: the readiness
//! source of the epoll engine. It reports a peer's half-close (EPOLLRDHUP)
//! with the readiness it came with, so a short read can skip the read that
//! would only say EAGAIN without ever missing a FIN that arrived with data.
//!
//! Why not the `polling` crate: as of 3.11 it never asks epoll for
//! EPOLLRDHUP (its read interest is IN|HUP|ERR|PRI; `Event::is_interrupt`
//! is EPOLLHUP, raised only once *both* directions are shut, and `is_err` is
//! EPOLLERR), so a FIN that arrives with the last request would go unseen
//! until the idle timeout, or cost every event one more `recv`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::cvt;

/// The key of the waker's own registration.
const WAKE_KEY: u64 = u64::MAX;

/// One readiness report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The key the source was registered with.
    pub key: usize,
    /// Bytes (or a FIN) can be read.
    pub readable: bool,
    /// Bytes can be written.
    pub writable: bool,
    /// The peer closed its side, or the socket failed: read to the end.
    pub closed: bool,
}

/// Storage for the events of one wait (`Default` holds none and allocates
/// nothing: a placeholder while the real storage is borrowed).
#[derive(Default)]
pub struct Events {
    /// Filled by `epoll_wait`; only the first `len` entries are meaningful.
    buf: Vec<libc::epoll_event>,
    /// Entries filled by the last wait.
    len: usize,
}

impl Events {
    /// Room for `capacity` events per wait.
    pub fn with_capacity(capacity: usize) -> Self {
        Events {
            buf: vec![libc::epoll_event { events: 0, u64: 0 }; capacity.max(1)],
            len: 0,
        }
    }

    /// The events of the last wait (the waker's own event excluded).
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.buf[..self.len]
            .iter()
            .filter(|e| e.u64 != WAKE_KEY)
            .map(|e| {
                let flags = e.events as libc::c_int;
                Event {
                    key: e.u64 as usize,
                    readable: flags
                        & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR)
                        != 0,
                    writable: flags & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0,
                    closed: flags & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0,
                }
            })
    }

    /// Forgets the last wait's events.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// An epoll instance and its waker.
#[derive(Debug)]
pub struct Poller {
    /// The epoll descriptor.
    epoll: OwnedFd,
    /// An eventfd registered edge-triggered under [`WAKE_KEY`].
    waker: OwnedFd,
    /// Set by `notify` until a wait has drained the eventfd it wrote, so a
    /// burst of notifies writes the eventfd once. Up means a wake is pending
    /// or the wait that saw it has not returned yet.
    notified: AtomicBool,
}

impl Poller {
    /// A new epoll instance with its waker registered.
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a
        // fresh descriptor this process owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))?) };
        // SAFETY: as above, for eventfd.
        let waker = unsafe {
            OwnedFd::from_raw_fd(cvt(libc::eventfd(
                0,
                libc::EFD_NONBLOCK | libc::EFD_CLOEXEC,
            ))?)
        };
        let poller = Poller {
            epoll,
            waker,
            notified: AtomicBool::new(false),
        };
        poller.ctl(
            libc::EPOLL_CTL_ADD,
            poller.waker.as_raw_fd(),
            WAKE_KEY,
            libc::EPOLLIN | libc::EPOLLET,
        )?;
        Ok(poller)
    }

    /// Registers `fd` under `key`, edge-triggered, for reads and half-closes,
    /// and for writes when `writable`. The caller deletes it before closing it.
    pub fn add(&self, fd: &impl AsRawFd, key: usize, writable: bool) -> io::Result<()> {
        let mut flags = libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET;
        if writable {
            flags |= libc::EPOLLOUT;
        }
        self.ctl(libc::EPOLL_CTL_ADD, fd.as_raw_fd(), key as u64, flags)
    }

    /// Removes `fd`.
    pub fn delete(&self, fd: &impl AsRawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0)
    }

    /// One `epoll_ctl` call.
    fn ctl(&self, op: libc::c_int, fd: RawFd, key: u64, flags: libc::c_int) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: flags as u32,
            u64: key,
        };
        // SAFETY: both descriptors are open (the epoll one is owned by self,
        // the other borrowed by the caller); `ev` outlives the call.
        cvt(unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) })?;
        Ok(())
    }

    /// Waits for readiness or a wake, at most `timeout` (rounded up to a
    /// millisecond so a short timeout never spins).
    pub fn wait(&self, events: &mut Events, timeout: Duration) -> io::Result<()> {
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        let cap = events.buf.len().min(i32::MAX as usize) as libc::c_int;
        // SAFETY: the buffer holds `cap` initialised epoll_event entries the
        // kernel may overwrite; the epoll descriptor is open.
        let n = cvt(unsafe {
            libc::epoll_wait(self.epoll.as_raw_fd(), events.buf.as_mut_ptr(), cap, ms)
        })?;
        events.len = n as usize;
        if events.buf[..events.len].iter().any(|e| e.u64 == WAKE_KEY) {
            // Drain the eventfd first, lower the flag second. The other order
            // loses wake-ups: a notify between the two sees the flag down,
            // raises it and writes, the drain then consumes that write (epoll
            // re-checks readiness before reporting an edge, so none is left
            // for the next wait), and the flag stays up with no wake pending:
            // every later notify returns early and wakes nothing. In this
            // order a notify that finds the flag still up lands while this
            // wait has not returned yet, so the caller's drain after it sees
            // that notify's message.
            let mut count = 0u64;
            // SAFETY: reads 8 bytes into `count`; the eventfd is open and
            // non-blocking (EAGAIN when already drained is fine).
            let _ = unsafe {
                libc::read(
                    self.waker.as_raw_fd(),
                    (&mut count as *mut u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
            // AcqRel, not a plain store: reading the value a notify's swap
            // wrote makes that notifier's earlier sends visible to the
            // caller's drain that follows this wait.
            self.notified.swap(false, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Wakes a thread blocked in [`Poller::wait`] (once per burst).
    pub fn notify(&self) -> io::Result<()> {
        if self.notified.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let one = 1u64;
        // SAFETY: writes 8 bytes from `one`; the eventfd is open.
        let n = unsafe {
            libc::write(
                self.waker.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
        if n == -1 {
            let err = io::Error::last_os_error();
            // A full counter means a wake is pending already.
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn notify_wakes_a_wait_once_per_burst() {
        let p = Poller::new().unwrap();
        let mut ev = Events::with_capacity(8);
        p.notify().unwrap();
        p.notify().unwrap();
        let t = std::time::Instant::now();
        p.wait(&mut ev, Duration::from_secs(5)).unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "the wake ended the wait"
        );
        assert_eq!(
            ev.iter().count(),
            0,
            "the waker's own event is not reported"
        );
        p.wait(&mut ev, Duration::from_millis(20)).unwrap();
        assert_eq!(ev.len, 0, "one wake for the burst, nothing left");
        p.notify().unwrap();
        p.wait(&mut ev, Duration::from_secs(5)).unwrap();
        assert_eq!(ev.len, 1, "a notify after the wake wakes again");
    }

    /// Whether the last wait ended by the waker (its event is in the raw
    /// buffer, though `iter` hides it).
    fn woken(ev: &Events) -> bool {
        ev.buf[..ev.len].iter().any(|e| e.u64 == WAKE_KEY)
    }

    /// A notify racing the end of a wait, thousands of times: every wait must
    /// end by a wake, never by its (long) timeout. A lost wake-up is sticky
    /// (the flag stays up, later notifies do nothing), so one loss fails the
    /// test at the first wait after it. The notifier aims at the window the
    /// old order lost wakes in (flag lowered, eventfd not drained yet):
    /// against that order 19 of 20 runs failed within the budget, after a
    /// median of ~6,000 rounds (2 shared cores).
    #[test]
    fn notify_racing_a_wait_is_never_lost() {
        /// Rounds, and the time they may take, whichever ends first.
        const ROUNDS: usize = 100_000;
        const BUDGET: Duration = Duration::from_secs(2);
        let p = Arc::new(Poller::new().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let notifier = {
            let (p, stop) = (p.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut x = 0x9e37_79b9u32;
                while !stop.load(Ordering::Relaxed) {
                    // Notify as soon as the waiter lowers the flag.
                    if p.notified.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                        continue;
                    }
                    // xorshift32. Every other round, first let the waiter
                    // fall asleep for a random while: a waiter just woken
                    // from sleep loses the race far more often (measured).
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    if x & 1 == 0 {
                        std::thread::sleep(Duration::from_micros(u64::from(x % 50)));
                    }
                    p.notify().unwrap();
                }
            })
        };
        let mut ev = Events::with_capacity(8);
        let mut lost_at = None;
        let start = std::time::Instant::now();
        for round in 0..ROUNDS {
            if start.elapsed() > BUDGET {
                break;
            }
            ev.clear();
            p.wait(&mut ev, Duration::from_secs(5)).unwrap();
            if !woken(&ev) {
                lost_at = Some(round);
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        notifier.join().unwrap();
        assert_eq!(
            lost_at, None,
            "a wait ran to its timeout: a notify was lost"
        );
    }

    #[test]
    fn data_with_a_fin_reports_closed_with_readable() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        c.write_all(b"hello").unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let p = Poller::new().unwrap();
        p.add(&s, 7, true).unwrap();
        let mut ev = Events::with_capacity(8);
        p.wait(&mut ev, Duration::from_secs(5)).unwrap();
        let e = ev.iter().next().expect("an event");
        assert_eq!(e.key, 7);
        assert!(e.readable && e.closed, "{e:?}");
    }
}
