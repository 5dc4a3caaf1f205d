//! Certificate revocation lists for the revoked-certificate checks: parsed from DER or PEM,
//! fetched from certificates' CRL distribution points over HTTP (and cached in the store) or
//! uploaded by an admin (`fleetward admin put-crl`).
//!
//! Trust: a CRL counts when its signature verifies with the public key of a CA certificate
//! the account registered whose subject is the CRL's issuer. When no such CA is registered
//! (a root above a registered intermediate), an uploaded CRL is trusted as the admin's word,
//! and a fetched one only if its issuer name and authority key id match what the
//! certificates that point to it say of their issuer.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use serde::{Deserialize, Serialize};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::facts::strip;

/// A cached or uploaded CRL as stored (`audit.crl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCrl {
    /// `url` (fetched from a distribution point) or `upload`.
    pub source: String,
    #[serde(default)]
    pub url: Option<String>,
    /// Base64 DER.
    pub der: String,
    pub fetched_ms: i64,
    #[serde(default)]
    pub next_update_ms: Option<i64>,
}

impl StoredCrl {
    pub fn der_bytes(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.der)
            .ok()
    }
}

/// The facts of one CRL.
#[derive(Debug, Clone)]
pub struct Crl {
    pub issuer: Vec<u8>,
    pub authority_key_id: Option<Vec<u8>>,
    pub revoked: HashSet<Vec<u8>>,
    pub next_update_ms: Option<i64>,
    pub uploaded: bool,
    /// The DER, kept to verify the signature against candidate issuers.
    der: Arc<[u8]>,
}

impl Crl {
    /// Parses a DER or PEM (`X509 CRL`) revocation list.
    pub fn parse(bytes: &[u8], uploaded: bool) -> Result<Crl, String> {
        let der = to_der(bytes)?;
        let (rest, crl) = CertificateRevocationList::from_der(&der)
            .map_err(|e| format!("not a valid X.509 CRL: {e}"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the CRL".into());
        }
        let mut authority_key_id = None;
        for ext in crl.extensions() {
            if let ParsedExtension::AuthorityKeyIdentifier(aki) = ext.parsed_extension() {
                authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
        }
        let revoked = crl
            .iter_revoked_certificates()
            .map(|r| strip(r.raw_serial()).to_vec())
            .collect();
        Ok(Crl {
            issuer: crl.issuer().as_raw().to_vec(),
            authority_key_id,
            revoked,
            next_update_ms: crl
                .next_update()
                .map(|t| t.timestamp().saturating_mul(1000)),
            uploaded,
            der: Arc::from(der),
        })
    }

    /// Whether the CRL's signature verifies with this SubjectPublicKeyInfo (DER).
    pub fn signed_by(&self, spki_der: &[u8]) -> bool {
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(spki_der) else {
            return false;
        };
        match CertificateRevocationList::from_der(&self.der) {
            Ok((_, crl)) => crl.verify_signature(&spki).is_ok(),
            Err(_) => false,
        }
    }
}

fn to_der(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(bytes).ok();
    match text.filter(|t| t.contains("-----BEGIN")) {
        Some(t) => {
            let (_, pem) = x509_parser::pem::parse_x509_pem(t.trim_start().as_bytes())
                .map_err(|e| format!("not a PEM CRL: {e}"))?;
            if pem.label != "X509 CRL" {
                return Err(format!("expected an X509 CRL PEM block, got {}", pem.label));
            }
            Ok(pem.contents)
        }
        None => Ok(bytes.to_vec()),
    }
}

/// Who issued a certificate, as far as CRL lookup needs to know.
pub struct IssuerRef<'a> {
    pub name: &'a [u8],
    pub authority_key_id: Option<&'a [u8]>,
    /// Public keys of registered CA certificates with this subject (to verify signatures).
    pub known_keys: &'a [&'a [u8]],
}

/// The CRLs of one audit, by issuer name.
#[derive(Default)]
pub struct CrlSet {
    by_issuer: HashMap<Vec<u8>, Vec<Crl>>,
    /// (CRL index key, signer key) verdicts, so each signature is verified once.
    verified: std::sync::Mutex<HashMap<(usize, Vec<u8>), bool>>,
}

impl CrlSet {
    pub fn add(&mut self, crl: Crl) {
        self.by_issuer
            .entry(crl.issuer.clone())
            .or_default()
            .push(crl);
    }

    /// Whether a trusted CRL of the issuer lists `serial`.
    pub fn is_revoked(&self, issuer: &IssuerRef<'_>, serial: &[u8]) -> bool {
        let Some(crls) = self.by_issuer.get(issuer.name) else {
            return false;
        };
        crls.iter()
            .filter(|crl| crl.revoked.contains(serial))
            .any(|crl| self.trusted(crl, issuer))
    }

    fn trusted(&self, crl: &Crl, issuer: &IssuerRef<'_>) -> bool {
        if !issuer.known_keys.is_empty() {
            return issuer.known_keys.iter().any(|key| {
                let id = (Arc::as_ptr(&crl.der) as *const u8 as usize, key.to_vec());
                let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
                *cache.entry(id).or_insert_with(|| crl.signed_by(key))
            });
        }
        if crl.uploaded {
            return true;
        }
        match (&crl.authority_key_id, issuer.authority_key_id) {
            (Some(a), Some(b)) => a.as_slice() == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer, KeyIdMethod,
        KeyPair, PublicKeyData, RevocationReason, RevokedCertParams, SerialNumber,
    };

    fn ca() -> (rcgen::Certificate, KeyPair, CertificateParams) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "CRL Test CA");
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let cert = params.clone().self_signed(&key).unwrap();
        (cert, key, params)
    }

    #[test]
    fn parses_verifies_and_answers() {
        let (cert, key, params) = ca();
        let issuer = Issuer::new(params, &key);
        let crl = CertificateRevocationListParams {
            this_update: rcgen::date_time_ymd(2024, 1, 1),
            next_update: rcgen::date_time_ymd(2030, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: vec![RevokedCertParams {
                serial_number: SerialNumber::from(vec![0x00, 0x42]),
                revocation_time: rcgen::date_time_ymd(2024, 1, 1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            }],
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap();
        let parsed = Crl::parse(crl.pem().unwrap().as_bytes(), false).unwrap();
        assert!(parsed.revoked.contains(&vec![0x42]));
        assert_eq!(parsed.next_update_ms, Some(1_893_456_000_000));
        let ca_facts = {
            let mut i = crate::facts::Interner::default();
            crate::facts::parse(cert.der(), true, &mut i).unwrap()
        };
        let spki = ca_facts.spki.clone().unwrap();
        assert!(parsed.signed_by(&spki));
        let other = KeyPair::generate().unwrap();
        assert!(!parsed.signed_by(&other.subject_public_key_info()));

        let mut set = CrlSet::default();
        set.add(parsed);
        let keys: [&[u8]; 1] = [&spki];
        let issuer_ref = IssuerRef {
            name: &ca_facts.subject,
            authority_key_id: None,
            known_keys: &keys,
        };
        assert!(set.is_revoked(&issuer_ref, &[0x42]));
        assert!(!set.is_revoked(&issuer_ref, &[0x43]));
        // Fetched, issuer unknown, no key id to match: not trusted.
        let unknown = IssuerRef {
            name: &ca_facts.subject,
            authority_key_id: None,
            known_keys: &[],
        };
        assert!(!set.is_revoked(&unknown, &[0x42]));
        assert!(Crl::parse(b"garbage", true).is_err());
    }
}
