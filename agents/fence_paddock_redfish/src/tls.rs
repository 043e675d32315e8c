//! Which certificates we trust (`stonith::tls`: the system's roots by default, a CA file, or
//! nothing with `ssl_insecure`), as a ureq TLS configuration (rustls).
//!
//! A CA file (`ssl_ca_file`) is PEM with one or more certificates: CA certificates
//! (basicConstraints CA:TRUE) that issued the BMC's certificate, which must then name the address
//! used in `ip` in its subjectAltName; or the BMC's own certificate, pinned (see `pinning`): the
//! way to trust the self-signed CA:TRUE certificates many BMCs ship, which rustls refuses as
//! trust anchors for themselves.

use crate::error::Error;
use std::path::Path;
pub use stonith::tls::Trust;
use ureq::tls::TlsConfig;

pub fn tls_config(trust: &Trust) -> Result<TlsConfig, Error> {
    match trust {
        // verified by pinning::PinningConnector (see http.rs), which reads the file itself
        Trust::CaFile(_) => Ok(stonith::tls::unverified_builder().build()),
        _ => trust
            .verifying_config()
            .map_err(|e| Error::Config(e.to_string())),
    }
}

/// The certificates of `ssl_ca_file` as rustls wants them; an error naming the file.
pub fn read_ca_file_der(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, Error> {
    let certs = stonith::tls::read_ca_file(path)
        .map_err(|e| Error::Config(format!("ssl_ca_file {}: {e}", path.display())))?;
    Ok(certs
        .iter()
        .map(|c| rustls::pki_types::CertificateDer::from(c.der().to_vec()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_ca_file_is_a_config_error_naming_the_parameter_and_file() {
        let err = read_ca_file_der(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m == "ssl_ca_file /nonexistent/ca.pem: cannot read: entity not found"),
            "{err}"
        );
    }
}
