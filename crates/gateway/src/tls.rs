//! TLS for the gateway: the server certificate from Fleetward's CA, and a client-certificate
//! verifier that asks the registry instead of a fixed trust store.
//!
//! AWS IoT accepts certificates from registered CAs and CA-less ("SNI_ONLY") registrations
//! alike, so a WebPKI chain check does not fit: the verifier hashes the presented certificate
//! (its SHA-256 is the AWS certificate id) and lets it in only if the registry says it is
//! registered, ACTIVE, within its validity and, if it has one, its CA is ACTIVE. The handshake
//! signature (CertificateVerify) is still checked by rustls with the certificate's key, which
//! proves the device holds the private key.

use std::sync::Arc;

use fleetward_ca::CertificateAuthority;
use fleetward_model::Clock;
use fleetward_registry::{CertId, Refusal, Registry};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime, pem::PemObject};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme,
};
use sha2::{Digest, Sha256};

/// Checks client certificates against the registry.
pub struct RegistryClientVerifier {
    registry: Arc<Registry>,
    clock: Arc<dyn ClockDebug>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// A clock the verifier can hold (rustls wants its verifiers `Debug`).
pub trait ClockDebug: Clock + std::fmt::Debug {}
impl<T: Clock + std::fmt::Debug> ClockDebug for T {}

impl std::fmt::Debug for RegistryClientVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistryClientVerifier")
    }
}

impl RegistryClientVerifier {
    pub fn new(
        registry: Arc<Registry>,
        clock: Arc<dyn ClockDebug>,
        provider: &CryptoProvider,
    ) -> Self {
        Self {
            registry,
            clock,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

/// The AWS certificate id of a DER certificate.
pub fn certificate_id(der: &[u8]) -> CertId {
    CertId(Sha256::digest(der).into())
}

impl ClientCertVerifier for RegistryClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let id = certificate_id(end_entity.as_ref());
        match self.registry.identify(&id, self.clock.now_ms()) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(refusal) => {
                tracing::debug!(certificate_id = %id, ?refusal, "Client certificate refused.");
                Err(rustls::Error::InvalidCertificate(match refusal {
                    Refusal::OutsideValidity => CertificateError::Expired,
                    Refusal::NotActive(_) | Refusal::CaNotActive => CertificateError::Revoked,
                    Refusal::Unknown | Refusal::Ambiguous => CertificateError::UnknownIssuer,
                }))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The gateway's TLS configuration: TLS 1.2 and 1.3, the server chain from the CA, client
/// certificates mandatory and checked by [`RegistryClientVerifier`].
pub fn server_config(
    ca: &CertificateAuthority,
    registry: Arc<Registry>,
    clock: Arc<dyn ClockDebug>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(ca.server_chain_pem().as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("the server certificate chain is unreadable: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(ca.server_key_pem().as_bytes())
        .map_err(|e| format!("the server key is unreadable: {e}"))?;
    let verifier = Arc::new(RegistryClientVerifier::new(registry, clock, &provider));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("the server certificate does not fit its key: {e}"))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
