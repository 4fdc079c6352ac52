//! Configuration in two layers: [`Config`] is what a user or a command line
//! sets (plain values, names as strings where they come from text), and
//! [`Resolved`] is what the server runs on (addresses resolved, engine chosen,
//! limits grouped). Past [`Config::resolve`] no string decides anything.

mod choice;

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

pub use choice::{EngineChoice, EngineKind, ParseChoiceError, Protocol};

use crate::conn::ConnConfig;
use crate::proto::h1::Limits;
pub use crate::proto::h2::H2Settings;
use crate::router::Dispatch;
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;

/// The server's settings, as a user writes them. Every field has a default a
/// production server would accept.
///
/// # Examples
///
/// A configuration names only what it changes:
///
/// ```
/// use std::time::Duration;
/// use switchyard::{Config, EngineChoice, Protocol};
///
/// let config = Config {
///     addr: "0.0.0.0:8080".into(),
///     engine: EngineChoice::Epoll,
///     protocol: Protocol::Http1,
///     workers: 4,
///     async_handlers: true, // routes that do not choose run off the loop
///     max_body: 1024 * 1024,
///     idle_timeout: Duration::from_secs(15),
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
///
/// Settings that come from text (flags, environment, a file) parse into the
/// typed choices first:
///
/// ```
/// use switchyard::{Config, EngineChoice, Protocol};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = std::env::var("APP_ENGINE").unwrap_or_else(|_| "std".into());
/// let config = Config {
///     engine: engine.parse::<EngineChoice>()?,
///     protocol: "auto".parse::<Protocol>()?,
///     ..Config::default()
/// };
/// assert!("uring".parse::<EngineChoice>().is_err());
/// # let _ = config;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address, `HOST:PORT`; port 0 picks a free port (resolved once,
    /// before the workers bind). Ignored with [`listen_fd`](Self::listen_fd).
    pub addr: String,
    /// Serve on this inherited listening socket (Unix: a descriptor a
    /// supervisor such as systemd, or the previous process, passed down)
    /// instead of binding `addr`; [`systemd_listen_fd`] reads socket
    /// activation's. A resume after a pause binds `addr` afresh.
    pub listen_fd: Option<i32>,
    /// Which engine serves connections.
    pub engine: EngineChoice,
    /// Which protocols a connection may speak (every engine serves all three).
    pub protocol: Protocol,
    /// Event-loop workers; 0 means one per CPU.
    pub workers: usize,
    /// Pin each worker to one CPU.
    pub pin_workers: bool,
    /// Server-wide default dispatch: true makes routes without their own or
    /// their group's setting async.
    pub async_handlers: bool,
    /// Server-wide default dispatch: true makes routes without their own or
    /// their group's setting *learn* theirs
    /// ([`Dispatch::Learn`]: inline while fast, async
    /// for a while after slow runs). Takes precedence over
    /// [`async_handlers`](Self::async_handlers).
    ///
    /// ```
    /// let config = switchyard::Config { learn_dispatch: true, ..Default::default() };
    /// let resolved = config.resolve().unwrap();
    /// assert_eq!(resolved.default_dispatch, switchyard::Dispatch::Learn);
    /// ```
    pub learn_dispatch: bool,
    /// Largest accepted request body, in bytes (larger: 413).
    pub max_body: u64,
    /// Longest request line (larger: 414).
    pub max_request_line: usize,
    /// Largest header block (larger: 431).
    pub max_header_block: usize,
    /// Most header fields in one request (more: 431).
    pub max_headers: usize,
    /// Time allowed from a request head's first byte to its end (slowloris).
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests (and
    /// the longest pause inside a request body).
    pub idle_timeout: Duration,
    /// The longest a request body may take in all, from the end of its head.
    pub body_timeout: Duration,
    /// How long a response may wait for a client that does not read.
    pub write_timeout: Duration,
    /// Response bytes a connection may have queued before it stops answering
    /// (and reading) pipelined requests until the client takes them.
    pub max_pending_output: usize,
    /// Request bytes a connection may hold ahead of its answers.
    pub max_pending_input: usize,
    /// Default grace period for in-flight requests at shutdown.
    pub shutdown_grace: Duration,
    /// h2c settings and abuse limits.
    pub h2: H2Settings,
    /// The adaptive engine's connections per worker (mean over the workers
    /// of the engine new connections go to) from which, sustained, new
    /// connections move to io_uring (twice as many move them at once);
    /// `None`: the engine's own (see docs/engines.md).
    pub adaptive_up: Option<u32>,
    /// The adaptive engine's connections per worker under which, sustained,
    /// new connections go back to epoll; below `adaptive_up`. `None`: the
    /// engine's own.
    pub adaptive_down: Option<u32>,
    /// Serve TLS on the listen address (ALPN: `h2` and `http/1.1`) instead
    /// of plaintext. TLS is served by the std engine: with it,
    /// [`EngineChoice::Adaptive`] runs the std engine, and `Epoll` or
    /// `IoUring` refuse to start.
    #[cfg(feature = "tls")]
    pub tls: Option<TlsConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:8080".to_owned(),
            listen_fd: None,
            engine: EngineChoice::default(),
            protocol: Protocol::Auto,
            workers: 0,
            pin_workers: false,
            async_handlers: false,
            learn_dispatch: false,
            max_body: 100 * 1024 * 1024,
            max_request_line: 8 * 1024,
            max_header_block: 16 * 1024,
            max_headers: crate::proto::h1::MAX_HEADERS,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            max_pending_output: 4 * 1024 * 1024,
            max_pending_input: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
            h2: H2Settings::default(),
            adaptive_up: None,
            adaptive_down: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// The adaptive engine's load thresholds, in connections per worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveSettings {
    /// Sustained at or above it, new connections move to io_uring.
    pub up: u32,
    /// Sustained below it, new connections go back to epoll.
    pub down: u32,
}

