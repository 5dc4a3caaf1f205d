//! Certificate checks: expiry, age, key quality and size, revocation.

use super::*;
use crate::checks::Inputs;
use crate::model::ResourceIdentifier;

// ---- certificates made with rcgen ----

struct Ca {
    key: KeyPair,
    params: CertificateParams,
    der: Vec<u8>,
}

impl Ca {
    fn root(cn: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(cn, 1);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Ca { key, params, der }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    fn intermediate(&self, cn: &str, serial: u64) -> Ca {
        let key = KeyPair::generate().unwrap();
        let params = ca_params(cn, serial);
        let der = params
            .signed_by(&key, &self.issuer())
            .unwrap()
            .der()
            .to_vec();
        Ca { key, params, der }
    }

    fn leaf(&self, serial: u64, crl_url: Option<&str>) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["dev.example".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("device {serial}"));
        params.serial_number = Some(SerialNumber::from(serial));
        params.use_authority_key_identifier_extension = true;
        if let Some(url) = crl_url {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.to_string()],
            }];
        }
        params
            .signed_by(&key, &self.issuer())
            .unwrap()
            .der()
            .to_vec()
    }

    fn crl(&self, revoked: &[u64]) -> Crl {
        let params = CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2024, 1, 1),
            next_update: rcgen::date_time_ymd(2040, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from(*s),
                    revocation_time: rcgen::date_time_ymd(2024, 6, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer()).unwrap();
        Crl::parse(crl.der(), false).unwrap()
    }
}

fn ca_params(cn: &str, serial: u64) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(SerialNumber::from(serial));
    params.use_authority_key_identifier_extension = true;
    params
}

fn id_of(der: &[u8]) -> CertId {
    CertId(sha256(der))
}

fn device(der: &[u8], ca: Option<&[u8]>) -> AuditCertificate {
    AuditCertificate {
        id: id_of(der),
        status: CertStatus::Active,
        ca_id: ca.map(id_of),
        created_ms: NOW - DAY,
        not_before_ms: NOW - DAY,
        not_after_ms: NOW + 3650 * DAY,
    }
}

fn add_device(inputs: &mut Inputs, der: &[u8], ca: Option<&[u8]>) -> CertId {
    let cert = device(der, ca);
    let mut interner = Interner::default();
    inputs.cert_facts.insert(
        cert.id,
        Arc::new(facts::parse(der, false, &mut interner).unwrap()),
    );
    let id = cert.id;
    inputs.view.certificates.push(cert);
    id
}

fn add_ca(inputs: &mut Inputs, der: &[u8], status: &str) -> CertId {
    let id = id_of(der);
    let mut interner = Interner::default();
    inputs
        .ca_facts
        .insert(id, facts::parse(der, true, &mut interner).unwrap());
    inputs.view.ca_certificates.push(AuditCaCertificate {
        id,
        status: status.into(),
        subject: String::new(),
        pem: String::new(),
        not_before_ms: NOW - DAY,
        not_after_ms: NOW + 3650 * DAY,
    });
    id
}

/// DER SubjectPublicKeyInfo of an RSA public key (modulus, exponent 65537).
fn rsa_spki(modulus: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 128 => out.push(n as u8),
            n if n < 256 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }
    let mut n = modulus.to_vec();
    if n[0] & 0x80 != 0 {
        n.insert(0, 0);
    }
    let key = tlv(0x30, &[tlv(0x02, &n), tlv(0x02, &[1, 0, 1])].concat());
    let mut bits = vec![0u8];
    bits.extend(key);
    let algorithm = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    tlv(0x30, &[algorithm.to_vec(), tlv(0x03, &bits)].concat())
}

/// A device certificate for an RSA public key given by its modulus, signed by `ca`.
fn rsa_leaf(ca: &Ca, modulus: &[u8], serial: u64) -> Vec<u8> {
    let spki = rcgen::SubjectPublicKeyInfo::from_der(&rsa_spki(modulus)).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "rsa device");
    params.serial_number = Some(SerialNumber::from(serial));
    params
        .signed_by(&spki, &ca.issuer())
        .unwrap()
        .der()
        .to_vec()
}

/// A published 2048-bit ROCA-vulnerable modulus (crocs-muni/roca test data, mod03).
const ROCA_2048: &str = "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11";

// ---- expiry, age, key size ----

fn cert_expiring(id: u8, not_after_ms: i64, created_ms: i64) -> AuditCertificate {
    AuditCertificate {
        id: CertId([id; 32]),
        status: CertStatus::Active,
        ca_id: None,
        created_ms,
        not_before_ms: created_ms,
        not_after_ms,
    }
}

