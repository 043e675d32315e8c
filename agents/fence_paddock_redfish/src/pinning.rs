//! TLS for `ssl_ca_file`: a ureq connector whose certificate verifier trusts the CAs in the file
//! and, in addition, a server certificate that is byte-for-byte one of the file's certificates
//! (pinning, as ssh does with host keys).
//!
//! Why: rustls (webpki) refuses a server certificate that is itself a CA, and the self-signed
//! CA:TRUE certificates many BMCs ship are exactly that; putting such a certificate in the CA
//! file must not leave `ssl_insecure` as the only way. A pinned certificate is accepted whatever
//! names and dates it carries (self-signed BMC certificates rarely name the address used); the
//! handshake signature is still checked, so the server must hold the certificate's private key.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
    StreamOwned,
};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// Trust the CAs among `certs` and pin every one of `certs` as a server certificate.
#[derive(Debug)]
pub struct CaOrPinned {
    /// None when no certificate of the file can serve as a trust anchor: pinning only.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl CaOrPinned {
    pub fn new(certs: Vec<CertificateDer<'static>>) -> CaOrPinned {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs.iter().cloned());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .ok();
        CaOrPinned {
            webpki,
            pinned: certs,
            provider,
        }
    }

    pub fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        self.pinned
            .iter()
            .any(|pin| pin.as_ref() == end_entity.as_ref())
    }
}

impl ServerCertVerifier for CaOrPinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.is_pinned(end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        match &self.webpki {
            Some(webpki) => webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Wraps the TCP transport in rustls with our verifier (in place of ureq's RustlsConnector).
pub struct PinningConnector {
    config: Arc<ClientConfig>,
}

impl PinningConnector {
    pub fn new(verifier: CaOrPinned) -> Result<PinningConnector, rustls::Error> {
        let provider = verifier.provider.clone();
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(PinningConnector {
            config: Arc::new(config),
        })
    }
}

impl fmt::Debug for PinningConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinningConnector")
    }
}

impl<In: Transport> Connector<In> for PinningConnector {
    type Out = Either<In, PinnedTls>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .authority()
            .map(|a| a.host())
            .unwrap_or_default();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let name =
            ServerName::try_from(host).map_err(|_| ureq::Error::Tls("invalid server name"))?;
        let mut connection = ClientConnection::new(self.config.clone(), name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        socket.set_timeout(details.timeout);
        connection.complete_io(&mut socket)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(PinnedTls {
            buffers,
            stream: StreamOwned {
                conn: connection,
                sock: socket,
            },
        })))
    }
}

pub struct PinnedTls {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for PinnedTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PinnedTls")
    }
}

impl Transport for PinnedTls {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_certificates_match_byte_for_byte() {
        let pin = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let verifier = CaOrPinned::new(vec![pin.clone()]);
        assert!(verifier.is_pinned(&pin));
        assert!(!verifier.is_pinned(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01])));
        // nothing usable as a CA: unknown certificates are refused, not accepted
        let name = ServerName::try_from("bmc").expect("name");
        let other = CertificateDer::from(vec![1, 2, 3]);
        assert!(verifier
            .verify_server_cert(&other, &[], &name, &[], UnixTime::now())
            .is_err());
        assert!(verifier
            .verify_server_cert(&pin, &[], &name, &[], UnixTime::now())
            .is_ok());
    }
}
