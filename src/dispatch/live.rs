//! `Live`: the dispatch actors serving a connection now, registered by the
//! promoter after the spawn and removed by the actor when its connection
//! ends — in whichever order those two happen.

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

/// Actors by id. `None` is a tombstone: the actor finished before the
/// promoter registered it, and the registration removes it instead.
pub(crate) struct Live<T> {
    /// Each key's entry is locked for the check-and-set, so a registration
    /// and a finish racing on one actor meet in one order or the other.
    map: DashMap<u64, Option<T>>,
}

impl<T> Live<T> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Live {
            map: DashMap::new(),
        }
    }

    /// The promoter registers a started actor (a no-op, consuming the
    /// tombstone, when it has already finished).
    pub(crate) fn register(&self, id: u64, addr: T) {
        match self.map.entry(id) {
            Entry::Occupied(e) => {
                e.remove();
            }
            Entry::Vacant(v) => {
                v.insert(Some(addr));
            }
        }
    }

    /// The actor's connection ended: it leaves the map (or, not registered
    /// yet, leaves a tombstone for its registration to find).
    pub(crate) fn finished(&self, id: u64) {
        match self.map.entry(id) {
            Entry::Occupied(e) => {
                e.remove();
            }
            Entry::Vacant(v) => {
                v.insert(None);
            }
        }
    }

    /// Registered actors still serving.
    pub(crate) fn len(&self) -> usize {
        self.map.iter().filter(|e| e.value().is_some()).count()
    }

    /// Calls `f` on every registered actor.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&T)) {
        for e in self.map.iter() {
            if let Some(addr) = e.value() {
                f(addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Live;

    #[test]
    fn an_actor_that_finishes_before_it_is_registered_leaves_nothing() {
        let live = Live::new();
        live.finished(7);
        assert_eq!(live.len(), 0);
        live.register(7, "addr");
        assert_eq!(live.len(), 0);
        assert!(live.map.is_empty(), "no entry, not even a tombstone");
    }

    #[test]
    fn a_registered_actor_is_counted_until_it_finishes() {
        let live = Live::new();
        live.register(7, "addr");
        live.register(8, "other");
        assert_eq!(live.len(), 2);
        live.finished(7);
        assert_eq!(live.len(), 1);
        let mut seen = Vec::new();
        live.for_each(|a| seen.push(*a));
        assert_eq!(seen, ["other"]);
        live.finished(8);
        assert!(live.map.is_empty());
    }
}
