//! Fleetward's certificate authority and the X.509 reading the IoT registry needs.
//!
//! - [`CertificateAuthority`]: the CA on disk (root, issuing CA, the gateway's server
//!   certificate); CreateKeysAndCertificate and CreateCertificateFromCsr.
//! - [`parse_certificate_pem`]: a certificate as the registry stores it, id = SHA-256 of the DER.
//! - [`is_signed_by`], [`check_verification_certificate`], [`new_registration_code`]: CA
//!   registration and chain checks.
//! - [`testing`]: certificates for tests and benchmarks.
//!
//! Choices:
//! - Every key we generate is ECDSA P-256 (ring generates it in microseconds and every TLS
//!   stack devices use accepts it; ring cannot generate RSA). CSRs may carry RSA 2048-8192 or
//!   ECDSA P-256/P-384 keys.
//! - Device certificates (CreateKeysAndCertificate, CreateCertificateFromCsr) are valid from
//!   the request time to 2049-12-31T23:59:59Z, the notAfter AWS IoT puts on its own; the
//!   default subject is CN=AWS IoT Certificate, as AWS's.
//! - Private keys are PKCS#8 PEM ("PRIVATE KEY"); public keys SubjectPublicKeyInfo PEM.
//! - All cryptography is ring's (one crypto library in the build). Time is always passed in
//!   as epoch milliseconds, so the project's movable clock decides validity.

mod authority;
mod certificate;
mod csr;
mod error;
mod files;
mod key_info;
mod names;
mod pem;
mod profiles;
mod registration;
mod signature;
mod time;
mod verify;

pub mod testing;

#[cfg(test)]
mod openssl_tests;

pub use authority::{
    CertificateAuthority, ISSUING_CERT_FILE, ISSUING_KEY_FILE, IssuedKeys, ROOT_CERT_FILE,
    ROOT_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE,
};
pub use certificate::{ParsedCertificate, parse_certificate_der, parse_certificate_pem};
pub use error::{CaError, CaErrorKind};
pub use key_info::{PublicKeyInfo, RsaPublicKey};
pub use profiles::{DEVICE_COMMON_NAME, SERVER_RENEW_BEFORE_MS};
pub use registration::new_registration_code;
pub use time::AWS_DEVICE_NOT_AFTER_MS;
pub use verify::{check_verification_certificate, is_signed_by};