impl AdaptiveSettings {
    /// The engine's own thresholds (the reference policy's; see
    /// docs/engines.md).
    pub const DEFAULT: AdaptiveSettings = AdaptiveSettings { up: 24, down: 12 };
}

/// A configuration that cannot run.
#[derive(Debug)]
pub struct ConfigError(String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The listening socket systemd passed by socket activation, if this
/// process was started so: `LISTEN_PID` names this process and `LISTEN_FDS`
/// is at least 1 (the first passed descriptor, 3, is used).
///
/// # Examples
///
/// ```
/// let config = switchyard::Config {
///     listen_fd: switchyard::config::systemd_listen_fd(),
///     ..switchyard::Config::default()
/// };
/// # assert!(config.listen_fd.is_none(), "not started by systemd here");
/// ```
pub fn systemd_listen_fd() -> Option<i32> {
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.parse().ok()?;
    let fds: u32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    (pid == std::process::id() && fds >= 1).then_some(3)
}

/// The settings a running server uses.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The listen address (a concrete port once the engine has bound).
    pub addr: SocketAddr,
    /// An inherited listening socket to serve on instead of binding `addr`.
    pub listen_fd: Option<i32>,
    /// The engine chosen.
    pub engine: EngineKind,
    /// Protocols accepted.
    pub protocol: Protocol,
    /// Number of workers.
    pub workers: usize,
    /// Pin workers to CPUs.
    pub pin_workers: bool,
    /// Server default dispatch.
    pub default_dispatch: Dispatch,
    /// What every connection obeys.
    pub conn: ConnConfig,
    /// Default shutdown grace.
    pub shutdown_grace: Duration,
    /// h2c settings.
    pub h2: H2Settings,
    /// Set when the adaptive engine runs (`engine` is then the engine it
    /// starts on, epoll): its controller's thresholds.
    pub adaptive: Option<AdaptiveSettings>,
    /// TLS, its ALPN set for `protocol`; none for plaintext.
    #[cfg(feature = "tls")]
    pub tls: Option<TlsConfig>,
}

