//! A slab of connections keyed by small integers (the poller keys).

/// Values in reusable slots.
#[derive(Debug)]
pub struct Slab<T> {
    /// Slots; `None` is free.
    slots: Vec<Option<T>>,
    /// Free slot indices.
    free: Vec<usize>,
    /// Occupied slots.
    len: usize,
}

impl<T> Slab<T> {
    /// An empty slab.
    pub fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Stores a value and returns its key.
    pub fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(key) => {
                self.slots[key] = Some(value);
                key
            }
            None => {
                self.slots.push(Some(value));
                self.slots.len() - 1
            }
        }
    }

    /// The value under `key`.
    pub fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        self.slots.get_mut(key).and_then(Option::as_mut)
    }

    /// Takes the value under `key` out, freeing the slot.
    pub fn remove(&mut self, key: usize) -> Option<T> {
        let value = self.slots.get_mut(key)?.take()?;
        self.free.push(key);
        self.len -= 1;
        Some(value)
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Keys of every value matching `pred`.
    pub fn keys_where(&self, mut pred: impl FnMut(&T) -> bool) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.as_ref().filter(|v| pred(v)).map(|_| k))
            .collect()
    }
}
