//! Fleetward's own CA: a root devices trust, an issuing CA that signs device certificates,
//! and the gateway's TLS server certificate, kept as PEM files in one directory.
//!
//! Every key is ECDSA P-256: ring (our one crypto library) generates it quickly, and OpenSSL,
//! mbedTLS, paho and mosquitto all take it. ring cannot generate RSA keys; CSRs with RSA keys
//! are still signed (see [`CertificateAuthority::sign_csr`]).

use std::path::Path;

use rcgen::{
    CertificateParams, Issuer, KeyPair, PKCS_ECDSA_P256_SHA256, PublicKeyData, SigningKey,
};

use crate::certificate::{ParsedCertificate, parse_certificate_der, parse_certificate_pem};
use crate::error::CaError;
use crate::files::{self, Access};
use crate::profiles::{self, SERVER_RENEW_BEFORE_MS, ServerNames};
use crate::time::AWS_DEVICE_NOT_AFTER_MS;
use crate::{csr, pem, verify};

/// The root CA certificate devices trust.
pub const ROOT_CERT_FILE: &str = "root-ca.pem";
pub const ROOT_KEY_FILE: &str = "root-ca.key";
/// The CA that signs device certificates; signed by the root.
pub const ISSUING_CERT_FILE: &str = "issuing-ca.pem";
pub const ISSUING_KEY_FILE: &str = "issuing-ca.key";
/// The gateway's TLS certificate followed by the issuing CA.
pub const SERVER_CERT_FILE: &str = "server.pem";
pub const SERVER_KEY_FILE: &str = "server.key";

/// The certificate authority. Immutable once loaded, so it is shared freely across threads.
pub struct CertificateAuthority {
    root: ParsedCertificate,
    issuing: ParsedCertificate,
    server: ParsedCertificate,
    server_chain_pem: String,
    server_key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// What CreateKeysAndCertificate returns. The private key is not kept anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKeys {
    pub certificate_pem: String,
    /// SubjectPublicKeyInfo, "PUBLIC KEY".
    pub public_key_pem: String,
    /// PKCS#8, "PRIVATE KEY" (OpenSSL, paho, mosquitto and rustls all load it).
    pub private_key_pem: String,
}

/// A CA certificate with its key, as stored.
struct StoredCa {
    cert: ParsedCertificate,
    key: KeyPair,
}

impl CertificateAuthority {
    /// Loads the CA from `dir` or, on first start, creates it: the root (`root-ca.pem`/`.key`),
    /// the issuing CA (`issuing-ca.pem`/`.key`) and the server certificate (`server.pem` =
    /// leaf + issuing CA, `server.key`) for localhost, 127.0.0.1, ::1 and `server_names`.
    ///
    /// An existing root is never replaced: a root certificate without its key is an error.
    /// The server certificate is re-issued when its names differ from `server_names`, it is
    /// within 30 days of expiry, or it no longer matches its key or the issuing CA.
    /// Keys are written 0600; every file is written to a temp file, fsynced and renamed, and
    /// a key before its certificate, so a crash never leaves a half or mismatched pair.
    pub fn load_or_create(
        dir: &Path,
        server_names: &[String],
        now_ms: i64,
    ) -> Result<CertificateAuthority, CaError> {
        let names = ServerNames::new(server_names)?;
        files::ensure_dir(dir)?;
        let (root, root_created) = match load_ca(dir, ROOT_CERT_FILE, ROOT_KEY_FILE)? {
            Some(root) => (root, false),
            None => (create_root(dir, now_ms)?, true),
        };
        // A new root needs a new issuing CA: an old one cannot chain to it.
        let stored = if root_created {
            None
        } else {
            load_ca(dir, ISSUING_CERT_FILE, ISSUING_KEY_FILE)?
        };
        let issuing = match stored {
            Some(issuing) if verify::is_signed_by(&issuing.cert, &root.cert) => issuing,
            Some(_) => {
                return Err(CaError::internal(format!(
                    "{ISSUING_CERT_FILE} is not signed by {ROOT_CERT_FILE}; refusing to replace it"
                )));
            }
            None => create_issuing(dir, &root, now_ms)?,
        };
        let issuing_cert = issuing.cert;
        let issuer =
            Issuer::from_ca_cert_pem(&issuing_cert.pem, issuing.key).map_err(rcgen_error)?;
        let (server, server_chain_pem, server_key_pem) =
            match load_server(dir, &issuing_cert, &names, now_ms)? {
                Some(server) => server,
                None => create_server(dir, &issuer, &issuing_cert, &names, now_ms)?,
            };
        Ok(CertificateAuthority {
            root: root.cert,
            issuing: issuing_cert,
            server,
            server_chain_pem,
            server_key_pem,
            issuer,
        })
    }

    pub fn root_pem(&self) -> &str {
        &self.root.pem
    }

