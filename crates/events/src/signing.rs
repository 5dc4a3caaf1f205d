//! The key that signs notifications, and its certificate (served at `SigningCertURL`).
//!
//! SNS signs with RSA (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA) and every SNS
//! message validator assumes RSA, so this is an RSA-2048 key, certified by Fleetward's
//! issuing CA (so the certificate chains to `root-ca.pem`). ring, our crypto library
//! elsewhere, can neither generate RSA keys nor sign SHA1withRSA, and one RSA signature per
//! message is what limits signed delivery: OpenSSL (built from source by the `vendored`
//! feature, so no system library is needed) signs both versions, twice as fast as ring and
//! five times as fast as the pure-Rust `rsa` crate (`examples/signing_bench.rs`).
//!
//! Files in the data dir: `sns-signing.key` (PKCS#8, mode 0600) and `sns-signing.pem` (the
//! certificate, then the issuing CA). The certificate is re-issued at start when it is
//! missing, no longer matches the key or the issuing CA, or expires within 30 days.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fleetward_ca::{CertificateAuthority, SERVER_RENEW_BEFORE_MS};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;

pub const KEY_FILE: &str = "sns-signing.key";
pub const CERT_FILE: &str = "sns-signing.pem";
const KEY_BITS: u32 = 2048;
const COMMON_NAME: &str = "Fleetward Notification Signing";

/// SNS's `SignatureVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    /// SHA1withRSA, SNS's default.
    V1,
    /// SHA256withRSA.
    V2,
}

impl SignatureVersion {
    pub fn from_attribute(value: Option<&str>) -> Self {
        match value {
            Some("2") => Self::V2,
            _ => Self::V1,
        }
    }

    pub fn number(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
        }
    }
}

pub struct Signer {
    key: PKey<Private>,
    certificate_pem: String,
    file_name: String,
}

impl Signer {
    /// Loads the key and certificate from `dir`, creating or re-issuing what is missing.
    pub fn load_or_create(
        dir: &Path,
        ca: &CertificateAuthority,
        now_ms: i64,
    ) -> Result<Signer, String> {
        let key_path = dir.join(KEY_FILE);
        let key = match std::fs::read(&key_path) {
            Ok(pem) => PKey::private_key_from_pem(&pem)
                .map_err(|e| format!("{}: {e}", key_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Rsa::generate(KEY_BITS)
                    .and_then(PKey::from_rsa)
                    .map_err(|e| format!("cannot generate the signing key: {e}"))?;
                let pem = key
                    .private_key_to_pem_pkcs8()
                    .map_err(|e| format!("cannot encode the signing key: {e}"))?;
                write_atomic(&key_path, &pem, 0o600)?;
                key
            }
            Err(e) => return Err(format!("{}: {e}", key_path.display())),
        };
        if key.rsa().is_err() {
            return Err(format!("{}: not an RSA key", key_path.display()));
        }
        let spki = key
            .public_key_to_der()
            .map_err(|e| format!("cannot encode the signing key: {e}"))?;
        let cert_path = dir.join(CERT_FILE);
        let stored = std::fs::read_to_string(&cert_path).ok();
        let certificate_pem = match stored.filter(|pem| still_good(pem, &spki, ca, now_ms)) {
            Some(pem) => pem,
            None => {
                let leaf = ca
                    .certify_signing_key(&spki, COMMON_NAME, now_ms)
                    .map_err(|e| format!("cannot certify the signing key: {}", e.message()))?;
                let chain = format!("{leaf}{}", ca.issuing_pem());
                write_atomic(&cert_path, chain.as_bytes(), 0o644)?;
                chain
            }
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, certificate_pem.as_bytes());
        let file_name = format!(
            "SimpleNotificationService-{}.pem",
            hex::encode(&digest.as_ref()[..16])
        );
        Ok(Signer {
            key,
            certificate_pem,
            file_name,
        })
    }

    /// The certificate then the issuing CA, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The last path segment of `SigningCertURL`; changes with the certificate.
    pub fn certificate_file_name(&self) -> &str {
        &self.file_name
    }

    /// The base64 `Signature` of a string to sign. PKCS #1 v1.5 padding is deterministic;
    /// OpenSSL blinds the private-key operation, so timing does not reveal the key.
    pub fn sign(&self, version: SignatureVersion, data: &[u8]) -> Result<String, String> {
        let digest = match version {
            SignatureVersion::V1 => MessageDigest::sha1(),
            SignatureVersion::V2 => MessageDigest::sha256(),
        };
        let signature = openssl::sign::Signer::new(digest, &self.key)
            .and_then(|mut signer| signer.sign_oneshot_to_vec(data))
            .map_err(|e| format!("signing failed: {e}"))?;
        Ok(STANDARD.encode(signature))
    }
}

/// The stored certificate still certifies this key, is signed by the current issuing CA and
/// has more than 30 days left.
fn still_good(pem: &str, spki: &[u8], ca: &CertificateAuthority, now_ms: i64) -> bool {
    let Some(leaf) = leaf_of(pem) else {
        return false;
    };
    leaf.key.spki_der == spki
        && fleetward_ca::is_signed_by(&leaf, ca.issuing())
        && now_ms < leaf.not_after_ms.saturating_sub(SERVER_RENEW_BEFORE_MS)
}

/// The first certificate of a chain.
pub fn leaf_of(chain: &str) -> Option<fleetward_ca::ParsedCertificate> {
    let blocks = pem::parse_many(chain).ok()?;
    let first = blocks.first().filter(|b| b.tag() == "CERTIFICATE")?;
    fleetward_ca::parse_certificate_der(first.contents()).ok()
}

/// Temp file, fsync, rename: a crash never leaves half a key.
fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{
        RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256,
        RsaPublicKeyComponents,
    };

