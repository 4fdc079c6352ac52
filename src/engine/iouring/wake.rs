//! The eventfd a worker's ring watches (a poll on it completes when the
//! mailbox is sent to): the loop mailbox's [`Wake`] writes it, the worker
//! reads it back after the poll's completion.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use switchyard_actors::Wake;

/// A non-blocking eventfd.
#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    /// A fresh eventfd (non-blocking, close-on-exec).
    pub(crate) fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; the result is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and nothing else owns it.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The descriptor the ring polls.
    pub(crate) fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Adds one to the counter (wakes the poll).
    pub(crate) fn notify(&self) -> io::Result<()> {
        let one: u64 = 1;
        // SAFETY: writes the 8 bytes of `one`, which lives across the call.
        let n = unsafe { libc::write(self.raw(), (&one as *const u64).cast(), 8) };
        if n == 8 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // A full counter still wakes the poll.
        if e.kind() == io::ErrorKind::WouldBlock {
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Resets the counter (nothing happens when it is already zero).
    pub(crate) fn drain(&self) {
        let mut value: u64 = 0;
        // SAFETY: reads at most 8 bytes into `value`, which lives across the
        // call; the descriptor is non-blocking.
        let _ = unsafe { libc::read(self.raw(), (&mut value as *mut u64).cast(), 8) };
    }
}

/// Wakes a worker's loop when its mailbox receives a message.
pub(crate) struct EventFdWake(pub(crate) std::sync::Arc<EventFd>);

impl Wake for EventFdWake {
    fn wake(&self) {
        if let Err(e) = self.0.notify() {
            tracing::error!(error = %e, "could not wake a worker");
        }
    }
}
