//! `DateCache`: the `date` header value, formatted once per second.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
const IMF_FIXDATE_LEN: usize = 29;

/// Last second httpdate can format (9999-12-31T23:59:59Z).
const MAX_SECS: u64 = 253_402_300_799;

/// The current time as an IMF-fixdate (RFC 9110 §5.6.7), re-formatted only
/// when the second changes. The caller reads the clock and passes the time in.
#[derive(Clone, Debug)]
pub struct DateCache {
    /// Seconds since the epoch that `bytes` shows.
    secs: u64,
    /// The formatted date, always `GMT`.
    bytes: [u8; IMF_FIXDATE_LEN],
}

/// Whole seconds since the epoch, clamped to what an IMF-fixdate can show.
fn epoch_secs(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(MAX_SECS)
}

impl DateCache {
    /// A cache showing `now`.
    pub fn new(now: SystemTime) -> Self {
        let mut cache = DateCache {
            secs: 0,
            bytes: [0; IMF_FIXDATE_LEN],
        };
        cache.render(epoch_secs(now));
        cache
    }

    /// Moves the cache to `now`; formats only if the second differs.
    pub fn update(&mut self, now: SystemTime) {
        let secs = epoch_secs(now);
        if secs != self.secs {
            self.render(secs);
        }
    }

    /// The formatted date (29 bytes).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Formats `secs` into the fixed buffer, without allocating.
    fn render(&mut self, secs: u64) {
        let date = httpdate::HttpDate::from(UNIX_EPOCH + Duration::from_secs(secs));
        let mut out: &mut [u8] = &mut self.bytes;
        let written = write!(out, "{date}");
        debug_assert!(written.is_ok() && out.is_empty(), "IMF-fixdate is 29 bytes");
        self.secs = secs;
    }
}
