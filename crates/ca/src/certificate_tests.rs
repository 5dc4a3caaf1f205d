use sha2::{Digest, Sha256};

use super::*;
use crate::CaErrorKind;
use crate::testing::{self, CertSpec, TestKey};

fn spec_with_everything() -> CertSpec {
    let mut spec = CertSpec::new("dev-1");
    spec.subject = [
        ("Country", "DE"),
        ("State", "Berlin"),
        ("Locality", "Berlin"),
        ("Organization", "Acme, Inc."),
        ("OrganizationalUnit", "Sensors"),
        ("CommonName", "dev-1"),
        ("SerialNumber", "SN-42"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    spec.san = vec!["dev-1.example".into(), "10.1.2.3".into(), "fe80::1".into()];
    spec
}

#[test]
fn parses_the_facts_the_registry_stores() {
    let ca = testing::self_signed_ca("Test CA");
    let leaf = testing::issue(&ca, &spec_with_everything());
    let parsed = parse_certificate_pem(&leaf.cert_pem).unwrap();

    assert_eq!(parsed.id, hex::encode(Sha256::digest(&parsed.der)));
    assert_eq!(parsed.id.len(), 64);
    assert_eq!(
        parsed.subject,
        "serialNumber=SN-42,CN=dev-1,OU=Sensors,O=Acme\\, Inc.,L=Berlin,ST=Berlin,C=DE"
    );
    assert_eq!(parsed.issuer, "CN=Test CA");
    assert_eq!(parsed.common_name(), Some("dev-1"));
    let fields: Vec<(&str, &str)> = parsed
        .subject_fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            ("Country", "DE"),
            ("State", "Berlin"),
            ("Locality", "Berlin"),
            ("Organization", "Acme, Inc."),
            ("OrganizationalUnit", "Sensors"),
            ("CommonName", "dev-1"),
            ("SerialNumber", "SN-42"),
        ]
    );
    assert_eq!(
        parsed.issuer_fields,
        vec![("CommonName".to_string(), "Test CA".to_string())]
    );
    let san: Vec<(&str, &str)> = parsed
        .san
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        san,
        [
            ("DNSName", "dev-1.example"),
            ("IPAddress", "10.1.2.3"),
            ("IPAddress", "fe80::1")
        ]
    );
    assert_eq!(parsed.not_before_ms, testing::TEST_NOT_BEFORE_MS);
    assert_eq!(parsed.not_after_ms, testing::TEST_NOT_AFTER_MS);
    assert!(parsed.is_valid_at(testing::TEST_NOT_BEFORE_MS));
    assert!(!parsed.is_valid_at(testing::TEST_NOT_AFTER_MS + 1000));
    assert!(!parsed.is_ca);
    assert!(!parsed.self_signed);
    assert!(!parsed.serial_hex.is_empty() && !parsed.serial_hex.starts_with("00"));
    assert_eq!(parsed.key.algorithm, "EC");
    assert_eq!(parsed.key.bits, 256);
    assert_eq!(parsed.key.curve.as_deref(), Some("P-256"));
    assert_eq!(parsed.key.rsa, None);
    assert_eq!(parsed.signature_algorithm, "ecdsa-with-SHA256");
}

#[test]
fn a_self_signed_ca_is_recognised_and_pem_round_trips() {
    let ca = testing::self_signed_ca("Root").parsed();
    assert!(ca.is_ca);
    assert!(ca.self_signed);
    assert_eq!(parse_certificate_pem(&ca.pem).unwrap(), ca);
    assert_eq!(parse_certificate_der(&ca.der).unwrap(), ca);
}

#[test]
fn rsa_and_p384_keys_are_described() {
    let rsa = testing::self_signed(&CertSpec {
        key: TestKey::Rsa2048,
        ..CertSpec::ca("RSA CA")
    })
    .parsed();
    assert_eq!(rsa.key.algorithm, "RSA");
    assert_eq!(rsa.key.bits, 2048);
    let numbers = rsa.key.rsa.as_ref().unwrap();
    assert_eq!(numbers.modulus.len(), 256);
    assert_eq!(numbers.exponent, vec![1, 0, 1]);
    assert_eq!(rsa.signature_algorithm, "sha256WithRSAEncryption");
    assert!(rsa.self_signed);

    let p384 = testing::self_signed(&CertSpec {
        key: TestKey::EcdsaP384,
        ..CertSpec::new("p384")
    })
    .parsed();
    assert_eq!(
        (p384.key.curve.as_deref(), p384.key.bits),
        (Some("P-384"), 384)
    );
    assert_eq!(p384.signature_algorithm, "ecdsa-with-SHA384");
}

#[test]
fn a_weak_rsa_1024_certificate_parses_but_does_not_verify() {
    let weak = parse_certificate_pem(testing::RSA_1024_SELF_SIGNED_PEM).unwrap();
    assert_eq!((weak.key.algorithm.as_str(), weak.key.bits), ("RSA", 1024));
    assert!(weak.is_ca);
    // ring verifies RSA from 2048 bits only, so the self-signature is not accepted.
    assert!(!weak.self_signed);
    assert_eq!(weak.common_name(), Some("Weak RSA 1024 CA"));
}

#[test]
fn garbage_empty_and_several_certificates_are_client_errors() {
    let one = testing::self_signed_ca("A").cert_pem;
    let two = format!("{one}{}", testing::self_signed_ca("B").cert_pem);
    let truncated = one.replacen("MII", "MIA", 1);
    for input in [
        "",
        " \n\t",
        "hello",
        &two,
        &truncated,
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
    ] {
        let err = parse_certificate_pem(input).unwrap_err();
        assert_eq!(err.kind(), CaErrorKind::Invalid, "{input:?}");
        assert!(!err.message().is_empty());
    }
    assert!(
        parse_certificate_pem(&two)
            .unwrap_err()
            .message()
            .contains("several")
    );
    assert_eq!(
        parse_certificate_pem("hello").unwrap_err().message(),
        NOT_A_CERTIFICATE
    );
}

#[test]
fn trailing_bytes_after_the_der_are_rejected() {
    let mut der = testing::self_signed_ca("A").parsed().der;
    der.push(0);
    assert_eq!(
        parse_certificate_der(&der).unwrap_err().kind(),
        CaErrorKind::Invalid
    );
}

#[test]
fn ip_addresses_print_in_their_usual_forms() {
    assert_eq!(ip_text(&[127, 0, 0, 1]), "127.0.0.1");
    let mut v6 = [0u8; 16];
    v6[15] = 1;
    assert_eq!(ip_text(&v6), "::1");
    assert_eq!(ip_text(&[1, 2]), "0102");
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn on_any_text(text in ".{0,300}") {
            let _ = parse_certificate_pem(&text);
        }

        #[test]
        fn on_a_certificate_with_bytes_flipped(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4),
        ) {
            let mut der = testing::self_signed_ca("Fuzz").parsed().der;
            for (index, mask) in flips {
                let at = index.index(der.len());
                der[at] ^= mask;
            }
            if let Ok(parsed) = parse_certificate_der(&der) {
                // Whatever parses must round-trip through its own PEM.
                prop_assert_eq!(parse_certificate_pem(&parsed.pem).unwrap(), parsed);
            }
        }
    }
}
