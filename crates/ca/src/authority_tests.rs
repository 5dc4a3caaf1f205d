use std::fs;

use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, UnparsedPublicKey,
};
use sha2::{Digest, Sha256};

use super::*;
use crate::certificate::parse_x509;
use crate::testing::{self, CertSpec, TestKey};
use crate::{CaErrorKind, is_signed_by};

/// 2026-01-01T00:00:00Z.
const NOW: i64 = 1_767_225_600_000;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn raw_public_key(cert: &ParsedCertificate) -> Vec<u8> {
    parse_x509(&cert.der)
        .unwrap()
        .public_key()
        .subject_public_key
        .data
        .to_vec()
}

#[test]
fn ca_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CertificateAuthority>();
}

#[test]
fn first_start_creates_owner_only_keys_and_the_second_loads_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca =
        CertificateAuthority::load_or_create(dir.path(), &names(&["gw.example"]), NOW).unwrap();
    for file in [
        ROOT_CERT_FILE,
        ROOT_KEY_FILE,
        ISSUING_CERT_FILE,
        ISSUING_KEY_FILE,
        SERVER_CERT_FILE,
        SERVER_KEY_FILE,
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in [ROOT_KEY_FILE, ISSUING_KEY_FILE, SERVER_KEY_FILE] {
            let mode = fs::metadata(dir.path().join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }
    assert_eq!(
        fs::read_to_string(dir.path().join(ROOT_CERT_FILE)).unwrap(),
        ca.root_pem()
    );
    assert!(ca.root().self_signed && ca.root().is_ca);

    let again =
        CertificateAuthority::load_or_create(dir.path(), &names(&["gw.example"]), NOW + 1000)
            .unwrap();
    assert_eq!(again.root_pem(), ca.root_pem());
    assert_eq!(again.issuing_pem(), ca.issuing_pem());
    assert_eq!(again.server_chain_pem(), ca.server_chain_pem());
    assert_eq!(again.server_key_pem(), ca.server_key_pem());
}

#[test]
fn the_server_certificate_covers_loopback_and_configured_names_and_chains_to_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let ca =
        CertificateAuthority::load_or_create(dir.path(), &names(&["gw.example", "192.0.2.7"]), NOW)
            .unwrap();
    let chain = pem::decode_all(ca.server_chain_pem(), "CERTIFICATE").unwrap();
    assert_eq!(chain.len(), 2);
    let leaf = parse_certificate_der(&chain[0]).unwrap();
    let issuing = parse_certificate_der(&chain[1]).unwrap();
    assert_eq!(&issuing, ca.issuing());
    for (kind, value) in [
        ("DNSName", "localhost"),
        ("DNSName", "gw.example"),
        ("IPAddress", "127.0.0.1"),
        ("IPAddress", "::1"),
        ("IPAddress", "192.0.2.7"),
    ] {
        assert!(
            leaf.san.contains(&(kind.to_string(), value.to_string())),
            "{kind} {value}"
        );
    }
    assert!(!leaf.is_ca);
    assert!(is_signed_by(&leaf, &issuing));
    assert!(is_signed_by(&issuing, ca.root()));
    assert!(!is_signed_by(&leaf, ca.root()));
    assert!(leaf.is_valid_at(NOW));
    let key = KeyPair::from_pem(ca.server_key_pem()).unwrap();
    assert_eq!(key.subject_public_key_info(), leaf.key.spki_der);
}

