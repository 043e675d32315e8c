//! Which certificates an HTTPS client trusts: the system's roots (by default), the certificates
//! of a PEM file, or none (`ssl_insecure`), for ureq with rustls. The Redfish fence agent and
//! the OpenStack client both offer these three choices; what each does with a CA file is its
//! own (the fence agent also pins a BMC's self-signed certificate with it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

/// The system bundle (Debian's ca-certificates); SSL_CERT_FILE overrides it, as for OpenSSL.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Verify against the system's roots.
    SystemRoots,
    /// Verify against the certificates of this PEM file only.
    CaFile(PathBuf),
    /// Accept any certificate (ssl_insecure).
    Insecure,
}

/// Why a CA file gives no certificate. Its Display names neither the file nor the parameter:
/// the caller says which it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaFileError {
    #[error("cannot read: {0}")]
    Unreadable(std::io::ErrorKind),
    #[error("no PEM certificate (-----BEGIN CERTIFICATE-----) in it")]
    NoCertificate,
}

impl Trust {
    /// A rustls configuration verifying against the chosen roots (a CA file's certificates as
    /// the only roots).
    pub fn verifying_config(&self) -> Result<TlsConfig, CaFileError> {
        let builder = unverified_builder();
        let builder = match self {
            // ureq's own verifier for this case accepts any chain, CA:TRUE leaves included
            Trust::Insecure => builder.disable_verification(true),
            Trust::CaFile(path) => {
                builder.root_certs(RootCerts::Specific(Arc::new(read_ca_file(path)?)))
            }
            Trust::SystemRoots => builder.root_certs(system_roots()),
        };
        Ok(builder.build())
    }
}

/// A rustls configuration builder with nothing chosen yet about trust.
pub fn unverified_builder() -> ureq::tls::TlsConfigBuilder {
    TlsConfig::builder().provider(TlsProvider::Rustls)
}

/// The certificates of a PEM file: at least one, or why not.
pub fn read_ca_file(path: &Path) -> Result<Vec<Certificate<'static>>, CaFileError> {
    let bytes = std::fs::read(path).map_err(|e| CaFileError::Unreadable(e.kind()))?;
    let certs = certificates_in(&bytes);
    if certs.is_empty() {
        return Err(CaFileError::NoCertificate);
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

/// The system's bundle; without one, Mozilla's roots compiled in.
pub fn system_roots() -> RootCerts {
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

    // A syntactically valid PEM block is enough: parsing does not check the DER inside.
    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_ca_file_gives_its_certificates_or_says_why_not() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        write!(file, "junk before\n{PEM}{PEM}").expect("write");
        assert_eq!(read_ca_file(file.path()).map(|c| c.len()), Ok(2));

        let mut empty = tempfile::NamedTempFile::new().expect("temp file");
        write!(empty, "not a certificate").expect("write");
        assert_eq!(
            read_ca_file(empty.path()).map(|c| c.len()),
            Err(CaFileError::NoCertificate)
        );
        let missing = read_ca_file(Path::new("/nonexistent/ca.pem")).map(|c| c.len());
        assert_eq!(
            missing,
            Err(CaFileError::Unreadable(std::io::ErrorKind::NotFound))
        );
        assert_eq!(
            Trust::CaFile("/nonexistent/ca.pem".into())
                .verifying_config()
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "cannot read: entity not found"
        );
    }
}
