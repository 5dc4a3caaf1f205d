//! Inputs an admin registers for the checks that need data Fleetward cannot see itself:
//! IAM roles (their permission policies and the services they used in the last year) behind
//! role aliases and Cognito identity pools, the pools' roles, and CRLs. Written by
//! `fleetward admin` straight into the store; each audit reads them afresh.

use base64::Engine;
use fleetward_store::Store;
use serde::{Deserialize, Serialize};

use crate::crl::{Crl, StoredCrl};
use crate::error::{AuditError, AuditResult};
use crate::persist;

/// An IAM role as the role-alias and Cognito checks read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamRoleDoc {
    pub role_arn: String,
    /// Permission policy documents (inline and attached), JSON text.
    pub policies: Vec<String>,
    /// Services the role used in the last year (IAM service-last-accessed data), e.g.
    /// `["iot", "s3"]`; `None` when unknown (the unused-services check then skips the role).
    #[serde(default)]
    pub last_accessed_services: Option<Vec<String>>,
}

/// A Cognito identity pool and its roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPoolDoc {
    pub pool_id: String,
    #[serde(default)]
    pub authenticated_role_arn: Option<String>,
    #[serde(default)]
    pub unauthenticated_role_arn: Option<String>,
}

fn now_ms() -> i64 {
    fleetward_model::Clock::now_ms(&fleetward_model::SystemClock)
}

/// Registers (or replaces) an IAM role; every policy must read as a policy document.
pub async fn put_iam_role(
    store: &dyn Store,
    account_id: &str,
    role: &IamRoleDoc,
) -> AuditResult<()> {
    if role.role_arn.len() < 20 || !role.role_arn.starts_with("arn:") {
        return Err(AuditError::invalid(
            "The role ARN must be an ARN of 20 characters or more.",
        ));
    }
    fleetward_policy::analysis::role_access(&role.policies).map_err(AuditError::InvalidRequest)?;
    let write = persist::put(
        account_id,
        persist::IAM_ROLE,
        &role.role_arn,
        role,
        now_ms(),
    );
    store.write_documents(&[write]).await?;
    Ok(())
}

pub async fn put_identity_pool(
    store: &dyn Store,
    account_id: &str,
    pool: &IdentityPoolDoc,
) -> AuditResult<()> {
    if pool.pool_id.is_empty() || pool.pool_id.len() > 55 {
        return Err(AuditError::invalid(
            "The identity pool id must be 1 to 55 characters.",
        ));
    }
    let write = persist::put(
        account_id,
        persist::IDENTITY_POOL,
        &pool.pool_id,
        pool,
        now_ms(),
    );
    store.write_documents(&[write]).await?;
    Ok(())
}

/// Stores an uploaded CRL (DER or PEM); returns its key.
pub async fn put_crl(store: &dyn Store, account_id: &str, bytes: &[u8]) -> AuditResult<String> {
    let crl = Crl::parse(bytes, true).map_err(AuditError::InvalidRequest)?;
    let der = crl_der(bytes)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    let key = format!("upload:{}", hex::encode(&digest.as_ref()[..16]));
    let stored = StoredCrl {
        source: "upload".into(),
        url: None,
        der: base64::engine::general_purpose::STANDARD.encode(&der),
        fetched_ms: now_ms(),
        next_update_ms: crl.next_update_ms,
    };
    store
        .write_documents(&[persist::put(
            account_id,
            persist::CRL,
            &key,
            &stored,
            now_ms(),
        )])
        .await?;
    Ok(key)
}

fn crl_der(bytes: &[u8]) -> AuditResult<Vec<u8>> {
    match std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains("-----BEGIN"))
    {
        Some(t) => x509_parser::pem::parse_x509_pem(t.trim_start().as_bytes())
            .map(|(_, p)| p.contents)
            .map_err(|e| AuditError::invalid(format!("not a PEM CRL: {e}"))),
        None => Ok(bytes.to_vec()),
    }
}

/// Removes a registered document (`kind`: role, pool or crl); `false` if it did not exist.
pub async fn delete(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    key: &str,
) -> AuditResult<bool> {
    let kind = match kind {
        "role" => persist::IAM_ROLE,
        "pool" => persist::IDENTITY_POOL,
        "crl" => persist::CRL,
        other => {
            return Err(AuditError::invalid(format!(
                "unknown document kind {other}"
            )));
        }
    };
    Ok(store.delete_document(account_id, kind, key).await?)
}

/// (kind, key) of every registered document of the account.
pub async fn list(store: &dyn Store, account_id: &str) -> AuditResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (label, kind) in [
        ("role", persist::IAM_ROLE),
        ("pool", persist::IDENTITY_POOL),
        ("crl", persist::CRL),
    ] {
        for doc in store.list_documents(account_id, kind).await? {
            out.push((label.to_string(), doc.key));
        }
    }
    Ok(out)
}
