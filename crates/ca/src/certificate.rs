//! Reading a certificate into the facts the registry stores and checks.

use std::net::{Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::error::CaError;
use crate::key_info::PublicKeyInfo;
use crate::{names, pem, signature};

const NOT_A_CERTIFICATE: &str = "The certificate is not a valid PEM-encoded X.509 certificate";

/// A parsed certificate: what the registry stores and checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCertificate {
    pub der: Vec<u8>,
    /// Normalised PEM of this one certificate (LF line endings, 64 columns).
    pub pem: String,
    /// Lowercase hex SHA-256 of the DER: the AWS certificate id (64 chars).
    pub id: String,
    /// RFC 4514 string, e.g. `CN=AWS IoT Certificate,O=Example`.
    pub subject: String,
    pub issuer: String,
    /// ("CommonName", value), ... named as AWS IoT policy variables name them, in
    /// certificate order.
    pub subject_fields: Vec<(String, String)>,
    pub issuer_fields: Vec<(String, String)>,
    /// (kind, value); kind is "DNSName", "IPAddress", "RFC822Name",
    /// "UniformResourceIdentifier" or "DirectoryName".
    pub san: Vec<(String, String)>,
    /// Lowercase hex of the serial number's magnitude.
    pub serial_hex: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// Subject equals issuer and the certificate's own key verifies its signature.
    pub self_signed: bool,
    pub key: PublicKeyInfo,
    /// OpenSSL's name, e.g. "sha256WithRSAEncryption", "ecdsa-with-SHA256".
    pub signature_algorithm: String,
}

impl ParsedCertificate {
    /// The first subject CommonName, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.subject_fields
            .iter()
            .find(|(name, _)| name == "CommonName")
            .map(|(_, value)| value.as_str())
    }

    /// Is `now_ms` inside notBefore..=notAfter?
    pub fn is_valid_at(&self, now_ms: i64) -> bool {
        self.not_before_ms <= now_ms && now_ms <= self.not_after_ms
    }
}

/// Parses exactly one PEM certificate (whitespace around it is allowed; text around it,
/// several certificates or bad DER are rejected with a client-safe message).
pub fn parse_certificate_pem(pem: &str) -> Result<ParsedCertificate, CaError> {
    let der = pem::decode_one(pem, &["CERTIFICATE"], "certificate", NOT_A_CERTIFICATE)?;
    parse_certificate_der(&der)
}

/// Parses one DER certificate (as a TLS stack hands it over); trailing bytes are rejected.
pub fn parse_certificate_der(der: &[u8]) -> Result<ParsedCertificate, CaError> {
    let cert = parse_x509(der)?;
    let tbs = &cert.tbs_certificate;
    let is_ca = match cert.basic_constraints() {
        Ok(bc) => bc.is_some_and(|bc| bc.value.ca),
        Err(e) => return Err(invalid().with_detail(e)),
    };
    let san = match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext
            .value
            .general_names
            .iter()
            .filter_map(san_entry)
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(invalid().with_detail(e)),
    };
    let self_signed = tbs.subject.as_raw() == tbs.issuer.as_raw()
        && signature::verify(
            cert.public_key(),
            &cert.signature_algorithm,
            &cert.signature_value,
            tbs.as_ref(),
        );
    Ok(ParsedCertificate {
        der: der.to_vec(),
        pem: pem::encode("CERTIFICATE", der),
        id: hex::encode(Sha256::digest(der)),
        subject: names::rfc4514(&tbs.subject),
        issuer: names::rfc4514(&tbs.issuer),
        subject_fields: names::aws_fields(&tbs.subject),
        issuer_fields: names::aws_fields(&tbs.issuer),
        san,
        serial_hex: serial_hex(cert.raw_serial()),
        not_before_ms: to_ms(tbs.validity.not_before.timestamp())?,
        not_after_ms: to_ms(tbs.validity.not_after.timestamp())?,
        is_ca,
        self_signed,
        key: PublicKeyInfo::from_spki(cert.public_key()),
        signature_algorithm: signature::name(&cert.signature_algorithm),
    })
}

/// Parses DER with x509-parser, refusing trailing bytes.
pub(crate) fn parse_x509(der: &[u8]) -> Result<X509Certificate<'_>, CaError> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok((rest, _)) => Err(invalid().with_detail(format!("{} trailing bytes", rest.len()))),
        Err(e) => Err(invalid().with_detail(e)),
    }
}

fn invalid() -> CaError {
    CaError::invalid(NOT_A_CERTIFICATE)
}

fn to_ms(seconds: i64) -> Result<i64, CaError> {
    seconds
        .checked_mul(1000)
        .ok_or_else(|| invalid().with_detail("validity out of range"))
}

fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    hex::encode(&raw[start..])
}

fn san_entry(name: &GeneralName<'_>) -> Option<(String, String)> {
    let (kind, value) = match name {
        GeneralName::DNSName(v) => ("DNSName", v.to_string()),
        GeneralName::RFC822Name(v) => ("RFC822Name", v.to_string()),
        GeneralName::URI(v) => ("UniformResourceIdentifier", v.to_string()),
        GeneralName::DirectoryName(dn) => ("DirectoryName", names::rfc4514(dn)),
        GeneralName::IPAddress(bytes) => ("IPAddress", ip_text(bytes)),
        _ => return None,
    };
    Some((kind.to_string(), value))
}

/// IPv4/IPv6 in their usual text forms; anything else (a name-constraint mask) as hex.
pub(crate) fn ip_text(bytes: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        Ipv6Addr::from(v6).to_string()
    } else {
        hex::encode(bytes)
    }
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
