//! `AllowList`: the methods that would have matched a path, for a 405's
//! `Allow` header, kept in bit masks so building one allocates nothing.

use std::fmt;

use super::methods::{GET, HEAD, STANDARD};

/// The methods that match a path, listed GET, HEAD, POST, PUT, DELETE, PATCH,
/// OPTIONS, then non-standard methods in registration order. HEAD is listed
/// whenever GET is, since a HEAD request is served by the GET route.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AllowList<'t> {
    /// Bit `i` set: `STANDARD[i]` is allowed.
    standard: u8,
    /// Bit `i` set: `custom_names[i]` is allowed.
    custom: u64,
    /// The table's non-standard method tokens.
    custom_names: &'t [Box<str>],
}

impl<'t> AllowList<'t> {
    /// An empty list over a table's non-standard method tokens.
    pub(crate) fn new(custom_names: &'t [Box<str>]) -> Self {
        AllowList {
            standard: 0,
            custom: 0,
            custom_names,
        }
    }

    /// Marks the standard method in `slot`; GET brings HEAD along.
    pub(crate) fn add_standard(&mut self, slot: usize) {
        self.standard |= 1 << slot;
        if slot == GET {
            self.standard |= 1 << HEAD;
        }
    }

    /// Marks the non-standard method at index `i`.
    pub(crate) fn add_custom(&mut self, i: usize) {
        self.custom |= 1 << i;
    }

    /// Whether no method matched.
    pub fn is_empty(&self) -> bool {
        self.standard == 0 && self.custom == 0
    }

    /// How many methods are listed.
    pub fn len(&self) -> usize {
        (self.standard.count_ones() + self.custom.count_ones()) as usize
    }

    /// Whether `method` is listed.
    pub fn contains(&self, method: &str) -> bool {
        self.iter().any(|m| m == method)
    }

    /// The listed methods, in `Allow` order.
    pub fn iter(&self) -> impl Iterator<Item = &'t str> {
        let (standard_mask, custom_mask) = (self.standard, self.custom);
        let standard = STANDARD
            .iter()
            .enumerate()
            .filter(move |(i, _)| standard_mask & (1 << i) != 0)
            .map(|(_, m)| *m);
        let custom = self
            .custom_names
            .iter()
            .enumerate()
            .filter(move |(i, _)| custom_mask & (1 << i) != 0)
            .map(|(_, m)| &**m);
        standard.chain(custom)
    }

    /// Appends the list as an `Allow` header value: `GET, HEAD, POST`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for (i, method) in self.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(method.as_bytes());
        }
    }
}

impl fmt::Debug for AllowList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
