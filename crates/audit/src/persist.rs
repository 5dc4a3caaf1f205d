//! How audit state is stored: one document per record, in these kinds.

use fleetward_store::documents;
use fleetward_store::{Document, Store};
use serde::de::DeserializeOwned;

use crate::error::AuditResult;

/// Key `account`: the account's audit configuration.
pub const CONFIG: &str = "audit.config";
pub const CONFIG_KEY: &str = "account";
/// Key: task id.
pub const TASK: &str = "audit.task";
/// Key: finding id (task id + check index + sequence number).
pub const FINDING: &str = "audit.finding";
/// Key: finding id + `-` + 6-digit chunk number; body: a list of related resources.
pub const RELATED: &str = "audit.related";
/// Key: check name + `|` + canonical resource identifier.
pub const SUPPRESSION: &str = "audit.suppression";
/// Key: scheduled audit name.
pub const SCHEDULED: &str = "audit.scheduled";
/// Key: check name; body: the id of the last task whose results of that check reached the hub.
pub const HUB_POINTER: &str = "audit.hub-pointer";
/// Admin-registered inputs (see `admin_docs.rs`). Key: `url:URL` or `upload:ID`.
pub const CRL: &str = "audit.crl";
/// Key: IAM role ARN.
pub const IAM_ROLE: &str = "audit.iam-role";
/// Key: Cognito identity pool id.
pub const IDENTITY_POOL: &str = "audit.identity-pool";

/// Related resources per `audit.related` document.
pub const RELATED_CHUNK: usize = 1000;

pub use fleetward_store::documents::{delete, prefix_page, put_json as put};

pub fn decode<T: DeserializeOwned>(doc: &Document) -> AuditResult<T> {
    Ok(documents::decode(doc)?)
}

/// Every document of a kind, decoded.
pub async fn load_all<T: DeserializeOwned>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
) -> AuditResult<Vec<(String, T)>> {
    documents::load_all_decoded(store, account_id, kind, 1000).await
}

/// Deletes every document of a kind whose key starts with `prefix`, in batches.
pub async fn delete_prefix(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
) -> AuditResult<u64> {
    Ok(documents::delete_prefix(store, account_id, kind, prefix, 2000).await?)
}
