//! h2c, sans-IO: the server settings handed to the `h2` crate, the
//! `Upgrade: h2c` rules (RFC 7540 §3.2), and the conversions between the
//! `http` types the crate speaks and the protocol-neutral request view and
//! [`Response`](crate::handler::Response). The connection itself is driven by
//! `conn::h2`.

mod request;
mod response;
mod settings;
mod upgrade;

pub use request::{header_list, request_parts};
pub use response::{body_pieces, response_head, sends_body};
pub use settings::H2Settings;
pub use upgrade::{h2c_upgrade, opening_frames_end, Opening, STREAM1_OPENER, SWITCHING_PROTOCOLS};
