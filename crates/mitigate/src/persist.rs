//! How mitigation state is stored: one store document per record, in these kinds.

use fleetward_store::{Document, DocumentWrite, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::MitigateResult;

/// Key: action name.
pub const ACTION: &str = "mitigate.action";
/// Key: task id.
pub const AUDIT_TASK: &str = "mitigate.audit-task";
/// Key: task id + `/` + finding id.
pub const AUDIT_EXEC: &str = "mitigate.audit-exec";
/// Key: task id.
pub const DETECT_TASK: &str = "mitigate.detect-task";
/// Key: task id + `/` + violation id.
pub const DETECT_EXEC: &str = "mitigate.detect-exec";

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

pub fn decode<T: DeserializeOwned>(doc: &Document) -> MitigateResult<T> {
    Ok(serde_json::from_str(&doc.body)?)
}

/// Every document of a kind, decoded.
pub async fn load_all<T: DeserializeOwned>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
) -> MitigateResult<Vec<T>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_documents_page(account_id, kind, after.as_deref(), 1000)
            .await?;
        for doc in &page {
            out.push(decode(doc)?);
        }
        match page.last() {
            Some(last) if page.len() == 1000 => after = Some(last.key.clone()),
            _ => return Ok(out),
        }
    }
}

/// The documents of a kind whose key starts with `prefix`, after `after` (exclusive), in
/// key order, at most `limit`.
pub async fn prefix_page(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> MitigateResult<Vec<Document>> {
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
) -> MitigateResult<()> {
    loop {
        let page = prefix_page(store, account_id, kind, prefix, None, 2000).await?;
        if page.is_empty() {
            return Ok(());
        }
        let writes: Vec<DocumentWrite> = page
            .iter()
            .map(|d| delete(account_id, kind, &d.key))
            .collect();
        store.write_documents(&writes).await?;
    }
}
