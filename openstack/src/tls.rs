//! Which certificates we trust for HTTPS endpoints (`paddock_base::tls`). An OpenStack
//! endpoint's certificate is issued by a CA: plain chain verification against the chosen roots
//! is what clouds need (unlike a BMC's self-signed certificate, which fence_paddock_redfish pins).

use crate::error::Error;
pub use paddock_base::tls::Trust;
use ureq::tls::TlsConfig;

pub(crate) fn tls_config(trust: &Trust) -> Result<TlsConfig, Error> {
    trust.verifying_config().map_err(|e| match trust {
        Trust::CaFile(path) => Error::Config(format!("CA file {}: {e}", path.display())),
        _ => Error::Config(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_ca_file_is_a_config_error_naming_it() {
        let err = tls_config(&Trust::CaFile("/nonexistent/ca.pem".into())).unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m == "CA file /nonexistent/ca.pem: cannot read: entity not found"),
            "{err}"
        );
    }
}
