//! Reading a PKCS#10 CSR into what CreateCertificateFromCsr certifies: its subject and key.

use std::collections::HashSet;

use rcgen::string::{BmpString, Ia5String, PrintableString, TeletexString, UniversalString};
use rcgen::{DistinguishedName, DnType, DnValue};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::error::CaError;
use crate::key_info::PublicKeyInfo;
use crate::{pem, signature};

const NOT_A_CSR: &str = "The CSR is not a valid PEM-encoded PKCS#10 certificate signing request";

/// What we keep from a CSR. Requested extensions are ignored on purpose: the CA decides
/// what a device certificate may do (a CSR must not be able to ask for cA=TRUE).
pub(crate) struct VerifiedCsr {
    pub(crate) subject: DistinguishedName,
    pub(crate) public_key: rcgen::SubjectPublicKeyInfo,
    pub(crate) is_rsa: bool,
}

/// Decodes the CSR, checks that its key is RSA 2048-8192 bits or ECDSA P-256/P-384 and that
/// the key verifies the CSR's signature (proof the requester holds the private key).
pub(crate) fn read(csr_pem: &str) -> Result<VerifiedCsr, CaError> {
    let labels = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];
    let der = pem::decode_one(csr_pem, &labels, "certificate signing request", NOT_A_CSR)?;
    let csr = match X509CertificationRequest::from_der(&der) {
        Ok(([], csr)) => csr,
        Ok(_) => return Err(CaError::invalid(NOT_A_CSR).with_detail("trailing bytes")),
        Err(e) => return Err(CaError::invalid(NOT_A_CSR).with_detail(e)),
    };
    let info = &csr.certification_request_info;
    // The key first: a too-small RSA key would otherwise show up as a bad signature.
    let key = PublicKeyInfo::from_spki(&info.subject_pki);
    let accepted = match (key.algorithm.as_str(), key.curve.as_deref()) {
        ("RSA", _) => (2048..=8192).contains(&key.bits),
        ("EC", Some("P-256" | "P-384")) => true,
        _ => false,
    };
    if !accepted {
        return Err(CaError::invalid(
            "The CSR's public key is not supported: \
             use RSA (2048 to 8192 bits) or ECDSA P-256/P-384",
        ));
    }
    if !signature::verify(
        &info.subject_pki,
        &csr.signature_algorithm,
        &csr.signature_value,
        info.raw,
    ) {
        return Err(CaError::invalid(
            "The CSR's signature does not verify with its public key \
             or uses an unsupported algorithm",
        ));
    }
    let public_key = rcgen::SubjectPublicKeyInfo::from_der(info.subject_pki.raw)
        .map_err(|e| CaError::invalid(NOT_A_CSR).with_detail(e))?;
    Ok(VerifiedCsr {
        subject: subject(&info.subject)?,
        public_key,
        is_rsa: key.algorithm == "RSA",
    })
}

/// Rebuilds the subject for rcgen, keeping attribute order and string types. rcgen holds one
/// value per attribute type and one attribute per RDN, so other subjects are refused rather
/// than silently changed.
fn subject(name: &X509Name<'_>) -> Result<DistinguishedName, CaError> {
    let unsupported = || {
        CaError::invalid(
            "The CSR's subject has a repeated or multi-valued attribute, which is not supported",
        )
    };
    let mut dn = DistinguishedName::new();
    let mut seen = HashSet::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else {
            return Err(unsupported());
        };
        let oid: Vec<u64> = attr
            .attr_type()
            .iter()
            .ok_or_else(|| CaError::invalid(NOT_A_CSR).with_detail("OID too large"))?
            .collect();
        if !seen.insert(oid.clone()) {
            return Err(unsupported());
        }
        dn.push(DnType::from_oid(&oid), value(attr)?);
    }
    Ok(dn)
}

fn value(attr: &AttributeTypeAndValue<'_>) -> Result<DnValue, CaError> {
    let bad = |detail: String| {
        CaError::invalid("The CSR's subject holds a value that is not a valid string")
            .with_detail(detail)
    };
    let data = attr.attr_value().data;
    let text = || std::str::from_utf8(data).map_err(|e| bad(e.to_string()));
    let value = match attr.attr_value().tag() {
        Tag::Utf8String => DnValue::Utf8String(text()?.to_string()),
        // rcgen has no NumericString; its characters are all printable.
        Tag::PrintableString | Tag::NumericString => DnValue::PrintableString(
            PrintableString::try_from(text()?).map_err(|e| bad(e.to_string()))?,
        ),
        Tag::Ia5String => {
            DnValue::Ia5String(Ia5String::try_from(text()?).map_err(|e| bad(e.to_string()))?)
        }
        Tag::T61String => DnValue::TeletexString(
            TeletexString::try_from(text()?).map_err(|e| bad(e.to_string()))?,
        ),
        Tag::BmpString => DnValue::BmpString(
            BmpString::from_utf16be(data.to_vec()).map_err(|e| bad(e.to_string()))?,
        ),
        Tag::UniversalString => DnValue::UniversalString(
            UniversalString::from_utf32be(data.to_vec()).map_err(|e| bad(e.to_string()))?,
        ),
        other => return Err(bad(format!("tag {other:?}"))),
    };
    Ok(value)
}