#[test]
fn device_certificate_expiring_with_threshold() {
    let mut i = inputs();
    i.view.certificates = vec![
        cert_expiring(1, NOW - 1, NOW - 400 * DAY),
        cert_expiring(2, NOW + 20 * DAY, NOW - DAY),
        cert_expiring(3, NOW + 45 * DAY, NOW - DAY),
        AuditCertificate {
            status: CertStatus::Inactive,
            ..cert_expiring(4, NOW - 1, NOW - DAY)
        },
    ];
    let outcome = run_check("DEVICE_CERTIFICATE_EXPIRING_CHECK", &i);
    assert_eq!(outcome.total, 3, "inactive certificates are not examined");
    assert_eq!(
        codes(&outcome),
        [
            "CERTIFICATE_PAST_EXPIRATION",
            "CERTIFICATE_APPROACHING_EXPIRATION"
        ]
    );
    assert_eq!(
        outcome.findings[0].reason,
        "Certificate is past its expiration."
    );
    assert_eq!(
        outcome.findings[0].resource.additional_info["EXPIRATION_TIME"],
        (NOW - 1).to_string()
    );
    i.configuration.insert(
        "DEVICE_CERTIFICATE_EXPIRING_CHECK".into(),
        [(
            CERT_EXPIRATION_THRESHOLD_IN_DAYS.to_string(),
            "60".to_string(),
        )]
        .into(),
    );
    assert_eq!(
        run_check("DEVICE_CERTIFICATE_EXPIRING_CHECK", &i)
            .findings
            .len(),
        3
    );
}

#[test]
fn device_certificate_age() {
    let mut i = inputs();
    i.view.certificates = vec![
        cert_expiring(1, NOW + 999 * DAY, NOW - 400 * DAY),
        cert_expiring(2, NOW + 999 * DAY, NOW - 10 * DAY),
    ];
    let outcome = run_check("DEVICE_CERTIFICATE_AGE_CHECK", &i);
    assert_eq!(codes(&outcome), ["CERTIFICATE_PAST_AGE_THRESHOLD"]);
    assert_eq!(
        outcome.findings[0].resource.resource_identifier,
        ResourceIdentifier::device_certificate(&CertId([1; 32]).to_string())
    );
    i.configuration.insert(
        "DEVICE_CERTIFICATE_AGE_CHECK".into(),
        [(CERT_AGE_THRESHOLD_IN_DAYS.to_string(), "500".to_string())].into(),
    );
    assert!(
        run_check("DEVICE_CERTIFICATE_AGE_CHECK", &i)
            .findings
            .is_empty()
    );
}

#[test]
fn ca_certificate_expiring() {
    let mut i = inputs();
    for (n, not_after) in [(1u8, NOW - DAY), (2, NOW + 10 * DAY), (3, NOW + 100 * DAY)] {
        i.view.ca_certificates.push(AuditCaCertificate {
            id: CertId([n; 32]),
            status: "ACTIVE".into(),
            subject: String::new(),
            pem: String::new(),
            not_before_ms: 0,
            not_after_ms: not_after,
        });
    }
    let outcome = run_check("CA_CERTIFICATE_EXPIRING_CHECK", &i);
    assert_eq!(outcome.total, 3);
    assert_eq!(
        codes(&outcome),
        [
            "CERTIFICATE_PAST_EXPIRATION",
            "CERTIFICATE_APPROACHING_EXPIRATION"
        ]
    );
}

// ---- key quality ----

#[test]
fn device_certificate_key_quality_roca_and_debian() {
    let ca = Ca::root("Key CA");
    let mut i = inputs();
    let roca = rsa_leaf(&ca, &hex::decode(ROCA_2048).unwrap(), 10);
    let roca_id = add_device(&mut i, &roca, None);
    // The fixed RSA 2048 test key, listed in a blocklist made here (CVE-2008-0166).
    let debian = fleetward_ca::testing::issue(
        &fleetward_ca::testing::self_signed_ca("Debian CA"),
        &fleetward_ca::testing::CertSpec {
            key: fleetward_ca::testing::TestKey::Rsa2048,
            ..fleetward_ca::testing::CertSpec::new("weak")
        },
    );
    let debian_der = facts::pem_to_der(&debian.cert_pem).unwrap();
    let debian_id = add_device(&mut i, &debian_der, None);
    let fine_id = add_device(&mut i, &ca.leaf(11, None), None);
    let modulus = debian.parsed().key.rsa.unwrap().modulus;
    let mut blocklist = keys::Blocklist::default();
    blocklist.add_text(&format!(
        "# test\n{}\n",
        keys::debian_blocklist_line(&modulus)
    ));

    // Without the blocklist only ROCA is found.
    let outcome = run_check("DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", &i);
    assert_eq!(outcome.total, 3);
    assert_eq!(
        codes(&outcome),
        ["CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361"]
    );
    assert_eq!(
        outcome.findings[0]
            .resource
            .resource_identifier
            .device_certificate_id,
        Some(roca_id.to_string())
    );

    i.blocklist = Arc::new(blocklist);
    let outcome = run_check("DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", &i);
    let found: Vec<(String, &str)> = outcome
        .findings
        .iter()
        .map(|f| (f.resource.resource_identifier.path(), f.code))
        .collect();
    assert!(found.contains(&(
        roca_id.to_string(),
        "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361"
    )));
    assert!(found.contains(&(
        debian_id.to_string(),
        "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166"
    )));
    assert!(!found.iter().any(|(id, _)| id == &fine_id.to_string()));
}

