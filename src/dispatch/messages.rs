//! Messages a `DispatchActor` accepts.

use std::time::Instant;

/// A dispatch actor's messages.
#[derive(Debug)]
pub enum DispatchMsg {
    /// Finish the request in flight, close at the next request boundary, and
    /// close regardless at `deadline`.
    Shutdown {
        /// Hard limit.
        deadline: Instant,
    },
    /// The connection closed; the actor stops.
    Finished,
}
