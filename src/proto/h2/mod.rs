//! h2c, sans-IO: the server settings handed to the `h2` crate, the
//! `Upgrade: h2c` rules (RFC 7540 §3.2), the conversions between the `http`
//! types the crate speaks and the protocol-neutral request view and
//! [`Response`](crate::handler::Response), and the frame rules checked before
//! the crate reads the client's bytes ([`FrameGuard`]). The connection itself
//! is driven by `conn::h2`.

mod guard;
mod request;
mod response;
mod settings;
mod upgrade;

pub use guard::FrameGuard;
pub use request::{header_list, request_parts};
pub use response::{body_pieces, response_head, sends_body};
pub use settings::H2Settings;
pub use upgrade::{h2c_upgrade, opening_frames_end, Opening, STREAM1_OPENER, SWITCHING_PROTOCOLS};
