//! A std-engine TLS connection: the handshake (within the header timeout,
//! cut short at a shutdown's deadline), then ALPN picks the h2 path of
//! `conn::h2` or the HTTP/1.1 task driver over a `TlsSocket`.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::sleep_until;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::conn::{serve_http1, ConnEnv};
use crate::config::Protocol;
use crate::conn::h2::serve_h2;
use crate::conn::InBuf;
use crate::tls::{TlsSocket, ALPN_H2};

/// Serves one accepted TLS connection until it closes; `accepted` starts
/// the budget of the handshake and the first request head together.
pub(super) async fn serve_tls(
    stream: TcpStream,
    remote: SocketAddr,
    env: &ConnEnv,
    acceptor: &TlsAcceptor,
    accepted: Instant,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    let until = accepted + env.h2.cfg.header_timeout;
    let Some(tls) = handshake(stream, remote, acceptor, until, &mut stop).await else {
        return;
    };
    let h2 = match tls.get_ref().1.alpn_protocol() {
        Some(proto) => proto == ALPN_H2,
        // No ALPN: HTTP/1.1, or h2 with prior knowledge where only h2 is
        // served.
        None => env.protocol == Protocol::H2c,
    };
    if h2 {
        serve_h2(tls, Bytes::new(), Some(remote), env.h2.clone(), stop).await;
        return;
    }
    let (tcp, conn) = tls.into_inner();
    let socket = TlsSocket::new(conn, tcp);
    // An h2c upgrade is not offered over TLS (ALPN chose the protocol).
    serve_http1(
        socket,
        InBuf::default(),
        remote,
        env,
        accepted,
        false,
        &mut stop,
    )
    .await;
}

/// Completes the handshake by `until` (or the shutdown deadline, if
/// earlier); none when it failed, timed out or the worker is gone. A
/// failure is logged with its peer and cause.
async fn handshake(
    stream: TcpStream,
    remote: SocketAddr,
    acceptor: &TlsAcceptor,
    until: Instant,
    stop: &mut watch::Receiver<Option<Instant>>,
) -> Option<TlsStream<TcpStream>> {
    let accept = acceptor.accept(stream);
    tokio::pin!(accept);
    loop {
        let deadline = stop.borrow().map_or(until, |hard| hard.min(until));
        tokio::select! {
            done = &mut accept => {
                return match done {
                    Ok(tls) => Some(tls),
                    Err(e) => {
                        tracing::debug!(peer = %remote, error = %e, "TLS handshake failed");
                        None
                    }
                };
            }
            () = sleep_until(tokio::time::Instant::from_std(deadline)) => {
                tracing::debug!(peer = %remote, "TLS handshake timed out");
                return None;
            }
            changed = stop.changed() => {
                if changed.is_err() {
                    return None;
                }
            }
        }
    }
}