impl Config {
    /// Validates and resolves the configuration: what
    /// [`Server::start`](crate::Server::start) does first, so a
    /// configuration can be checked before anything binds.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchyard::{Config, EngineChoice, EngineKind, Protocol};
    ///
    /// let config = Config { addr: "127.0.0.1:0".into(), engine: EngineChoice::Std, ..Config::default() };
    /// let resolved = config.resolve()?;
    /// assert_eq!(resolved.engine, EngineKind::Std);
    /// assert!(resolved.workers >= 1); // 0 became one per CPU
    ///
    /// let too_few = Config { max_headers: 0, protocol: Protocol::H2c, ..Config::default() };
    /// let err = too_few.resolve().unwrap_err();
    /// assert!(err.to_string().contains("max_headers"), "{err}");
    /// # Ok::<(), switchyard::config::ConfigError>(())
    /// ```
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let addr = self
            .addr
            .to_socket_addrs()
            .map_err(|e| ConfigError(format!("listen address {:?}: {e}", self.addr)))?
            .next()
            .ok_or_else(|| {
                ConfigError(format!(
                    "listen address {:?} resolves to nothing",
                    self.addr
                ))
            })?;
        let engine = self.resolve_engine()?;
        self.h2.validate().map_err(ConfigError)?;
        let adaptive = self.adaptive_settings()?;
        if self.max_headers == 0 || self.max_headers > crate::proto::h1::MAX_HEADERS {
            return Err(ConfigError(format!(
                "max_headers must be 1..={}",
                crate::proto::h1::MAX_HEADERS
            )));
        }
        let workers = match self.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let limits = Limits {
            max_request_line: self.max_request_line,
            max_header_block: self.max_header_block,
            max_headers: self.max_headers,
            max_body: self.max_body,
            ..Limits::default()
        };
        Ok(Resolved {
            addr,
            listen_fd: self.listen_fd,
            engine,
            protocol: self.protocol,
            workers,
            pin_workers: self.pin_workers,
            default_dispatch: if self.learn_dispatch {
                Dispatch::Learn
            } else if self.async_handlers {
                Dispatch::Async
            } else {
                Dispatch::Inline
            },
            conn: ConnConfig {
                limits,
                header_timeout: self.header_timeout,
                idle_timeout: self.idle_timeout,
                body_timeout: self.body_timeout,
                linger_timeout: ConnConfig::default().linger_timeout,
                write_timeout: self.write_timeout,
                max_pending_output: self.max_pending_output,
                max_pending_input: self.max_pending_input,
            },
            shutdown_grace: self.shutdown_grace,
            h2: self.h2,
            adaptive,
            #[cfg(feature = "tls")]
            tls: self.tls.as_ref().map(|t| t.for_protocol(self.protocol)),
        })
    }

    /// The engine that runs: TLS is served by the std engine only.
    fn resolve_engine(&self) -> Result<EngineKind, ConfigError> {
        #[cfg(feature = "tls")]
        if self.tls.is_some() {
            return match self.engine {
                EngineChoice::Std => Ok(EngineKind::Std),
                EngineChoice::Adaptive => {
                    tracing::info!("TLS is served by the std engine: the adaptive engine runs std");
                    Ok(EngineKind::Std)
                }
                EngineChoice::Epoll | EngineChoice::IoUring => Err(ConfigError(
                    "TLS is served by the std engine; use --engine std".into(),
                )),
            };
        }
        self.engine.resolve().map_err(ConfigError)
    }

    /// The adaptive engine's thresholds when it runs (on Linux), checked.
    fn adaptive_settings(&self) -> Result<Option<AdaptiveSettings>, ConfigError> {
        #[cfg(feature = "tls")]
        let tls = self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let tls = false;
        // With TLS the std engine serves (see `resolve_engine`).
        let adaptive = self.engine == EngineChoice::Adaptive && cfg!(target_os = "linux") && !tls;
        if !adaptive {
            return Ok(None);
        }
        let up = self.adaptive_up.unwrap_or(AdaptiveSettings::DEFAULT.up);
        let down = self
            .adaptive_down
            .unwrap_or(AdaptiveSettings::DEFAULT.down.min(up.saturating_sub(1)));
        if up == 0 || down >= up {
            return Err(ConfigError(format!(
                "adaptive thresholds: up ({up}) must be at least 1 and above down ({down})"
            )));
        }
        Ok(Some(AdaptiveSettings { up, down }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive(up: Option<u32>, down: Option<u32>) -> Result<Resolved, ConfigError> {
        Config {
            addr: "127.0.0.1:0".into(),
            engine: EngineChoice::Adaptive,
            adaptive_up: up,
            adaptive_down: down,
            ..Config::default()
        }
        .resolve()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn adaptive_thresholds_default_to_the_engines_own_and_are_checked() {
        let r = adaptive(None, None).unwrap();
        assert_eq!(r.engine, EngineKind::Epoll);
        assert_eq!(r.adaptive, Some(AdaptiveSettings::DEFAULT));
        let low = adaptive(Some(2), None).unwrap().adaptive;
        assert_eq!(low, Some(AdaptiveSettings { up: 2, down: 1 }));
        assert!(adaptive(Some(4), Some(4)).is_err());
        assert!(adaptive(Some(0), Some(0)).is_err());
        let epoll = Config {
            engine: EngineChoice::Epoll,
            adaptive_up: Some(2),
            ..Config::default()
        };
        assert_eq!(epoll.resolve().unwrap().adaptive, None);
    }
}
