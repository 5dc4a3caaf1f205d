//! What the certificate checks need of a certificate's DER, read once per certificate id
//! (an id is the SHA-256 of the DER, so its facts never change) and kept in memory: the key
//! (size, ROCA, Debian fingerprint), serial, issuer and subject names, key identifiers and
//! CRL distribution points.

use std::collections::HashMap;
use std::sync::Arc;

use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::keys;

/// The subject key of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    Ec,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    pub key: KeyKind,
    /// Modulus bits for RSA, field size for EC, 0 when unknown.
    pub bits: u32,
    pub roca: bool,
    /// For RSA keys: the openssl-blacklist fingerprint (CVE-2008-0166).
    pub debian_fingerprint: Option<[u8; 10]>,
    /// Serial number magnitude, big-endian without leading zeros.
    pub serial: Box<[u8]>,
    /// DER of the issuer and subject names (interned: many certificates share an issuer).
    pub issuer: Arc<[u8]>,
    pub subject: Arc<[u8]>,
    /// RFC 4514 text of the subject (for issuer-certificate findings).
    pub subject_text: Arc<str>,
    pub authority_key_id: Option<Arc<[u8]>>,
    pub subject_key_id: Option<Box<[u8]>>,
    pub crl_urls: Arc<[Arc<str>]>,
    /// The SubjectPublicKeyInfo DER, for verifying CRL signatures (CA certificates only).
    pub spki: Option<Box<[u8]>>,
}

impl CertFacts {
    pub fn serial_hex(&self) -> String {
        hex::encode(&self.serial)
    }
}

/// Shares equal byte strings and URL lists between certificates.
#[derive(Default)]
pub struct Interner {
    bytes: HashMap<Vec<u8>, Arc<[u8]>>,
    texts: HashMap<String, Arc<str>>,
    urls: HashMap<Vec<String>, Arc<[Arc<str>]>>,
}

impl Interner {
    fn bytes(&mut self, b: &[u8]) -> Arc<[u8]> {
        if let Some(v) = self.bytes.get(b) {
            return v.clone();
        }
        let v: Arc<[u8]> = Arc::from(b);
        self.bytes.insert(b.to_vec(), v.clone());
        v
    }

    fn text(&mut self, s: String) -> Arc<str> {
        if let Some(v) = self.texts.get(&s) {
            return v.clone();
        }
        let v: Arc<str> = Arc::from(s.as_str());
        self.texts.insert(s, v.clone());
        v
    }

    fn urls(&mut self, urls: Vec<String>) -> Arc<[Arc<str>]> {
        if let Some(v) = self.urls.get(&urls) {
            return v.clone();
        }
        let list: Vec<Arc<str>> = urls.iter().map(|u| self.text(u.clone())).collect();
        let v: Arc<[Arc<str>]> = Arc::from(list);
        self.urls.insert(urls, v.clone());
        v
    }
}

/// The DER of a PEM certificate (`None` when it is not one).
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    (parsed.label == "CERTIFICATE").then_some(parsed.contents)
}

/// Reads a certificate; `keep_spki` keeps the public key (CA certificates).
pub fn parse(der: &[u8], keep_spki: bool, interner: &mut Interner) -> Option<CertFacts> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let (key, bits, roca, debian_fingerprint) = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let modulus = strip(rsa.modulus);
            let bits = bit_length(modulus);
            (
                KeyKind::Rsa,
                bits,
                keys::roca_vulnerable(modulus),
                Some(keys::debian_fingerprint(modulus)),
            )
        }
        Ok(PublicKey::EC(point)) => (
            KeyKind::Ec,
            u32::try_from(point.key_size()).unwrap_or(0),
            false,
            None,
        ),
        _ => (KeyKind::Other, 0, false, None),
    };
    let mut authority_key_id = None;
    let mut subject_key_id = None;
    let mut urls = Vec::new();
    for ext in tbs.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                authority_key_id = aki.key_identifier.as_ref().map(|k| interner.bytes(k.0));
            }
            ParsedExtension::SubjectKeyIdentifier(ski) => {
                subject_key_id = Some(Box::from(ski.0));
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        for name in names {
                            if let GeneralName::URI(uri) = name
                                && (uri.starts_with("http://") || uri.starts_with("https://"))
                            {
                                urls.push(uri.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(CertFacts {
        key,
        bits,
        roca,
        debian_fingerprint,
        serial: Box::from(strip(cert.raw_serial())),
        issuer: interner.bytes(tbs.issuer.as_raw()),
        subject: interner.bytes(tbs.subject.as_raw()),
        subject_text: interner.text(tbs.subject.to_string()),
        authority_key_id,
        subject_key_id,
        crl_urls: interner.urls(urls),
        spki: keep_spki.then(|| Box::from(cert.public_key().raw)),
    })
}

pub fn strip(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(n: &[u8]) -> u32 {
    match n.first() {
        Some(first) => (n.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_test_certificate() {
        let ca = fleetward_ca::testing::self_signed_ca("Audit Test CA");
        let leaf = fleetward_ca::testing::issue_cert(&ca, "dev", 0, 4_102_444_800_000);
        let mut interner = Interner::default();
        let der = pem_to_der(&leaf.cert_pem).unwrap();
        let facts = parse(&der, false, &mut interner).unwrap();
        assert_eq!(facts.key, KeyKind::Ec);
        assert_eq!(facts.bits, 256);
        assert!(!facts.roca && facts.debian_fingerprint.is_none());
        let ca_facts = parse(&pem_to_der(&ca.cert_pem).unwrap(), true, &mut interner).unwrap();
        assert_eq!(facts.issuer, ca_facts.subject);
        assert!(Arc::ptr_eq(&facts.issuer, &ca_facts.subject));
        assert!(ca_facts.spki.is_some());
        assert!(pem_to_der("nope").is_none());
        assert!(parse(b"garbage", false, &mut interner).is_none());
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[]), 0);
    }
}
