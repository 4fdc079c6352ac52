//! Route parameters captured by a lookup: byte spans into the request path,
//! kept in a fixed array so a lookup never allocates.

/// The most `:param` and `*catch-all` segments one route may declare.
pub const MAX_PARAMS: usize = 8;

/// Parameter values of one matched route, as `(start, end)` byte spans of the
/// path that was looked up. Names live on the route; values are resolved by
/// position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Number of spans in use.
    len: u8,
    /// Spans of the path; only the first `len` are meaningful.
    spans: [(u32, u32); MAX_PARAMS],
}

impl Params {
    /// No parameters.
    pub const fn new() -> Self {
        Params {
            len: 0,
            spans: [(0, 0); MAX_PARAMS],
        }
    }

    /// Number of captured values.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether nothing was captured.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a span; false when [`MAX_PARAMS`] are already captured.
    pub fn push(&mut self, start: usize, end: usize) -> bool {
        let i = self.len as usize;
        if i == MAX_PARAMS {
            return false;
        }
        self.spans[i] = (start as u32, end as u32);
        self.len += 1;
        true
    }

    /// Removes the last span (backtracking during a lookup).
    pub fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// Forgets every span.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The `i`-th value, cut from the path the spans were taken from.
    pub fn value<'p>(&self, path: &'p str, i: usize) -> Option<&'p str> {
        if i >= self.len() {
            return None;
        }
        let (s, e) = self.spans[i];
        path.get(s as usize..e as usize)
    }
}
