//! `SharedTable`: the current route table, swapped atomically so readers
//! never lock and a registration publishes a whole new snapshot.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use super::RouteTable;

/// The route table in force, readable from any thread without a lock.
pub struct SharedTable {
    /// The current snapshot.
    current: ArcSwap<RouteTable>,
}

/// A loaded snapshot; it stays valid (and unchanged) while held, even if a
/// new table is published meanwhile. Hold it for one request, not longer.
pub struct TableGuard {
    /// arc-swap's guard over the snapshot.
    inner: Guard<Arc<RouteTable>>,
}

impl SharedTable {
    /// Shares `table`.
    pub fn new(table: RouteTable) -> Self {
        SharedTable {
            current: ArcSwap::from_pointee(table),
        }
    }

    /// The current snapshot, without locking or allocating.
    pub fn load(&self) -> TableGuard {
        TableGuard {
            inner: self.current.load(),
        }
    }

    /// The current snapshot as an owned `Arc`, for holders that outlive a
    /// request (such as a dispatch actor).
    pub fn load_full(&self) -> Arc<RouteTable> {
        self.current.load_full()
    }

    /// Replaces the snapshot; readers see either the old or the new table,
    /// never a mix.
    pub fn publish(&self, table: RouteTable) {
        self.current.store(Arc::new(table));
    }
}

impl Default for SharedTable {
    /// Shares an empty table.
    fn default() -> Self {
        Self::new(RouteTable::default())
    }
}

impl Deref for TableGuard {
    type Target = RouteTable;

    fn deref(&self) -> &RouteTable {
        &self.inner
    }
}

impl fmt::Debug for SharedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTable")
            .field("current", &*self.load())
            .finish()
    }
}

impl fmt::Debug for TableGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
