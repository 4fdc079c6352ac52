//! The provided-buffer ring of one worker: page-aligned memory the kernel
//! picks receive buffers from (so an idle connection holds none), buffers
//! given back after their bytes were copied into a session, and the new
//! tail published once per loop turn.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;

use super::ring::Ring;

/// The buffer group id of the ring's provided buffers.
pub(crate) const GROUP: u16 = 0;

/// An anonymous private mapping, unmapped on drop.
struct Mapping {
    /// Start of the mapping.
    ptr: NonNull<u8>,
    /// Its length in bytes.
    len: usize,
}

impl Mapping {
    /// `len` zeroed, page-aligned bytes.
    fn new(len: usize) -> io::Result<Mapping> {
        // SAFETY: an anonymous private mapping at an address the kernel
        // picks; no existing memory is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Mapping { ptr, len })
    }
}

// SAFETY: a `Mapping` is plain memory owned by one value; nothing in it is
// tied to the thread that mapped it.
unsafe impl Send for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: `ptr`/`len` are exactly the mapping made in `new`; the
        // owner guarantees the kernel no longer uses it (unregistered).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A registered buffer ring with `count` buffers of `size` bytes.
pub(crate) struct BufRing {
    /// The ring entries the kernel reads (entry 0 also holds the tail).
    entries: Mapping,
    /// The buffers' memory, written by the kernel.
    data: Mapping,
    /// Number of buffers (a power of two).
    count: u16,
    /// Size of one buffer.
    size: usize,
    /// The tail as published to the kernel, plus buffers given back since.
    tail: u16,
    /// Buffers given back this turn, not yet published.
    pending: u16,
    /// Whether the ring is registered with a ring (unregister before unmap).
    registered: bool,
}

impl BufRing {
    /// Maps and registers `count` buffers of `size` bytes as group
    /// [`GROUP`] of `ring`, every buffer handed to the kernel.
    pub(crate) fn new(ring: &Ring, count: u16, size: usize) -> io::Result<BufRing> {
        assert!(
            count.is_power_of_two(),
            "buffer ring size must be a power of two"
        );
        let entries = Mapping::new(usize::from(count) * std::mem::size_of::<BufRingEntry>())?;
        let data = Mapping::new(usize::from(count) * size)?;
        let mut bufs = BufRing {
            entries,
            data,
            count,
            size,
            tail: 0,
            pending: 0,
            registered: false,
        };
        // SAFETY: the entries mapping is page-aligned, sized for `count`
        // entries, and stays mapped until after `unregister` (drop order in
        // `Drop`), which the owner calls before the ring goes away.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                bufs.entries.ptr.as_ptr() as u64,
                count,
                GROUP,
                0,
            )?;
        }
        bufs.registered = true;
        for bid in 0..count {
            bufs.give_back(bid);
        }
        bufs.publish();
        Ok(bufs)
    }

    /// The first `len` bytes of buffer `bid`, which a completion just
    /// delivered: the kernel no longer writes it until it is given back.
    pub(crate) fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        assert!(bid < self.count && len <= self.size, "buffer out of range");
        // SAFETY: `bid` and `len` are within the data mapping (checked
        // above); the kernel handed this buffer over with the completion and
        // does not pick it again before `give_back` plus `publish`, which
        // need `&mut self` and so end this borrow first.
        unsafe {
            std::slice::from_raw_parts(
                self.data.ptr.as_ptr().add(usize::from(bid) * self.size),
                len,
            )
        }
    }

    /// Queues buffer `bid` to be handed back to the kernel at the next
    /// [`BufRing::publish`].
    pub(crate) fn give_back(&mut self, bid: u16) {
        if bid >= self.count {
            return;
        }
        let mask = self.count - 1;
        let idx = usize::from(self.tail.wrapping_add(self.pending) & mask);
        // SAFETY: `idx < count`, inside the entries mapping; the kernel does
        // not read entries past the published tail, and this one is past it.
        let entry = unsafe { &mut *self.entries.ptr.as_ptr().cast::<BufRingEntry>().add(idx) };
        // SAFETY: `bid < count`: the address is inside the data mapping.
        let addr = unsafe { self.data.ptr.as_ptr().add(usize::from(bid) * self.size) };
        entry.set_addr(addr as u64);
        entry.set_len(self.size as u32);
        entry.set_bid(bid);
        self.pending += 1;
    }

    /// Hands every buffer given back since the last call to the kernel (one
    /// release store of the tail).
    pub(crate) fn publish(&mut self) {
        if self.pending == 0 {
            return;
        }
        self.tail = self.tail.wrapping_add(self.pending);
        self.pending = 0;
        // SAFETY: the tail field lives in entry 0 of the mapping, which is
        // valid, 2-byte aligned, and shared with the kernel only through
        // atomic access.
        let tail = unsafe {
            &*(BufRingEntry::tail(self.entries.ptr.as_ptr().cast::<BufRingEntry>())
                .cast::<AtomicU16>())
        };
        tail.store(self.tail, Ordering::Release);
    }

    /// Unregisters the group from `ring` (before the memory is unmapped);
    /// false when the kernel refused, and the memory must then be leaked.
    pub(crate) fn unregister(&mut self, ring: &Ring) -> bool {
        if self.registered && ring.submitter().unregister_buf_ring(GROUP).is_ok() {
            self.registered = false;
        }
        !self.registered
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        if self.registered {
            // Still registered with a ring that may outlive this value: the
            // kernel could write here after an unmap. Leak instead.
            std::mem::forget(std::mem::replace(
                &mut self.data,
                Mapping {
                    ptr: NonNull::dangling(),
                    len: 0,
                },
            ));
            std::mem::forget(std::mem::replace(
                &mut self.entries,
                Mapping {
                    ptr: NonNull::dangling(),
                    len: 0,
                },
            ));
        }
    }
}
