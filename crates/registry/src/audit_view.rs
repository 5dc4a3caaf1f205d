//! What Device Defender audit reads of the registry: a copy of one account's certificates,
//! CA certificates, policies (default versions), role aliases and logging options, taken
//! under the read lock in one go so that the checks run on a consistent snapshot without
//! holding the lock. Certificate PEMs live in the store only and are read in pages.

use crate::Registry;
use crate::error::RegistryResult;
use crate::persist;
use crate::records::{CertId, CertStatus};

/// A device certificate as audit sees it.
#[derive(Debug, Clone)]
pub struct AuditCertificate {
    pub id: CertId,
    pub status: CertStatus,
    pub ca_id: Option<CertId>,
    pub created_ms: i64,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

/// A CA certificate as audit sees it.
#[derive(Debug, Clone)]
pub struct AuditCaCertificate {
    pub id: CertId,
    /// `ACTIVE`, `INACTIVE` (or `PENDING_TRANSFER`).
    pub status: String,
    pub subject: String,
    pub pem: String,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
}

/// An IoT policy's default version.
#[derive(Debug, Clone)]
pub struct AuditPolicy {
    pub name: String,
    pub default_version: u32,
    pub document: String,
}

#[derive(Debug, Clone)]
pub struct AuditRoleAlias {
    pub name: String,
    pub arn: String,
    pub role_arn: String,
}

/// The account's logging options: (v1 level) and (v2 default level, disableAllLogs).
#[derive(Debug, Clone, Default)]
pub struct AuditLogging {
    pub v1_level: Option<String>,
    pub v2: Option<(String, bool)>,
}

/// One account's registry as audit reads it.
#[derive(Debug, Clone, Default)]
pub struct AuditView {
    pub certificates: Vec<AuditCertificate>,
    pub ca_certificates: Vec<AuditCaCertificate>,
    pub policies: Vec<AuditPolicy>,
    pub role_aliases: Vec<AuditRoleAlias>,
    pub logging: AuditLogging,
}

impl Registry {
    /// A snapshot of what the audit checks read (certificates in creation order, policies and
    /// role aliases in name order).
    pub fn audit_view(&self, account_id: &str) -> AuditView {
        self.read(account_id, |state| {
            let certificates = state
                .certificates_by_created
                .iter()
                .filter_map(|(_, id)| state.certificates.get(id))
                .map(|c| AuditCertificate {
                    id: c.id,
                    status: c.status,
                    ca_id: c.ca_id,
                    created_ms: c.created_ms,
                    not_before_ms: c.not_before_ms,
                    not_after_ms: c.not_after_ms,
                })
                .collect();
            let ca_certificates = state
                .ca_by_created
                .iter()
                .filter_map(|(_, id)| state.ca_certificates.get(id))
                .map(|c| AuditCaCertificate {
                    id: c.id,
                    status: c.status.clone(),
                    subject: c.subject.clone(),
                    pem: c.pem.clone(),
                    not_before_ms: c.not_before_ms,
                    not_after_ms: c.not_after_ms,
                })
                .collect();
            let policies = state
                .policies
                .values()
                .filter_map(|p| {
                    let version = p.stored.versions.get(&p.stored.default_version)?;
                    Some(AuditPolicy {
                        name: p.stored.name.clone(),
                        default_version: p.stored.default_version,
                        document: version.document.clone(),
                    })
                })
                .collect();
            let role_aliases = state
                .role_aliases
                .values()
                .map(|a| AuditRoleAlias {
                    name: a.name.clone(),
                    arn: self.arn(account_id, &format!("rolealias/{}", a.name)),
                    role_arn: a.role_arn.clone(),
                })
                .collect();
            AuditView {
                certificates,
                ca_certificates,
                policies,
                role_aliases,
                logging: AuditLogging {
                    v1_level: state.logging_v1.as_ref().map(|l| l.log_level.clone()),
                    v2: state
                        .logging_v2
                        .as_ref()
                        .map(|l| (l.default_log_level.clone(), l.disable_all_logs)),
                },
            }
        })
    }

    /// One page of the account's device certificate PEMs, in certificate id order, after
    /// `after` (a certificate id), at most `limit`.
    pub async fn certificate_pem_page(
        &self,
        account_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> RegistryResult<Vec<(CertId, String)>> {
        let docs = self
            .store
            .list_documents_page(account_id, persist::CERT_PEM, after, limit)
            .await?;
        Ok(docs
            .into_iter()
            .filter_map(|d| {
                let id: CertId = d.key.parse().ok()?;
                let pem: String = serde_json::from_str(&d.body).ok()?;
                Some((id, pem))
            })
            .collect())
    }

    /// The PEM of one device certificate, if registered.
    pub async fn certificate_pem(
        &self,
        account_id: &str,
        id: &CertId,
    ) -> RegistryResult<Option<String>> {
        let doc = self
            .store
            .get_document(account_id, persist::CERT_PEM, &id.to_string())
            .await?;
        Ok(doc.and_then(|d| serde_json::from_str(&d.body).ok()))
    }
}
