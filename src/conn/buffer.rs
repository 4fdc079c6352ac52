//! Connection buffers: an input buffer read into without zeroing on every
//! read, an output buffer written from with a cursor, and a per-worker pool so
//! an idle connection holds no buffer at all.

/// Bytes read from a peer and not yet consumed.
///
/// `data` is fully initialised (zeroed once when it grows), so reads go
/// straight into `data[end..]` with safe slicing and without clearing memory on
/// every read.
#[derive(Debug, Default)]
pub struct InBuf {
    /// Storage; `data.len()` is the capacity in use.
    data: Vec<u8>,
    /// First unconsumed byte.
    start: usize,
    /// One past the last byte read.
    end: usize,
}

impl InBuf {
    /// A buffer of `capacity` zeroed bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        InBuf {
            data: vec![0; capacity],
            start: 0,
            end: 0,
        }
    }

    /// The unconsumed bytes.
    pub fn filled(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Number of unconsumed bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops `n` consumed bytes from the front.
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.len());
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Forgets everything, keeping the storage.
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// Removes `range` (offsets into [`InBuf::filled`]) from the middle,
    /// moving the bytes after it down.
    pub fn cut(&mut self, range: std::ops::Range<usize>) {
        debug_assert!(range.start <= range.end && range.end <= self.len());
        let (from, to) = (self.start + range.end, self.start + range.start);
        self.data.copy_within(from..self.end, to);
        self.end -= range.len();
    }

    /// Free space to read into, at least `min` bytes: moves unconsumed bytes to
    /// the front, and grows the storage when that is not enough.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        self.spare_within(min, None)
    }

    /// Like [`InBuf::spare`], but growth by doubling stops at `limit` bytes
    /// of storage when the caller knows how much it will ever hold (a body of
    /// known length); at least `min` bytes are free either way.
    pub fn spare_within(&mut self, min: usize, limit: Option<usize>) -> &mut [u8] {
        if self.data.len() - self.end < min {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.data.len() - self.end < min {
                let need = self.end + min;
                let doubled = self.data.len() * 2;
                let want = limit.map_or(doubled, |l| doubled.min(l)).max(need);
                self.data.resize(want, 0);
            }
        }
        &mut self.data[self.end..]
    }

    /// Marks `n` bytes of the last [`InBuf::spare`] slice as read.
    pub fn commit(&mut self, n: usize) {
        debug_assert!(self.end + n <= self.data.len());
        self.end += n;
    }

    /// Appends bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.spare(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.commit(bytes.len());
    }

    /// Storage size (for pool decisions).
    pub fn capacity(&self) -> usize {
        self.data.len()
    }
}

/// Response bytes waiting to be written.
#[derive(Debug, Default)]
pub struct OutBuf {
    /// Bytes; `data[written..]` is pending.
    data: Vec<u8>,
    /// How much of `data` already went out.
    written: usize,
}

impl OutBuf {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        OutBuf {
            data: Vec::with_capacity(capacity),
            written: 0,
        }
    }

    /// The vector responses are appended to.
    pub fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Bytes not yet written.
    pub fn pending(&self) -> &[u8] {
        &self.data[self.written..]
    }

    /// Number of bytes not yet written.
    pub fn len(&self) -> usize {
        self.data.len() - self.written
    }

    /// Whether everything went out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records that `n` pending bytes were written; resets when drained.
    pub fn advance(&mut self, n: usize) {
        self.written += n;
        debug_assert!(self.written <= self.data.len());
        if self.written == self.data.len() {
            self.clear();
        }
    }

    /// Forgets everything, keeping the storage.
    pub fn clear(&mut self) {
        self.data.clear();
        self.written = 0;
    }

    /// Storage size (for pool decisions).
    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }
}

/// Spare buffers of one worker. A connection borrows a buffer while it has
/// bytes in flight and returns it when empty, so memory follows activity, not
/// the number of open connections.
#[derive(Debug)]
pub struct BufPool {
    /// Free input buffers.
    inputs: Vec<InBuf>,
    /// Free output buffers.
    outputs: Vec<OutBuf>,
    /// Size of a fresh buffer.
    size: usize,
    /// Buffers above this size are dropped instead of pooled (a 1 MiB upload
    /// must not pin 1 MiB per pooled buffer forever).
    keep_max: usize,
    /// Most buffers of each kind kept.
    max_free: usize,
}

impl BufPool {
    /// A pool handing out buffers of `size` bytes.
    pub fn new(size: usize) -> Self {
        BufPool {
            inputs: Vec::new(),
            outputs: Vec::new(),
            size,
            keep_max: size * 8,
            max_free: 64,
        }
    }

    /// An empty input buffer.
    pub fn input(&mut self) -> InBuf {
        self.inputs
            .pop()
            .unwrap_or_else(|| InBuf::with_capacity(self.size))
    }

    /// An empty output buffer.
    pub fn output(&mut self) -> OutBuf {
        self.outputs
            .pop()
            .unwrap_or_else(|| OutBuf::with_capacity(self.size))
    }

    /// Whether a buffer of `capacity` is worth keeping: not smaller than a
    /// fresh one (an empty placeholder would cost an allocation on its next
    /// use) and not so large that it pins memory.
    fn keeps(&self, capacity: usize) -> bool {
        (self.size..=self.keep_max).contains(&capacity)
    }

    /// Returns an input buffer (its contents are discarded).
    pub fn put_input(&mut self, mut buf: InBuf) {
        if self.keeps(buf.capacity()) && self.inputs.len() < self.max_free {
            buf.clear();
            self.inputs.push(buf);
        }
    }

    /// Returns an output buffer (its contents are discarded).
    pub fn put_output(&mut self, mut buf: OutBuf) {
        if self.keeps(buf.capacity()) && self.outputs.len() < self.max_free {
            buf.clear();
            self.outputs.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbuf_compacts_before_growing() {
        let mut b = InBuf::with_capacity(8);
        b.extend(b"abcdefgh");
        b.consume(6);
        let cap = b.capacity();
        b.extend(b"ijkl");
        assert_eq!(b.filled(), b"ghijkl");
        assert_eq!(b.capacity(), cap, "compaction made room without growing");
        b.extend(b"mnopqrstuv");
        assert_eq!(b.filled(), b"ghijklmnopqrstuv");
    }

    #[test]
    fn outbuf_resets_when_drained() {
        let mut o = OutBuf::with_capacity(16);
        o.vec().extend_from_slice(b"hello world");
        o.advance(5);
        assert_eq!(o.pending(), b" world");
        o.advance(6);
        assert!(o.is_empty());
        assert!(o.vec().is_empty());
    }

    #[test]
    fn pool_never_keeps_empty_placeholders() {
        let mut p = BufPool::new(16);
        p.put_input(InBuf::default());
        p.put_output(OutBuf::default());
        assert_eq!(p.input().capacity(), 16);
        assert_eq!(p.output().capacity(), 16);
    }

    #[test]
    fn pool_drops_oversized_buffers() {
        let mut p = BufPool::new(16);
        let mut big = p.input();
        big.spare(1024);
        p.put_input(big);
        assert_eq!(p.input().capacity(), 16, "an oversized buffer was not kept");
    }
}
