//! Which certificates we trust: the system's roots (by default), a CA file, or nothing
//! (`ssl_insecure`), as a ureq TLS configuration (rustls).
//!
//! A CA file (`ssl_ca_file`) is PEM with one or more certificates: CA certificates
//! (basicConstraints CA:TRUE) that issued the BMC's certificate, which must then name the address
//! used in `ip` in its subjectAltName; or the BMC's own certificate, pinned (see `pinning`): the
//! way to trust the self-signed CA:TRUE certificates many BMCs ship, which rustls refuses as
//! trust anchors for themselves.

use crate::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

/// The system bundle (Debian's ca-certificates); SSL_CERT_FILE overrides it, as for OpenSSL.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Verify against the system's roots.
    SystemRoots,
    /// Verify against the CAs in this PEM file only.
    CaFile(PathBuf),
    /// Accept any certificate (ssl_insecure).
    Insecure,
}

impl Trust {
    pub fn tls_config(&self) -> Result<TlsConfig, Error> {
        let builder = TlsConfig::builder().provider(TlsProvider::Rustls);
        let builder = match self {
            // ureq's own verifier for this case accepts any chain, CA:TRUE leaves included
            Trust::Insecure => builder.disable_verification(true),
            // verified by pinning::PinningConnector (see http.rs), which reads the file itself
            Trust::CaFile(_) => builder,
            Trust::SystemRoots => builder.root_certs(system_roots()),
        };
        Ok(builder.build())
    }
}

/// The certificates of a PEM file; an error naming the file when it has none or cannot be read.
pub fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Config(format!(
            "ssl_ca_file {}: cannot read: {}",
            path.display(),
            e.kind()
        ))
    })?;
    let certs = certificates_in(&bytes);
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "ssl_ca_file {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            path.display()
        )));
    }
    Ok(certs)
}

/// The certificates of a PEM file as rustls wants them.
pub fn read_ca_file_der(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, Error> {
    Ok(read_ca_file(path)?
        .iter()
        .map(|c| rustls::pki_types::CertificateDer::from(c.der().to_vec()))
        .collect())
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
        // no system bundle: Mozilla's roots compiled in
        _ => RootCerts::WebPki,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // A syntactically valid PEM block is enough: parsing does not check the DER inside.
    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

    #[test]
    fn ca_file_with_certificates_is_read() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        write!(file, "junk before\n{PEM}{PEM}").expect("write");
        assert_eq!(read_ca_file(file.path()).map(|c| c.len()), Ok(2));
    }

    #[test]
    fn ca_file_without_certificates_is_a_config_error() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        write!(file, "not a certificate").expect("write");
        let err = read_ca_file(file.path()).map(|c| c.len()).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains("no PEM certificate")),
            "{err}"
        );
        let missing = read_ca_file(Path::new("/nonexistent/ca.pem"))
            .map(|c| c.len())
            .unwrap_err();
        assert!(
            matches!(&missing, Error::Config(m) if m.contains("cannot read")),
            "{missing}"
        );
    }
}