#[test]
fn the_server_certificate_is_reissued_for_new_names_and_near_expiry_but_the_cas_stay() {
    let dir = tempfile::tempdir().unwrap();
    let first =
        CertificateAuthority::load_or_create(dir.path(), &names(&["a.example"]), NOW).unwrap();
    let renamed =
        CertificateAuthority::load_or_create(dir.path(), &names(&["b.example"]), NOW).unwrap();
    assert_ne!(renamed.server_chain_pem(), first.server_chain_pem());
    assert!(
        renamed
            .server()
            .san
            .contains(&("DNSName".into(), "b.example".into()))
    );
    assert!(
        !renamed
            .server()
            .san
            .contains(&("DNSName".into(), "a.example".into()))
    );
    assert_eq!(renamed.root_pem(), first.root_pem());
    assert_eq!(renamed.issuing_pem(), first.issuing_pem());

    let near_expiry = renamed.server().not_after_ms - crate::time::days_ms(29);
    let renewed =
        CertificateAuthority::load_or_create(dir.path(), &names(&["b.example"]), near_expiry)
            .unwrap();
    assert_ne!(renewed.server_chain_pem(), renamed.server_chain_pem());
    assert!(renewed.server().not_after_ms > renamed.server().not_after_ms);
    assert_eq!(renewed.root_pem(), first.root_pem());
}

#[test]
fn an_existing_root_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    fs::remove_file(dir.path().join(ROOT_KEY_FILE)).unwrap();
    let err = CertificateAuthority::load_or_create(dir.path(), &[], NOW)
        .err()
        .unwrap();
    assert_eq!(err.kind(), CaErrorKind::Internal);
    assert_eq!(
        fs::read_to_string(dir.path().join(ROOT_CERT_FILE)).unwrap(),
        ca.root_pem()
    );
}

#[test]
fn an_issuing_ca_from_another_root_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    CertificateAuthority::load_or_create(other.path(), &[], NOW).unwrap();
    for file in [ISSUING_CERT_FILE, ISSUING_KEY_FILE] {
        fs::copy(other.path().join(file), dir.path().join(file)).unwrap();
    }
    let err = CertificateAuthority::load_or_create(dir.path(), &[], NOW)
        .err()
        .unwrap();
    assert_eq!(err.kind(), CaErrorKind::Internal);
}

#[test]
fn a_damaged_server_certificate_is_reissued() {
    let dir = tempfile::tempdir().unwrap();
    let first = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    fs::write(dir.path().join(SERVER_CERT_FILE), "garbage").unwrap();
    let again = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    assert_ne!(again.server_key_pem(), first.server_key_pem());
    assert!(is_signed_by(again.server(), again.issuing()));
    let on_disk = fs::read_to_string(dir.path().join(SERVER_CERT_FILE)).unwrap();
    assert_eq!(on_disk, again.server_chain_pem());
}

#[test]
fn a_key_left_without_its_certificate_by_a_crash_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(ROOT_KEY_FILE), "half-written").unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    assert!(ca.root().self_signed);
}

#[test]
fn bad_server_names_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let err = CertificateAuthority::load_or_create(dir.path(), &names(&["not a name"]), NOW)
        .err()
        .unwrap();
    assert_eq!(err.kind(), CaErrorKind::Invalid);
}

#[test]
fn issued_device_keys_match_their_certificate_like_aws() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    let issued = ca.issue_keys_and_certificate(NOW + 1234).unwrap();
    let cert = crate::parse_certificate_pem(&issued.certificate_pem).unwrap();

    assert_eq!(cert.id, hex::encode(Sha256::digest(&cert.der)));
    assert_eq!(cert.common_name(), Some(profiles::DEVICE_COMMON_NAME));
    assert_eq!(cert.subject, "CN=AWS IoT Certificate");
    assert_eq!(cert.not_before_ms, NOW + 1000);
    assert_eq!(cert.not_after_ms, AWS_DEVICE_NOT_AFTER_MS);
    assert!(!cert.is_ca);
    assert!(is_signed_by(&cert, ca.issuing()));
    assert!(
        issued
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(
        issued
            .public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    let spki = pem::decode_one(&issued.public_key_pem, &["PUBLIC KEY"], "key", "bad").unwrap();
    assert_eq!(spki, cert.key.spki_der);

    // Sign with the returned private key, verify with the certificate's public key.
    let pkcs8 = pem::decode_one(&issued.private_key_pem, &["PRIVATE KEY"], "key", "bad").unwrap();
    let rng = ring::rand::SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng).unwrap();
    let signature = key.sign(&rng, b"proof").unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, raw_public_key(&cert))
        .verify(b"proof", signature.as_ref())
        .unwrap();

    let second = ca.issue_keys_and_certificate(NOW).unwrap();
    assert_ne!(second.private_key_pem, issued.private_key_pem);
}

