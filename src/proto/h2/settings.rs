//! `H2Settings`: the explicit limits every h2c connection is built with
//! (none of the `h2` crate's defaults is left to chance).

use std::time::Duration;

/// HTTP/2 server settings and abuse limits, set as
/// [`Config::h2`](crate::Config::h2).
///
/// # Examples
///
/// ```
/// use switchyard::config::H2Settings;
/// use switchyard::{Config, EngineChoice, Protocol};
///
/// let config = Config {
///     engine: EngineChoice::Std,
///     protocol: Protocol::Auto, // HTTP/1.1 and h2c
///     h2: H2Settings {
///         max_concurrent_streams: 32,
///         max_frame_size: 65_536,
///         ..H2Settings::default()
///     },
///     ..Config::default()
/// };
/// assert!(config.resolve().is_ok());
///
/// let too_small = H2Settings { max_frame_size: 1024, ..H2Settings::default() };
/// assert!(Config { h2: too_small, ..Config::default() }.resolve().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H2Settings {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may open at once
    /// (more are refused). Default 100.
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE: per-stream receive window. Default 1 MiB.
    pub initial_window_size: u32,
    /// The connection's receive window. Default 4 MiB.
    pub initial_connection_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: largest frame payload accepted
    /// (16384..=16777215). Default 16384.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE: largest decoded header list; also bounds
    /// a header block accumulated over CONTINUATION frames. Default 64 KiB.
    pub max_header_list_size: u32,
    /// Streams the client reset before the server accepted them, above which
    /// the connection ends with ENHANCE_YOUR_CALM (rapid reset,
    /// CVE-2023-44487). Default 20.
    pub max_pending_accept_reset_streams: usize,
    /// Resets the client's protocol errors force the server to send, above
    /// which the connection ends with ENHANCE_YOUR_CALM. Default 1024.
    pub max_local_error_reset_streams: usize,
    /// Locally reset streams whose state is kept to ignore late frames.
    /// Default 50.
    pub max_concurrent_reset_streams: usize,
    /// How long that state is kept. Default 1 s.
    pub reset_stream_duration: Duration,
    /// Response bytes buffered per stream before sending waits for the
    /// client's window. Default 400 KiB.
    pub max_send_buffer_size: usize,
}

impl Default for H2Settings {
    fn default() -> Self {
        H2Settings {
            max_concurrent_streams: 100,
            initial_window_size: 1024 * 1024,
            initial_connection_window_size: 4 * 1024 * 1024,
            max_frame_size: 16_384,
            max_header_list_size: 64 * 1024,
            max_pending_accept_reset_streams: 20,
            max_local_error_reset_streams: 1024,
            max_concurrent_reset_streams: 50,
            reset_stream_duration: Duration::from_secs(1),
            max_send_buffer_size: 400 * 1024,
        }
    }
}

/// Largest flow-control window (RFC 9113 §6.9.1).
const MAX_WINDOW: u32 = (1 << 31) - 1;

impl H2Settings {
    /// Why these settings cannot be advertised, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !(16_384..=16_777_215).contains(&self.max_frame_size) {
            return Err("h2 max_frame_size must be 16384..=16777215".into());
        }
        if self.initial_window_size > MAX_WINDOW || self.initial_connection_window_size > MAX_WINDOW
        {
            return Err(format!("h2 windows must be at most {MAX_WINDOW}"));
        }
        if self.max_concurrent_streams == 0 || self.max_header_list_size == 0 {
            return Err("h2 max_concurrent_streams and max_header_list_size must be > 0".into());
        }
        Ok(())
    }

    /// An `h2` server builder with every setting applied.
    pub fn builder(&self) -> h2::server::Builder {
        let mut b = h2::server::Builder::new();
        b.max_concurrent_streams(self.max_concurrent_streams)
            .initial_window_size(self.initial_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_frame_size(self.max_frame_size)
            .max_header_list_size(self.max_header_list_size)
            .max_pending_accept_reset_streams(self.max_pending_accept_reset_streams)
            .max_local_error_reset_streams(Some(self.max_local_error_reset_streams))
            .max_concurrent_reset_streams(self.max_concurrent_reset_streams)
            .reset_stream_duration(self.reset_stream_duration)
            .max_send_buffer_size(self.max_send_buffer_size);
        b
    }
}
