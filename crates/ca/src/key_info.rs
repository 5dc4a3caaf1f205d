//! What a certificate's public key is, in the terms audit checks need.

use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

/// A certificate's subject public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// "RSA", "EC", "Ed25519", "DSA", or the dotted OID of anything else.
    pub algorithm: String,
    /// Key size in bits: the RSA modulus length, the EC field size; 0 when unknown.
    pub bits: u32,
    /// For EC keys: "P-256", "P-384", "P-521", or the curve's dotted OID.
    pub curve: Option<String>,
    /// For RSA keys: the modulus and public exponent, big-endian without leading zeros
    /// (what ROCA and Debian weak-key checks look at).
    pub rsa: Option<RsaPublicKey>,
    /// The DER SubjectPublicKeyInfo, for comparing keys across certificates.
    pub spki_der: Vec<u8>,
}

/// An RSA public key's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

const CURVES: &[(&str, &str, u32)] = &[
    ("1.2.840.10045.3.1.7", "P-256", 256),
    ("1.3.132.0.34", "P-384", 384),
    ("1.3.132.0.35", "P-521", 521),
];

impl PublicKeyInfo {
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyInfo {
        let oid = spki.algorithm.algorithm.to_id_string();
        let mut info = PublicKeyInfo {
            algorithm: oid.clone(),
            bits: 0,
            curve: None,
            rsa: None,
            spki_der: spki.raw.to_vec(),
        };
        match spki.parsed() {
            Ok(PublicKey::RSA(key)) => {
                let modulus = strip_leading_zeros(key.modulus);
                info.algorithm = "RSA".to_string();
                info.bits = bit_length(&modulus);
                info.rsa = Some(RsaPublicKey {
                    modulus,
                    exponent: strip_leading_zeros(key.exponent),
                });
            }
            Ok(PublicKey::EC(point)) => {
                info.algorithm = "EC".to_string();
                let curve_oid = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| oid.to_id_string());
                let known = curve_oid
                    .as_deref()
                    .and_then(|c| CURVES.iter().find(|(dotted, _, _)| *dotted == c));
                info.bits = match known {
                    Some((_, _, bits)) => *bits,
                    None => u32::try_from(point.key_size()).unwrap_or(0),
                };
                info.curve = known.map(|(_, name, _)| name.to_string()).or(curve_oid);
            }
            Ok(PublicKey::DSA(y)) => {
                info.algorithm = "DSA".to_string();
                info.bits = bit_length(&strip_leading_zeros(y));
            }
            _ if oid == "1.3.101.112" => {
                info.algorithm = "Ed25519".to_string();
                info.bits = 256;
            }
            _ => {}
        }
        info
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// Bits in a big-endian unsigned integer without leading zero bytes.
fn bit_length(bytes: &[u8]) -> u32 {
    match bytes.first() {
        None => 0,
        Some(&first) => {
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX / 8);
            (len - 1) * 8 + (8 - first.leading_zeros())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_the_top_byte_exactly() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f, 0]), 15);
        assert_eq!(strip_leading_zeros(&[0, 0, 5]), vec![5]);
    }
}