#[test]
fn ca_certificate_key_quality() {
    let mut i = inputs();
    let roca_ca = {
        let root = Ca::root("Root");
        let spki =
            rcgen::SubjectPublicKeyInfo::from_der(&rsa_spki(&hex::decode(ROCA_2048).unwrap()))
                .unwrap();
        ca_params("Infineon CA", 7)
            .signed_by(&spki, &root.issuer())
            .unwrap()
            .der()
            .to_vec()
    };
    add_ca(&mut i, &roca_ca, "ACTIVE");
    add_ca(&mut i, &Ca::root("Good CA").der, "ACTIVE");
    let outcome = run_check("CA_CERTIFICATE_KEY_QUALITY_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(
        codes(&outcome),
        ["CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361"]
    );
}

#[test]
fn fleetward_key_size() {
    let mut i = inputs();
    let weak = facts::pem_to_der(fleetward_ca::testing::RSA_1024_SELF_SIGNED_PEM).unwrap();
    add_device(&mut i, &weak, None);
    add_device(&mut i, &Ca::root("x").leaf(1, None), None);
    let outcome = run_check("FLEETWARD_DEVICE_CERTIFICATE_KEY_SIZE_CHECK", &i);
    assert_eq!(codes(&outcome), ["CERTIFICATE_KEY_TOO_SMALL"]);
    assert_eq!(
        outcome.findings[0].resource.additional_info["KEY_SIZE"],
        "1024"
    );
}

// ---- revocation ----

#[test]
fn revoked_device_certificate_still_active() {
    let ca = Ca::root("Device CA");
    let mut i = inputs();
    add_ca(&mut i, &ca.der, "ACTIVE");
    let revoked = ca.leaf(100, Some("http://crl.example/ca.crl"));
    let fine = ca.leaf(101, None);
    let revoked_id = add_device(&mut i, &revoked, Some(&ca.der));
    add_device(&mut i, &fine, Some(&ca.der));
    assert!(
        run_check("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", &i)
            .findings
            .is_empty()
    );
    // A CRL signed by another key with the same issuer name is not trusted.
    let impostor = Ca::root("Device CA");
    i.crls.add(impostor.crl(&[100]));
    assert!(
        run_check("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", &i)
            .findings
            .is_empty()
    );
    i.crls.add(ca.crl(&[100]));
    let outcome = run_check("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(codes(&outcome), ["CERTIFICATE_REVOKED_BY_ISSUER"]);
    let f = &outcome.findings[0];
    assert_eq!(
        f.resource.resource_identifier.device_certificate_id,
        Some(revoked_id.to_string())
    );
    assert_eq!(f.related[0].resource_type, "CA_CERTIFICATE");
    // The certificate names its distribution point.
    assert_eq!(
        &*i.cert_facts[&revoked_id].crl_urls[0],
        "http://crl.example/ca.crl"
    );
}

#[test]
fn revoked_ca_and_intermediate_for_active_devices() {
    let root = Ca::root("Root CA");
    let revoked = root.intermediate("Revoked Intermediate", 66);
    let good = root.intermediate("Good Intermediate", 67);
    let mut i = inputs();
    add_ca(&mut i, &root.der, "ACTIVE");
    add_ca(&mut i, &revoked.der, "ACTIVE");
    add_ca(&mut i, &good.der, "ACTIVE");
    let devices: Vec<CertId> = (0..3)
        .map(|n| add_device(&mut i, &revoked.leaf(200 + n, None), Some(&revoked.der)))
        .collect();
    add_device(&mut i, &good.leaf(300, None), Some(&good.der));
    i.crls.add(root.crl(&[66]));

    let outcome = run_check("REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", &i);
    assert_eq!(outcome.total, 3);
    assert_eq!(codes(&outcome), ["CERTIFICATE_REVOKED_BY_ISSUER"]);
    assert_eq!(
        outcome.findings[0]
            .resource
            .resource_identifier
            .ca_certificate_id,
        Some(id_of(&revoked.der).to_string())
    );

    let outcome = run_check(
        "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
        &i,
    );
    assert_eq!(outcome.total, 2, "the two intermediates, not the root");
    assert_eq!(codes(&outcome), ["INTERMEDIATE_CA_REVOKED_BY_ISSUER"]);
    let f = &outcome.findings[0];
    assert_eq!(f.resource.resource_type, "ISSUER_CERTIFICATE");
    let issuer = f
        .resource
        .resource_identifier
        .issuer_certificate_identifier
        .clone()
        .unwrap();
    assert_eq!(
        issuer.issuer_certificate_serial_number.as_deref(),
        Some("42")
    );
    assert_eq!(issuer.issuer_id, Some(id_of(&revoked.der).to_string()));
    assert!(
        issuer
            .issuer_certificate_subject
            .unwrap()
            .contains("Revoked Intermediate")
    );
    let mut related: Vec<String> = f
        .related
        .iter()
        .map(|r| r.resource_identifier.path())
        .collect();
    related.sort();
    let mut expected: Vec<String> = devices.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(related, expected);
}
