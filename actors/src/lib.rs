//! The actor kernel.
