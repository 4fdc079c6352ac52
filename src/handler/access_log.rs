//! An access-log middleware: one line per request in the Combined Log
//! Format that web servers write (Common Log Format plus referer and user
//! agent), to any writer.
//!
//! # Examples
//!
//! ```
//! use switchyard::handler::AccessLog;
//! use switchyard::Router;
//!
//! let mut router = Router::new();
//! router.use_middleware(AccessLog::new(std::io::stdout()));
//! router.get("/hello", |ctx| { ctx.text("hi"); Ok(()) });
//! // GET /hello from 127.0.0.1 then writes:
//! // 127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /hello HTTP/1.1" 200 2 "-" "curl/8.0"
//! ```

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Ctx, Middleware};
use crate::proto::Version;

/// Writes one Combined Log Format line per request after its handler ran
/// (and after the middleware that runs after it). A write error is ignored:
/// logging never fails a request.
pub struct AccessLog {
    /// Where lines go, one whole line per write.
    out: Mutex<Box<dyn Write + Send>>,
}

impl AccessLog {
    /// A log writing to `out` (stdout, a file, a pipe).
    pub fn new(out: impl Write + Send + 'static) -> Self {
        AccessLog {
            out: Mutex::new(Box::new(out)),
        }
    }
}

impl Middleware for AccessLog {
    fn after(&self, ctx: &mut Ctx<'_>) {
        let line = line(ctx, SystemTime::now());
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = out.write_all(line.as_bytes());
    }
}

/// The log line of the request in `ctx`, answered at `now`.
fn line(ctx: &mut Ctx<'_>, now: SystemTime) -> String {
    let mut l = String::with_capacity(160);
    match ctx.remote_addr() {
        Some(a) => {
            let _ = write!(l, "{}", a.ip());
        }
        None => l.push('-'),
    }
    l.push_str(" - - [");
    clf_date(&mut l, now);
    l.push_str("] \"");
    l.push_str(ctx.method());
    l.push(' ');
    quoted(&mut l, ctx.path());
    if !ctx.raw_query().is_empty() {
        l.push('?');
        quoted(&mut l, ctx.raw_query());
    }
    l.push_str(match ctx.version() {
        Version::Http10 => " HTTP/1.0\" ",
        Version::Http11 => " HTTP/1.1\" ",
        Version::H2 => " HTTP/2.0\" ",
    });
    let referer = ctx.header("referer");
    let agent = ctx.header("user-agent");
    let resp = ctx.response();
    let _ = write!(l, "{} ", resp.status());
    match resp.body().len() {
        0 => l.push('-'),
        n => {
            let _ = write!(l, "{n}");
        }
    }
    for field in [referer, agent] {
        l.push_str(" \"");
        quoted(&mut l, field.unwrap_or("-"));
        l.push('"');
    }
    l.push('\n');
    l
}

/// Appends `s` with `"`, `\` and control bytes escaped, so a client cannot
/// forge a line or a field.
fn quoted(l: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => l.push_str("\\\""),
            '\\' => l.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(l, "\\x{:02x}", u32::from(c));
            }
            c => l.push(c),
        }
    }
}

/// Appends `now` as `10/Oct/2000:13:55:36 +0000` (UTC).
fn clf_date(l: &mut String, now: SystemTime) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        l,
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[month as usize - 1],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

/// The (year, month 1-12, day 1-31) of a count of days since 1970-01-01
/// (the proleptic Gregorian calendar; H. Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn dates_are_in_the_common_log_format() {
        let mut l = String::new();
        clf_date(&mut l, UNIX_EPOCH + Duration::from_secs(971_186_136));
        assert_eq!(l, "10/Oct/2000:13:55:36 +0000");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_788), (2026, 12, 1));
    }

    #[test]
    fn quoted_fields_cannot_forge_a_line() {
        let mut l = String::new();
        quoted(&mut l, "a\"b\\c\nd");
        assert_eq!(l, "a\\\"b\\\\c\\x0ad");
    }
}
