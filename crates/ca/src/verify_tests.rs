use rcgen::{CertificateParams, DistinguishedName, DnType, Issuer, KeyPair};

use super::*;
use crate::CaErrorKind;
use crate::parse_certificate_der;
use crate::testing::{self, CertSpec, TestKey};

fn leaf(ca: &testing::TestCert, key: TestKey) -> ParsedCertificate {
    testing::issue(
        ca,
        &CertSpec {
            key,
            ..CertSpec::new("leaf")
        },
    )
    .parsed()
}

#[test]
fn ecdsa_chains_verify_and_strangers_do_not() {
    let ca = testing::self_signed_ca("CA");
    let same_name_other_key = testing::self_signed_ca("CA");
    let device = leaf(&ca, TestKey::EcdsaP256);
    assert!(is_signed_by(&device, &ca.parsed()));
    assert!(!is_signed_by(&device, &same_name_other_key.parsed()));
    assert!(!is_signed_by(&device, &device));
    assert!(is_signed_by(&ca.parsed(), &ca.parsed()));
}

#[test]
fn rsa_and_ecdsa_mix_in_both_directions() {
    let rsa_ca = testing::self_signed(&CertSpec {
        key: TestKey::Rsa2048,
        ..CertSpec::ca("RSA CA")
    });
    let ec_ca = testing::self_signed(&CertSpec {
        key: TestKey::EcdsaP384,
        ..CertSpec::ca("EC CA")
    });
    let ec_leaf_of_rsa = leaf(&rsa_ca, TestKey::EcdsaP256);
    let rsa_leaf_of_ec = leaf(&ec_ca, TestKey::Rsa2048);
    assert_eq!(
        ec_leaf_of_rsa.signature_algorithm,
        "sha256WithRSAEncryption"
    );
    assert!(is_signed_by(&ec_leaf_of_rsa, &rsa_ca.parsed()));
    assert!(is_signed_by(&rsa_leaf_of_ec, &ec_ca.parsed()));
    assert!(!is_signed_by(&ec_leaf_of_rsa, &ec_ca.parsed()));
    assert!(!is_signed_by(&rsa_leaf_of_ec, &rsa_ca.parsed()));
}

#[test]
fn the_right_key_under_another_issuer_name_is_not_enough() {
    let ca = testing::self_signed_ca("Real CA");
    let mut other = DistinguishedName::new();
    other.push(DnType::CommonName, "Other CA");
    let mut renamed = CertificateParams::default();
    renamed.distinguished_name = other;
    let issuer = Issuer::new(renamed, KeyPair::from_pem(&ca.key_pem).unwrap());
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["x.example".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let cert = parse_certificate_der(cert.der()).unwrap();
    assert!(!is_signed_by(&cert, &ca.parsed()));
}

#[test]
fn a_weak_rsa_issuer_never_verifies() {
    let weak = crate::parse_certificate_pem(testing::RSA_1024_SELF_SIGNED_PEM).unwrap();
    assert!(!is_signed_by(&weak, &weak));
}

#[test]
fn verification_certificates_need_the_code_and_the_ca_key() {
    let ca = testing::self_signed_ca("Customer CA");
    let code = crate::new_registration_code();
    let good = testing::verification_cert(&ca, &code).parsed();
    check_verification_certificate(&ca.parsed(), &good, &code).unwrap();

    let wrong_cn = testing::verification_cert(&ca, "not-the-code").parsed();
    let err = check_verification_certificate(&ca.parsed(), &wrong_cn, &code).unwrap_err();
    assert_eq!(err.kind(), CaErrorKind::Invalid);
    assert!(err.message().contains("registration code"));

    let stranger = testing::self_signed_ca("Customer CA");
    let wrong_signer = testing::verification_cert(&stranger, &code).parsed();
    let err = check_verification_certificate(&ca.parsed(), &wrong_signer, &code).unwrap_err();
    assert!(err.message().contains("not signed"));
}