#[test]
fn csr_signing_keeps_subject_and_key_for_ecdsa_and_rsa() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    for key in [TestKey::EcdsaP256, TestKey::EcdsaP384, TestKey::Rsa2048] {
        let mut spec = CertSpec::new("sensor-7");
        spec.subject
            .insert(0, ("Organization".into(), "Acme".into()));
        spec.key = key;
        let csr = testing::csr_with(&spec);
        let cert = crate::parse_certificate_pem(&ca.sign_csr(&csr.csr_pem, NOW).unwrap()).unwrap();
        assert_eq!(cert.subject, "CN=sensor-7,O=Acme", "{key:?}");
        let key_pair = KeyPair::from_pem(&csr.key_pem).unwrap();
        assert_eq!(
            cert.key.spki_der,
            key_pair.subject_public_key_info(),
            "{key:?}"
        );
        assert!(is_signed_by(&cert, ca.issuing()));
        assert!(!cert.is_ca);
        assert_eq!(cert.not_after_ms, AWS_DEVICE_NOT_AFTER_MS);
    }
}

#[test]
fn a_csr_cannot_ask_to_become_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let cert = crate::parse_certificate_pem(&ca.sign_csr(&csr, NOW).unwrap()).unwrap();
    assert!(!cert.is_ca);
}

#[test]
fn broken_garbage_and_unsupported_csrs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    let good = testing::csr("dev").csr_pem;
    let mut der = pem::decode_one(&good, &["CERTIFICATE REQUEST"], "csr", "bad").unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let broken = pem::encode("CERTIFICATE REQUEST", &der);
    let err = ca.sign_csr(&broken, NOW).unwrap_err();
    assert_eq!(err.kind(), CaErrorKind::Invalid);
    assert!(err.message().contains("signature"));

    let ed25519 = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let ed_csr = CertificateParams::default()
        .serialize_request(&ed25519)
        .unwrap()
        .pem()
        .unwrap();
    let two = format!("{good}{good}");
    let cert_not_csr = testing::self_signed_ca("x").cert_pem;
    for input in ["", "garbage", &two, &cert_not_csr, &ed_csr] {
        assert_eq!(
            ca.sign_csr(input, NOW).unwrap_err().kind(),
            CaErrorKind::Invalid,
            "{input:?}"
        );
    }
}

#[test]
fn sign_bytes_verifies_with_the_issuing_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    let signature = ca.sign_bytes(b"an SNS message").unwrap();
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, raw_public_key(ca.issuing()));
    key.verify(b"an SNS message", &signature).unwrap();
    assert!(key.verify(b"another message", &signature).is_err());
}

#[test]
fn signing_keys_get_a_leaf_certificate_from_the_issuing_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let pem = ca
        .certify_signing_key(&key.subject_public_key_info(), "Notification Signing", NOW)
        .unwrap();
    let cert = parse_certificate_pem(&pem).unwrap();
    assert!(is_signed_by(&cert, ca.issuing()));
    assert!(!cert.is_ca);
    assert_eq!(cert.key.spki_der, key.subject_public_key_info());
    assert!(cert.subject.contains("CN=Notification Signing"));
    assert!(cert.not_after_ms <= ca.issuing().not_after_ms);
    let err = ca.certify_signing_key(b"not a key", "x", NOW).unwrap_err();
    assert_eq!(err.kind(), CaErrorKind::Invalid);
}