    const NOW: i64 = 1_790_000_000_000;

    /// The certificate's RSA modulus and exponent.
    fn public_key(signer: &Signer) -> (Vec<u8>, Vec<u8>) {
        let leaf = leaf_of(signer.certificate_pem()).unwrap();
        let rsa = leaf.key.rsa.expect("an RSA key");
        (rsa.modulus, rsa.exponent)
    }

    #[test]
    fn both_signature_versions_verify_with_the_certified_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
        let signer = Signer::load_or_create(dir.path(), &ca, NOW).unwrap();
        let data = b"Message\nhello\nMessageId\n1\nTimestamp\nx\nTopicArn\ny\nType\nNotification\n";
        let (n, e) = public_key(&signer);
        let key = RsaPublicKeyComponents { n: &n, e: &e };
        for (version, alg) in [
            (
                SignatureVersion::V1,
                &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            ),
            (SignatureVersion::V2, &RSA_PKCS1_2048_8192_SHA256),
        ] {
            let signature = STANDARD
                .decode(signer.sign(version, data).unwrap())
                .unwrap();
            key.verify(alg, data, &signature)
                .unwrap_or_else(|_| panic!("{version:?} does not verify"));
        }
        let leaf = leaf_of(signer.certificate_pem()).unwrap();
        assert!(fleetward_ca::is_signed_by(&leaf, ca.issuing()));
    }

    #[test]
    fn the_key_and_certificate_are_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let ca = CertificateAuthority::load_or_create(dir.path(), &[], NOW).unwrap();
        let first = Signer::load_or_create(dir.path(), &ca, NOW).unwrap();
        let second = Signer::load_or_create(dir.path(), &ca, NOW + 1000).unwrap();
        assert_eq!(first.certificate_pem(), second.certificate_pem());
        assert_eq!(
            first.certificate_file_name(),
            second.certificate_file_name()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Close to expiry, the certificate (not the key) is renewed.
        let later = NOW + 390 * 86_400_000;
        let third = Signer::load_or_create(dir.path(), &ca, later).unwrap();
        assert_ne!(first.certificate_pem(), third.certificate_pem());
        assert_eq!(public_key(&first), public_key(&third));
    }
}
