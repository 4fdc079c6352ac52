//! The named choices of a configuration (engine, protocol) and their parsing
//! from text.

use std::fmt;
use std::str::FromStr;
use std::sync::Once;

/// The event-loop engine that serves a connection: what an
/// [`EngineChoice`] resolved to on this machine.
///
/// # Examples
///
/// ```
/// use switchyard::{Config, EngineChoice, EngineKind};
///
/// let resolved = Config { engine: EngineChoice::Adaptive, ..Config::default() }.resolve()?;
/// // The adaptive engine starts on epoll on Linux; it is std elsewhere.
/// let expected = if cfg!(target_os = "linux") { EngineKind::Epoll } else { EngineKind::Std };
/// assert_eq!(resolved.engine, expected);
/// assert_eq!(EngineKind::Std.to_string(), "std");
/// # Ok::<(), switchyard::config::ConfigError>(())
/// ```
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

/// The engine a user asks for; [`Config::resolve`](super::Config::resolve)
/// turns it into the [`EngineKind`] that runs, or says why it cannot run
/// here. Parses from the names `adaptive`, `io-uring`, `epoll` and `std`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchyard::{Config, EngineChoice, EngineKind, Server};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The portable engine runs wherever tokio runs.
/// let config = Config {
///     addr: "127.0.0.1:0".into(),
///     engine: "std".parse::<EngineChoice>()?,
///     ..Config::default()
/// };
/// let handle = Server::new(config).start()?;
/// assert_eq!(handle.info().engine, EngineKind::Std);
/// handle.shutdown(Duration::from_secs(5))?;
///
/// // io_uring resolves on Linux; whether the kernel allows it is probed
/// // when the server starts, and a refusal is an error naming the cause.
/// let config = Config { engine: EngineChoice::IoUring, ..Config::default() };
/// assert_eq!(config.resolve().is_ok(), cfg!(target_os = "linux"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// Moves load between io_uring and epoll from telemetry (Linux default).
    #[default]
    Adaptive,
    /// io_uring only.
    IoUring,
    /// epoll only.
    Epoll,
    /// The portable engine.
    Std,
}

impl EngineChoice {
    /// The engine that will actually run, or why none can.
    pub(crate) fn resolve(self) -> Result<EngineKind, String> {
        match self {
            EngineChoice::Epoll if cfg!(target_os = "linux") => Ok(EngineKind::Epoll),
            EngineChoice::Epoll => {
                Err("engine epoll is not available: it runs on Linux only; use --engine std".into())
            }
            // The adaptive engine starts on epoll (and moves new connections
            // between epoll and io_uring as its controller decides); where
            // there is no epoll it simply is std.
            EngineChoice::Adaptive if cfg!(target_os = "linux") => Ok(EngineKind::Epoll),
            EngineChoice::Adaptive => {
                static SAID: Once = Once::new();
                SAID.call_once(|| {
                    tracing::warn!(
                        "adaptive engine: epoll and io_uring exist on Linux only, so it serves on std only"
                    );
                });
                Ok(EngineKind::Std)
            }
            // Whether the kernel allows io_uring is probed when the engine
            // starts (a refusal then names its cause).
            EngineChoice::IoUring if cfg!(target_os = "linux") => Ok(EngineKind::IoUring),
            EngineChoice::IoUring => Err(
                "engine io-uring is not available: io_uring exists on Linux only; use --engine std"
                    .into(),
            ),
            EngineChoice::Std => Ok(EngineKind::Std),
        }
    }
}

/// Which protocols a connection may speak. Parses from `auto`, `http1`
/// and `h2c`.
///
/// # Examples
///
/// ```
/// use switchyard::{Config, EngineChoice, Protocol};
///
/// // h2c with prior knowledge only (curl --http2-prior-knowledge); the std
/// // engine serves it.
/// let config = Config {
///     engine: EngineChoice::Std,
///     protocol: Protocol::H2c,
///     ..Config::default()
/// };
/// assert!(config.resolve().is_ok());
/// assert_eq!("http1".parse::<Protocol>().unwrap(), Protocol::Http1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// HTTP/1.1 and h2c, told apart by the first bytes.
    #[default]
    Auto,
    /// HTTP/1.x only.
    Http1,
    /// h2c (prior knowledge) only.
    H2c,
}

/// A name that is not one of the accepted choices.
#[derive(Debug)]
pub struct ParseChoiceError {
    /// What was being parsed.
    what: &'static str,
    /// The text given.
    got: String,
    /// The accepted names.
    expected: &'static str,
}

impl fmt::Display for ParseChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?} (expected one of: {})",
            self.what, self.got, self.expected
        )
    }
}

impl std::error::Error for ParseChoiceError {}

impl FromStr for EngineChoice {
    type Err = ParseChoiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "adaptive" => Ok(EngineChoice::Adaptive),
            "io-uring" | "iouring" => Ok(EngineChoice::IoUring),
            "epoll" => Ok(EngineChoice::Epoll),
            "std" => Ok(EngineChoice::Std),
            _ => Err(ParseChoiceError {
                what: "engine",
                got: s.to_owned(),
                expected: "adaptive, io-uring, epoll, std",
            }),
        }
    }
}

impl FromStr for Protocol {
    type Err = ParseChoiceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Protocol::Auto),
            "http1" => Ok(Protocol::Http1),
            "h2c" => Ok(Protocol::H2c),
            _ => Err(ParseChoiceError {
                what: "protocol",
                got: s.to_owned(),
                expected: "auto, http1, h2c",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_uring_resolves_on_linux_and_is_refused_elsewhere() {
        let resolved = EngineChoice::IoUring.resolve();
        if cfg!(target_os = "linux") {
            assert_eq!(resolved, Ok(EngineKind::IoUring));
        } else {
            let err = resolved.unwrap_err();
            assert!(err.contains("Linux only"), "{err}");
        }
    }

    #[test]
    fn adaptive_and_epoll_resolve_to_what_this_platform_runs() {
        let expected = if cfg!(target_os = "linux") {
            EngineKind::Epoll
        } else {
            EngineKind::Std
        };
        assert_eq!(EngineChoice::Adaptive.resolve(), Ok(expected));
        assert_eq!(
            EngineChoice::Epoll.resolve().is_ok(),
            cfg!(target_os = "linux")
        );
    }
}
