//! Chain links: did this issuer sign that certificate, and RegisterCACertificate's proof.

use crate::certificate::{ParsedCertificate, parse_x509};
use crate::error::CaError;
use crate::{names, signature};

/// Does `issuer`'s public key verify `cert`'s signature, and is `cert`'s issuer name
/// `issuer`'s subject (byte for byte, as rustls-webpki compares)? RSA PKCS#1/PSS with
/// SHA-256/384/512 and ECDSA P-256/P-384 are supported; SHA-1 signatures never verify.
pub fn is_signed_by(cert: &ParsedCertificate, issuer: &ParsedCertificate) -> bool {
    let (Ok(cert), Ok(issuer)) = (parse_x509(&cert.der), parse_x509(&issuer.der)) else {
        return false;
    };
    cert.tbs_certificate.issuer.as_raw() == issuer.tbs_certificate.subject.as_raw()
        && signature::verify(
            issuer.public_key(),
            &cert.signature_algorithm,
            &cert.signature_value,
            cert.tbs_certificate.as_ref(),
        )
}

/// RegisterCACertificate's proof of possession: the verification certificate's subject
/// CommonName is `registration_code` and the CA certificate's key signed it.
pub fn check_verification_certificate(
    ca: &ParsedCertificate,
    verification: &ParsedCertificate,
    registration_code: &str,
) -> Result<(), CaError> {
    let x509 = parse_x509(&verification.der)?;
    let common_name = names::common_name(&x509.tbs_certificate.subject);
    if common_name.as_deref() != Some(registration_code) {
        return Err(CaError::invalid(
            "The verification certificate's subject common name must be the registration code",
        ));
    }
    if !is_signed_by(verification, ca) {
        return Err(CaError::invalid(
            "The verification certificate is not signed by the CA certificate's private key",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
