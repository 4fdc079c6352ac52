//! One std-engine connection: protocol detection from the first bytes (per
//! `--protocol`), then HTTP/1.1 through the shared connection task (switching
//! to h2c on `Upgrade: h2c` under `auto`) or h2c through `conn::h2`. A TLS
//! connection goes to `tls` first, which comes back to [`serve_http1`].

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout_at;

use crate::config::Protocol;
use crate::conn::h2::{serve_h2, serve_upgraded, H2Env};
use crate::conn::{serve_h1, H1Session, InBuf, OutBuf, Served, Serving, TaskSocket};
use crate::metrics::Counted;
use crate::proto::detect::{detect, Detected};
use crate::router::Dispatch;

/// Read size while detecting.
const READ_CHUNK: usize = 4096;

/// What every connection of a worker shares.
pub(super) struct ConnEnv {
    /// Protocols accepted.
    pub(super) protocol: Protocol,
    /// Table, settings, counters (shared with h2 streams).
    pub(super) h2: Rc<H2Env>,
    /// The TLS handshake, when the server speaks TLS.
    #[cfg(feature = "tls")]
    pub(super) tls: Option<tokio_rustls::TlsAcceptor>,
}

/// The protocol a connection speaks.
enum Speaks {
    /// HTTP/1.x, with the bytes read so far.
    H1(InBuf),
    /// h2c prior knowledge, with the bytes read so far (preface first).
    H2(InBuf),
}

/// Serves one accepted connection until it closes.
pub(super) async fn serve_conn(
    stream: TcpStream,
    remote: SocketAddr,
    env: &ConnEnv,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    let h2 = &env.h2;
    let _counted = Counted::open(&*h2.tally);
    // One head budget from the accept, for detection (or the TLS
    // handshake) and the first request alike.
    let accepted = Instant::now();
    #[cfg(feature = "tls")]
    if let Some(acceptor) = &env.tls {
        super::tls::serve_tls(stream, remote, env, acceptor, accepted, stop).await;
        return;
    }
    let mut stream = stream;
    let speaks = match env.protocol {
        Protocol::Http1 => Some(Speaks::H1(InBuf::default())),
        Protocol::Auto | Protocol::H2c => first_bytes(&mut stream, env, accepted, &mut stop).await,
    };
    match speaks {
        None => {
            let _ = stream.shutdown().await;
        }
        Some(Speaks::H2(input)) => {
            let prefix = Bytes::copy_from_slice(input.filled());
            serve_h2(stream, prefix, Some(remote), h2.clone(), stop).await;
        }
        Some(Speaks::H1(input)) => {
            let upgrade = env.protocol == Protocol::Auto;
            let served =
                serve_http1(stream, input, remote, env, accepted, upgrade, &mut stop).await;
            if let Served::Upgraded {
                stream,
                rest,
                request,
            } = served
            {
                serve_upgraded(stream, rest, *request, Some(remote), h2.clone(), stop).await;
            }
        }
    }
}

/// Serves HTTP/1.1 on `stream` (plain or TLS) with the shared connection
/// task, from the bytes `input` already read; `accepted` starts the first
/// head's budget, `h2c_upgrade` allows `Upgrade: h2c`.
pub(super) async fn serve_http1<T: TaskSocket>(
    stream: T,
    input: InBuf,
    remote: SocketAddr,
    env: &ConnEnv,
    accepted: Instant,
    h2c_upgrade: bool,
    stop: &mut watch::Receiver<Option<Instant>>,
) -> Served<T> {
    let h2 = &env.h2;
    let with = Serving {
        table: &h2.table,
        cfg: h2.cfg,
        engine: h2.engine,
        arbiter_dispatch: Dispatch::Inline,
        tally: &*h2.tally,
    };
    let mut session = H1Session::with_buffers(&h2.cfg, accepted, input, OutBuf::default());
    if h2c_upgrade {
        session = session.allow_h2c_upgrade();
    }
    serve_h1(stream, session, Some(remote), &with, stop).await
}

/// Reads until the first bytes tell the protocol (within the header
/// timeout); none when they fit no accepted protocol or never came. A
/// shutdown does not cut a fresh connection short: its client has
/// connected and its request may be on the way (as on the loop engines, it
/// is served until its first answer, within the drain deadline).
async fn first_bytes(
    stream: &mut TcpStream,
    env: &ConnEnv,
    accepted: Instant,
    stop: &mut watch::Receiver<Option<Instant>>,
) -> Option<Speaks> {
    let until = tokio::time::Instant::from_std(accepted + env.h2.cfg.header_timeout);
    let mut input = InBuf::default();
    loop {
        match detect(input.filled()) {
            Detected::H2 => return Some(Speaks::H2(input)),
            Detected::H1 if env.protocol == Protocol::Auto => return Some(Speaks::H1(input)),
            // h2c only: the preface or nothing.
            Detected::H1 => return None,
            Detected::NeedMore => {}
        }
        tokio::select! {
            read = timeout_at(until, stream.read(input.spare(READ_CHUNK))) => match read {
                Ok(Ok(n)) if n > 0 => {
                    input.commit(n);
                    env.h2.tally.read(n as u64);
                }
                _ => return None,
            },
            changed = stop.changed() => {
                if changed.is_err() {
                    return None;
                }
            }
        }
    }
}