    pub fn issuing_pem(&self) -> &str {
        &self.issuing.pem
    }

    /// The server certificate then the issuing CA.
    pub fn server_chain_pem(&self) -> &str {
        &self.server_chain_pem
    }

    pub fn server_key_pem(&self) -> &str {
        &self.server_key_pem
    }

    pub fn root(&self) -> &ParsedCertificate {
        &self.root
    }

    /// The CA that signs device certificates: `is_signed_by(device, ca.issuing())` tells a
    /// certificate we issued.
    pub fn issuing(&self) -> &ParsedCertificate {
        &self.issuing
    }

    /// The server (leaf) certificate; its `not_after_ms` tells when to reload.
    pub fn server(&self) -> &ParsedCertificate {
        &self.server
    }

    /// CreateKeysAndCertificate: a fresh P-256 key pair and a certificate for it, subject
    /// CN=AWS IoT Certificate, valid from `now_ms` to 2049-12-31T23:59:59Z as AWS issues them.
    pub fn issue_keys_and_certificate(&self, now_ms: i64) -> Result<IssuedKeys, CaError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
        let params = profiles::device(
            profiles::device_subject(),
            false,
            now_ms,
            self.device_not_after(now_ms)?,
        )?;
        Ok(IssuedKeys {
            certificate_pem: self.sign(&params, &key)?,
            public_key_pem: key.public_key_pem(),
            private_key_pem: key.serialize_pem(),
        })
    }

    /// CreateCertificateFromCsr: checks the CSR's self-signature and key (RSA 2048+ or ECDSA
    /// P-256/P-384), then certifies its subject and public key with the issuing CA. The CSR's
    /// requested extensions are ignored; validity is as for [`Self::issue_keys_and_certificate`].
    pub fn sign_csr(&self, csr_pem: &str, now_ms: i64) -> Result<String, CaError> {
        let csr = csr::read(csr_pem)?;
        let params = profiles::device(
            csr.subject,
            csr.is_rsa,
            now_ms,
            self.device_not_after(now_ms)?,
        )?;
        self.sign(&params, &csr.public_key)
    }

    /// Signs `data` with the issuing CA key: ECDSA P-256 with SHA-256, DER-encoded
    /// (verify with the issuing certificate's public key).
    pub fn sign_bytes(&self, data: &[u8]) -> Result<Vec<u8>, CaError> {
        self.issuer.key().sign(data).map_err(rcgen_error)
    }

    /// Certifies a message-signing public key (DER SubjectPublicKeyInfo, e.g. the RSA key
    /// that signs SNS notifications) with the issuing CA: subject `O=Fleetward, CN=common_name`,
    /// digitalSignature only, valid 397 days (never past the issuing CA).
    pub fn certify_signing_key(
        &self,
        spki_der: &[u8],
        common_name: &str,
        now_ms: i64,
    ) -> Result<String, CaError> {
        let key = rcgen::SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|e| CaError::invalid("not a public key").with_detail(e))?;
        let mut params = profiles::message_signing(common_name, now_ms)?;
        let ca_end = crate::time::from_ms(self.issuing.not_after_ms)?;
        if params.not_after > ca_end {
            params.not_after = ca_end;
        }
        self.sign(&params, &key)
    }

    fn sign(
        &self,
        params: &CertificateParams,
        key: &impl PublicKeyData,
    ) -> Result<String, CaError> {
        let cert = params.signed_by(key, &self.issuer).map_err(rcgen_error)?;
        Ok(pem::encode("CERTIFICATE", cert.der()))
    }

    /// AWS's 2049-12-31T23:59:59Z, or the issuing CA's own end if that comes first or that
    /// date has passed: a certificate never outlives its issuer.
    fn device_not_after(&self, now_ms: i64) -> Result<i64, CaError> {
        let ca_end = self.issuing.not_after_ms;
        let not_after = if now_ms < AWS_DEVICE_NOT_AFTER_MS {
            AWS_DEVICE_NOT_AFTER_MS.min(ca_end)
        } else {
            ca_end
        };
        if not_after <= now_ms {
            return Err(CaError::internal("the issuing CA certificate has expired"));
        }
        Ok(not_after)
    }
}

