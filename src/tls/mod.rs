//! TLS (feature `tls`): [`TlsConfig`], the certificate chain and key a
//! server presents, read from PEM files; and `TlsSocket`, rustls's
//! connection over a non-blocking socket, so the drivers of `conn` serve
//! HTTP/1.1 over TLS exactly as over TCP. The std engine serves TLS: it
//! completes the handshake, then ALPN picks its h2 or its HTTP/1.1 path.

mod socket;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub(crate) use socket::TlsSocket;

use crate::config::Protocol;

/// ALPN name of HTTP/2.
pub(crate) const ALPN_H2: &[u8] = b"h2";
/// ALPN name of HTTP/1.1.
pub(crate) const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The TLS a server speaks: its certificate chain and private key (TLS 1.3
/// and 1.2, rustls on the ring provider). ALPN offers `h2` and `http/1.1`
/// (as [`Config::protocol`](crate::Config::protocol) allows); a client that
/// sends no ALPN speaks HTTP/1.1.
///
/// # Examples
///
/// ```no_run
/// use switchyard::tls::TlsConfig;
/// use switchyard::{Config, EngineChoice};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config {
///     addr: "0.0.0.0:8443".into(),
///     engine: EngineChoice::Std, // TLS is served by the std engine
///     tls: Some(TlsConfig::from_pem_files("cert.pem", "key.pem")?),
///     ..Config::default()
/// };
/// # let _ = config;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    /// rustls's settings, ALPN not yet set.
    server: Arc<ServerConfig>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("versions", &"TLS 1.3, TLS 1.2")
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Reads the certificate chain (PEM, leaf first) and the private key
    /// (PEM: PKCS#8, PKCS#1 or SEC1) from two files.
    ///
    /// # Errors
    ///
    /// A file that cannot be read, holds no certificate or no key, or a key
    /// that does not fit the certificate; the error names the file.
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let chain = read_file(cert)?;
        let secret = read_file(key)?;
        Self::build(&chain, &secret, Some(cert), Some(key))
    }

    /// As [`from_pem_files`](Self::from_pem_files), from PEM text in memory.
    ///
    /// # Errors
    ///
    /// No certificate, no key, or a key that does not fit the certificate.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<TlsConfig, TlsError> {
        Self::build(cert, key, None, None)
    }

    /// The config from PEM bytes; the paths name the sources in errors.
    fn build(
        cert_pem: &[u8],
        key_pem: &[u8],
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<TlsConfig, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::at(cert, "certificate", format!("invalid PEM: {e}")))?;
        if chain.is_empty() {
            return Err(TlsError::at(
                cert,
                "certificate",
                "no CERTIFICATE block found".into(),
            ));
        }
        let secret = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| TlsError::at(key, "private key", format!("no usable private key: {e}")))?;
        let server = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::at(None, "TLS settings", e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, secret)
            .map_err(|e| TlsError::at(key, "private key", e.to_string()))?;
        Ok(TlsConfig {
            server: Arc::new(server),
        })
    }

    /// The same for a server accepting `protocol`: ALPN offers `h2` and
    /// `http/1.1` under `auto`, one of them otherwise.
    pub(crate) fn for_protocol(&self, protocol: Protocol) -> TlsConfig {
        let mut server = (*self.server).clone();
        server.alpn_protocols = match protocol {
            Protocol::Auto => vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()],
            Protocol::Http1 => vec![ALPN_HTTP1.to_vec()],
            Protocol::H2c => vec![ALPN_H2.to_vec()],
        };
        TlsConfig {
            server: Arc::new(server),
        }
    }

    /// rustls's settings.
    pub(crate) fn server(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }
}

/// Reads a whole PEM file.
fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError {
        path: Some(path.to_owned()),
        what: "file",
        why: e.to_string(),
    })
}

/// Why a [`TlsConfig`] could not be built; its Display names the file.
#[derive(Debug)]
pub struct TlsError {
    /// The file at fault, when there was one.
    path: Option<PathBuf>,
    /// What was being read.
    what: &'static str,
    /// What went wrong.
    why: String,
}

impl TlsError {
    /// An error about `what` from `path`.
    fn at(path: Option<&Path>, what: &'static str, why: String) -> Self {
        TlsError {
            path: path.map(Path::to_owned),
            what,
            why,
        }
    }

    /// The file at fault, if the error came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "TLS {} {}: {}", self.what, p.display(), self.why),
            None => write!(f, "TLS {}: {}", self.what, self.why),
        }
    }
}

impl std::error::Error for TlsError {}
