//! Which certificates we trust for HTTPS endpoints: the system's roots, the CAs of a PEM file,
//! or none (`ssl_insecure`).
//!
//! Unlike a BMC's self-signed certificate (fence_paddock_redfish pins those), an OpenStack
//! endpoint's certificate is issued by a CA: plain chain verification against the chosen roots
//! is what clouds need, so this stays a small module of its own.

use crate::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

/// The system bundle (Debian's ca-certificates); SSL_CERT_FILE overrides it, as for OpenSSL.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    SystemRoots,
    /// Only the certificates of this PEM file (OS_CACERT).
    CaFile(PathBuf),
    /// Accept any certificate.
    Insecure,
}

impl Trust {
    pub(crate) fn tls_config(&self) -> Result<TlsConfig, Error> {
        let builder = TlsConfig::builder().provider(TlsProvider::Rustls);
        let builder = match self {
            Trust::Insecure => builder.disable_verification(true),
            Trust::CaFile(path) => {
                builder.root_certs(RootCerts::Specific(Arc::new(read_ca_file(path)?)))
            }
            Trust::SystemRoots => builder.root_certs(system_roots()),
        };
        Ok(builder.build())
    }
}

/// The certificates of a PEM file; an error naming the file when it has none or cannot be read.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Config(format!(
            "CA file {}: cannot read: {}",
            path.display(),
            e.kind()
        ))
    })?;
    let certs = certificates_in(&bytes);
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "CA file {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        )));
    }
    Ok(certs)
}

fn certificates_in(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect()
}

fn system_roots() -> RootCerts {
    let bundle = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| SYSTEM_BUNDLE.into());
    match std::fs::read(&bundle).map(|bytes| certificates_in(&bytes)) {
        Ok(certs) if !certs.is_empty() => RootCerts::Specific(Arc::new(certs)),
        _ => RootCerts::WebPki,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

    #[test]
    fn ca_files_are_read_or_refused_with_their_name() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        write!(file, "comment\n{PEM}").expect("write");
        assert_eq!(read_ca_file(file.path()).map(|c| c.len()), Ok(1));
        let mut empty = tempfile::NamedTempFile::new().expect("temp file");
        write!(empty, "nothing").expect("write");
        let err = read_ca_file(empty.path()).map(|c| c.len()).unwrap_err();
        assert!(matches!(&err, Error::Config(m) if m.contains("no PEM certificate")));
        let missing = Trust::CaFile("/nonexistent/ca.pem".into())
            .tls_config()
            .unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/ca.pem"));
    }
}
