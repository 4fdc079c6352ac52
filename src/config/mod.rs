//! Configuration: raw input becomes a resolved, typed config once; past that
//! boundary no strings decide anything.

use std::fmt;

/// The event-loop engine that serves a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// The io_uring completion-based loop (Linux).
    IoUring,
    /// The epoll readiness loop (Linux).
    Epoll,
    /// The portable engine on actix-rt arbiters.
    Std,
}

impl EngineKind {
    /// The name used on the wire (`x-engine`) and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            EngineKind::IoUring => "io-uring",
            EngineKind::Epoll => "epoll",
            EngineKind::Std => "std",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
