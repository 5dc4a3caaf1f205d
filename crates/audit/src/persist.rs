//! How audit state is stored: one document per record, in these kinds.

use fleetward_store::{Document, DocumentWrite, Store};
use serde::Serialize;
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

pub fn put<T: Serialize>(
    account_id: &str,
    kind: &str,
    key: &str,
    value: &T,
    now_ms: i64,
) -> DocumentWrite {
    DocumentWrite::Put(Document {
        account_id: account_id.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
        body: serde_json::to_string(value).unwrap_or_else(|_| "null".into()),
        created_ms: now_ms,
        updated_ms: now_ms,
    })
}

pub fn delete(account_id: &str, kind: &str, key: &str) -> DocumentWrite {
    DocumentWrite::Delete {
        account_id: account_id.to_string(),
        kind: kind.to_string(),
        key: key.to_string(),
    }
}

pub fn decode<T: DeserializeOwned>(doc: &Document) -> AuditResult<T> {
    Ok(serde_json::from_str(&doc.body)?)
}

/// Every document of a kind, decoded.
pub async fn load_all<T: DeserializeOwned>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
) -> AuditResult<Vec<(String, T)>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_documents_page(account_id, kind, after.as_deref(), 1000)
            .await?;
        let done = page.len() < 1000;
        for doc in &page {
            out.push((doc.key.clone(), decode(doc)?));
        }
        match page.last() {
            Some(last) if !done => after = Some(last.key.clone()),
            _ => break,
        }
    }
    Ok(out)
}

/// The documents of a kind whose key starts with `prefix`, in key order, after `after`
/// (exclusive; `None` starts at the prefix), at most `limit`.
pub async fn prefix_page(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> AuditResult<Vec<Document>> {
    let start = after.unwrap_or(prefix);
    let page = store
        .list_documents_page(account_id, kind, Some(start), limit)
        .await?;
    Ok(page
        .into_iter()
        .take_while(|d| d.key.starts_with(prefix))
        .collect())
}

/// Deletes every document of a kind whose key starts with `prefix`, in batches.
pub async fn delete_prefix(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
) -> AuditResult<u64> {
    let mut deleted = 0;
    loop {
        let page = prefix_page(store, account_id, kind, prefix, None, 2000).await?;
        if page.is_empty() {
            return Ok(deleted);
        }
        let writes: Vec<DocumentWrite> = page
            .iter()
            .map(|d| delete(account_id, kind, &d.key))
            .collect();
        store.write_documents(&writes).await?;
        deleted += writes.len() as u64;
    }
}
