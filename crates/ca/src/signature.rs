//! Signature algorithms: their names, and which ones we trust to verify.

use x509_parser::der_parser::asn1_rs::BitString;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

/// Dotted OID, OpenSSL's name, and whether we verify signatures made with it.
/// SHA-1 and MD5 are named but never verified: collisions make them forgeable.
const ALGORITHMS: &[(&str, &str, bool)] = &[
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption", true),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption", true),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption", true),
    ("1.2.840.113549.1.1.10", "rsassaPss", true),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256", true),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384", true),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512", false),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption", false),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption", false),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1", false),
    ("1.3.101.112", "ED25519", false),
    ("1.2.840.10040.4.3", "dsaWithSHA1", false),
    ("2.16.840.1.101.3.4.3.2", "dsa_with_SHA256", false),
];

/// OpenSSL's name for a signature algorithm, or its dotted OID.
pub(crate) fn name(algorithm: &AlgorithmIdentifier<'_>) -> String {
    let oid = algorithm.algorithm.to_id_string();
    ALGORITHMS
        .iter()
        .find(|(dotted, _, _)| *dotted == oid)
        .map_or(oid, |(_, name, _)| name.to_string())
}

/// Does `signer` verify `signature` over `signed`? Only RSA PKCS#1 v1.5 and PSS with
/// SHA-256/384/512 (2048 to 8192 bits, ring's limits) and ECDSA P-256/P-384 pass.
pub(crate) fn verify(
    signer: &SubjectPublicKeyInfo<'_>,
    algorithm: &AlgorithmIdentifier<'_>,
    signature: &BitString<'_>,
    signed: &[u8],
) -> bool {
    let oid = algorithm.algorithm.to_id_string();
    let trusted = ALGORITHMS
        .iter()
        .any(|(dotted, _, ok)| *ok && *dotted == oid);
    trusted && x509_parser::verify::verify_signature(signer, algorithm, signature, signed).is_ok()
}
