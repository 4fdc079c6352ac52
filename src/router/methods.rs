//! One pattern tree per method: the seven standard methods in fixed slots,
//! other method tokens (case-sensitive) in a short list.

use super::tree::Node;

/// The standard methods, in the order an `Allow` header lists them.
pub(crate) const STANDARD: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// Slot of `GET` in [`STANDARD`].
pub(crate) const GET: usize = 0;

/// Slot of `HEAD` in [`STANDARD`].
pub(crate) const HEAD: usize = 1;

/// The most distinct non-standard method tokens one router may use (an
/// [`AllowList`](super::AllowList) keeps them in a 64-bit mask).
pub(crate) const MAX_CUSTOM_METHODS: usize = 64;

/// The slot of a standard method.
pub(crate) fn standard_slot(method: &str) -> Option<usize> {
    STANDARD.iter().position(|m| *m == method)
}

/// The trees of every method that has a route.
#[derive(Clone, Debug, Default)]
pub(crate) struct MethodTrees {
    /// Trees of the standard methods, by slot.
    standard: [Option<Node>; 7],
    /// Non-standard method tokens, in order of first registration.
    custom_names: Vec<Box<str>>,
    /// Their trees, parallel to `custom_names`.
    custom_trees: Vec<Node>,
}

impl MethodTrees {
    /// The tree of `method`, if it has routes.
    pub(crate) fn get(&self, method: &str) -> Option<&Node> {
        match standard_slot(method) {
            Some(slot) => self.standard[slot].as_ref(),
            None => {
                let i = self.custom_names.iter().position(|n| &**n == method)?;
                Some(&self.custom_trees[i])
            }
        }
    }

    /// The tree of `method`, created empty when missing.
    pub(crate) fn get_or_insert(&mut self, method: &str) -> &mut Node {
        if let Some(slot) = standard_slot(method) {
            return self.standard[slot].get_or_insert_with(Node::default);
        }
        let i = match self.custom_names.iter().position(|n| &**n == method) {
            Some(i) => i,
            None => {
                self.custom_names.push(method.into());
                self.custom_trees.push(Node::default());
                self.custom_names.len() - 1
            }
        };
        &mut self.custom_trees[i]
    }

    /// The standard trees, by slot.
    pub(crate) fn standard(&self) -> &[Option<Node>; 7] {
        &self.standard
    }

    /// Non-standard method tokens and their trees.
    pub(crate) fn custom(&self) -> (&[Box<str>], &[Node]) {
        (&self.custom_names, &self.custom_trees)
    }
}
