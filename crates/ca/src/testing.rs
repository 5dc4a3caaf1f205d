//! Certificates for tests and benchmarks (this crate's and other crates'): test CAs, leaves,
//! verification certificates and CSRs, as PEM strings. The helpers panic on failure: they
//! are for tests, where a panic is the clearest report.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
};

use crate::certificate::{ParsedCertificate, parse_certificate_pem};
use crate::names;
use crate::time::{AWS_DEVICE_NOT_AFTER_MS, from_ms};

/// A fixed RSA 2048 test key (PKCS#8), generated once with `openssl genpkey`: ring signs with
/// RSA keys but cannot generate them. Every RSA test certificate shares it.
pub const RSA_2048_KEY_PEM: &str = include_str!("../tests/fixtures/rsa2048-key.pem");
/// A self-signed RSA 1024 CA certificate made with `openssl req -x509` (key discarded), for
/// weak-key checks: ring refuses to sign or verify with keys this small.
pub const RSA_1024_SELF_SIGNED_PEM: &str =
    include_str!("../tests/fixtures/rsa1024-self-signed.pem");
/// 2020-01-01T00:00:00Z, the default notBefore of test certificates.
pub const TEST_NOT_BEFORE_MS: i64 = 1_577_836_800_000;
/// 2049-12-31T23:59:59Z, the default notAfter of test certificates.
pub const TEST_NOT_AFTER_MS: i64 = AWS_DEVICE_NOT_AFTER_MS;

/// A certificate and its private key (PKCS#8 PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCert {
    pub fn parsed(&self) -> ParsedCertificate {
        parse_certificate_pem(&self.cert_pem).expect("test certificate parses")
    }
}

/// A CSR and its private key (PKCS#8 PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCsr {
    pub csr_pem: String,
    pub key_pem: String,
}

/// The key a test certificate gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    EcdsaP256,
    EcdsaP384,
    /// [`RSA_2048_KEY_PEM`], signing with sha256WithRSAEncryption.
    Rsa2048,
}

/// What goes in a test certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSpec {
    /// (AWS attribute name, value): ("CommonName", "dev-1"), ("Organization", "Acme"), ...
    pub subject: Vec<(String, String)>,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    pub key: TestKey,
    pub is_ca: bool,
    /// DNS names or IP addresses for the SAN.
    pub san: Vec<String>,
}

impl CertSpec {
    /// A P-256 leaf with this CommonName, valid 2020-01-01 to 2049-12-31T23:59:59Z.
    pub fn new(common_name: &str) -> CertSpec {
        CertSpec {
            subject: vec![("CommonName".to_string(), common_name.to_string())],
            not_before_ms: TEST_NOT_BEFORE_MS,
            not_after_ms: TEST_NOT_AFTER_MS,
            key: TestKey::EcdsaP256,
            is_ca: false,
            san: Vec::new(),
        }
    }

    pub fn ca(common_name: &str) -> CertSpec {
        CertSpec {
            is_ca: true,
            ..CertSpec::new(common_name)
        }
    }
}

/// A self-signed P-256 CA certificate.
pub fn self_signed_ca(common_name: &str) -> TestCert {
    self_signed(&CertSpec::ca(common_name))
}

/// A P-256 leaf signed by `ca`, with this CommonName and validity.
pub fn issue_cert(
    ca: &TestCert,
    common_name: &str,
    not_before_ms: i64,
    not_after_ms: i64,
) -> TestCert {
    issue(
        ca,
        &CertSpec {
            not_before_ms,
            not_after_ms,
            ..CertSpec::new(common_name)
        },
    )
}

/// RegisterCACertificate's verification certificate: CN = the registration code, signed by `ca`.
pub fn verification_cert(ca: &TestCert, registration_code: &str) -> TestCert {
    issue(ca, &CertSpec::new(registration_code))
}

/// A P-256 CSR with this CommonName.
pub fn csr(common_name: &str) -> TestCsr {
    csr_with(&CertSpec::new(common_name))
}

/// A self-signed certificate as `spec` says.
pub fn self_signed(spec: &CertSpec) -> TestCert {
    let key = key_pair(spec.key);
    let cert = params(spec)
        .self_signed(&key)
        .expect("self-signed test certificate");
    TestCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A certificate as `spec` says, signed by `ca`.
pub fn issue(ca: &TestCert, spec: &CertSpec) -> TestCert {
    let ca_key = KeyPair::from_pem(&ca.key_pem).expect("test CA key loads");
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key).expect("test CA certificate loads");
    let key = key_pair(spec.key);
    let cert = params(spec)
        .signed_by(&key, &issuer)
        .expect("issued test certificate");
    TestCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A CSR with `spec`'s subject, key and SAN (validity and CA flag do not apply).
pub fn csr_with(spec: &CertSpec) -> TestCsr {
    let key = key_pair(spec.key);
    let mut params = params(spec);
    params.is_ca = IsCa::NoCa;
    params.key_usages.clear();
    params.extended_key_usages.clear();
    params.use_authority_key_identifier_extension = false;
    let csr = params.serialize_request(&key).expect("test CSR");
    TestCsr {
        csr_pem: csr.pem().expect("test CSR PEM"),
        key_pem: key.serialize_pem(),
    }
}

fn key_pair(key: TestKey) -> KeyPair {
    match key {
        TestKey::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
        TestKey::EcdsaP384 => KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384),
        TestKey::Rsa2048 => KeyPair::from_pem(RSA_2048_KEY_PEM),
    }
    .expect("test key pair")
}

fn params(spec: &CertSpec) -> CertificateParams {
    let mut params = CertificateParams::new(spec.san.clone()).expect("test SAN entries are valid");
    params.distinguished_name = subject(&spec.subject);
    params.not_before = from_ms(spec.not_before_ms).expect("test notBefore");
    params.not_after = from_ms(spec.not_after_ms).expect("test notAfter");
    params.use_authority_key_identifier_extension = true;
    if spec.is_ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    } else {
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    params
}

fn subject(fields: &[(String, String)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (name, value) in fields {
        let dotted = names::oid_of_aws_name(name)
            .unwrap_or_else(|| panic!("unknown subject attribute {name:?}"));
        let oid: Vec<u64> = dotted
            .split('.')
            .map(|arc| arc.parse().expect("OID arc"))
            .collect();
        dn.push(DnType::from_oid(&oid), value.as_str());
    }
    dn
}