/// Loads a CA certificate and key, or `None` if the certificate file does not exist (the
/// certificate is written last, so its presence means the pair was completed).
fn load_ca(dir: &Path, cert_file: &str, key_file: &str) -> Result<Option<StoredCa>, CaError> {
    let Some(cert_pem) = files::read_optional(&dir.join(cert_file))? else {
        return Ok(None);
    };
    let Some(key_pem) = files::read_optional(&dir.join(key_file))? else {
        return Err(CaError::internal(format!(
            "{cert_file} exists but {key_file} is missing; refusing to replace an existing CA"
        )));
    };
    let cert = parse_certificate_pem(&cert_pem)
        .map_err(|e| CaError::internal(format!("{cert_file}: {e}")))?;
    let key =
        KeyPair::from_pem(&key_pem).map_err(|e| CaError::internal(format!("{key_file}: {e}")))?;
    if key.subject_public_key_info() != cert.key.spki_der {
        return Err(CaError::internal(format!(
            "{key_file} is not the key of {cert_file}"
        )));
    }
    if !cert.is_ca {
        return Err(CaError::internal(format!(
            "{cert_file} is not a CA certificate"
        )));
    }
    Ok(Some(StoredCa { cert, key }))
}

fn create_root(dir: &Path, now_ms: i64) -> Result<StoredCa, CaError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
    let cert = profiles::root(now_ms)?
        .self_signed(&key)
        .map_err(rcgen_error)?;
    store(dir, ROOT_CERT_FILE, ROOT_KEY_FILE, cert.der(), key)
}

fn create_issuing(dir: &Path, root: &StoredCa, now_ms: i64) -> Result<StoredCa, CaError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
    let root_issuer = Issuer::from_ca_cert_pem(&root.cert.pem, &root.key).map_err(rcgen_error)?;
    let cert = profiles::issuing(now_ms)?
        .signed_by(&key, &root_issuer)
        .map_err(rcgen_error)?;
    store(dir, ISSUING_CERT_FILE, ISSUING_KEY_FILE, cert.der(), key)
}

/// Writes the key, then the certificate (see [`load_ca`]).
fn store(
    dir: &Path,
    cert_file: &str,
    key_file: &str,
    der: &[u8],
    key: KeyPair,
) -> Result<StoredCa, CaError> {
    let cert = parse_certificate_der(der)?;
    files::write_atomic(
        &dir.join(key_file),
        key.serialize_pem().as_bytes(),
        Access::OwnerOnly,
    )?;
    files::write_atomic(&dir.join(cert_file), cert.pem.as_bytes(), Access::Public)?;
    Ok(StoredCa { cert, key })
}

type Server = (ParsedCertificate, String, String);

/// The stored server certificate, chain and key if they are still right to serve.
fn load_server(
    dir: &Path,
    issuing: &ParsedCertificate,
    names: &ServerNames,
    now_ms: i64,
) -> Result<Option<Server>, CaError> {
    let chain = files::read_optional(&dir.join(SERVER_CERT_FILE))?;
    let key_pem = files::read_optional(&dir.join(SERVER_KEY_FILE))?;
    let (Some(chain), Some(key_pem)) = (chain, key_pem) else {
        return Ok(None);
    };
    let Ok(blocks) = pem::decode_all(&chain, "CERTIFICATE") else {
        return Ok(None);
    };
    let (Some(leaf), Ok(key)) = (blocks.first(), KeyPair::from_pem(&key_pem)) else {
        return Ok(None);
    };
    let Ok(leaf) = parse_certificate_der(leaf) else {
        return Ok(None);
    };
    let reason = if key.subject_public_key_info() != leaf.key.spki_der {
        Some("key does not match")
    } else if blocks.len() != 2 || blocks[1] != issuing.der || !verify::is_signed_by(&leaf, issuing)
    {
        Some("issuing CA changed")
    } else if ServerNames::from_san(&leaf.san) != *names {
        Some("server names changed")
    } else if now_ms >= leaf.not_after_ms.saturating_sub(SERVER_RENEW_BEFORE_MS) {
        Some("expires within 30 days")
    } else {
        None
    };
    if let Some(reason) = reason {
        tracing::info!(reason, "re-issuing the gateway's server certificate");
        return Ok(None);
    }
    Ok(Some((leaf, chain, key_pem)))
}

fn create_server(
    dir: &Path,
    issuer: &Issuer<'static, KeyPair>,
    issuing: &ParsedCertificate,
    names: &ServerNames,
    now_ms: i64,
) -> Result<Server, CaError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
    let cert = profiles::server(names, now_ms)?
        .signed_by(&key, issuer)
        .map_err(rcgen_error)?;
    let leaf = parse_certificate_der(cert.der())?;
    let chain = format!("{}{}", leaf.pem, issuing.pem);
    let key_pem = key.serialize_pem();
    files::write_atomic(
        &dir.join(SERVER_KEY_FILE),
        key_pem.as_bytes(),
        Access::OwnerOnly,
    )?;
    files::write_atomic(
        &dir.join(SERVER_CERT_FILE),
        chain.as_bytes(),
        Access::Public,
    )?;
    Ok((leaf, chain, key_pem))
}

fn rcgen_error(err: rcgen::Error) -> CaError {
    CaError::internal(format!("rcgen: {err}"))
}

#[cfg(test)]
#[path = "authority_tests.rs"]
mod tests;
