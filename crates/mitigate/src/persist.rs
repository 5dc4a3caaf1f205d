//! How mitigation state is stored: one store document per record, in these kinds.

use fleetward_store::documents;
use fleetward_store::{Document, Store};
use serde::de::DeserializeOwned;

use crate::error::{MitigateError, MitigateResult};

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

pub use fleetward_store::documents::{delete, prefix_page, put_json as put};

pub fn decode<T: DeserializeOwned>(doc: &Document) -> MitigateResult<T> {
    Ok(documents::decode(doc)?)
}

/// Every document of a kind, decoded.
pub async fn load_all<T: DeserializeOwned>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
) -> MitigateResult<Vec<T>> {
    let records: Vec<(String, T)> =
        documents::load_all_decoded::<T, MitigateError>(store, account_id, kind, 1000).await?;
    Ok(records.into_iter().map(|(_, record)| record).collect())
}

/// Deletes every document of a kind whose key starts with `prefix`, in batches.
pub async fn delete_prefix(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    prefix: &str,
) -> MitigateResult<()> {
    documents::delete_prefix(store, account_id, kind, prefix, 2000).await?;
    Ok(())
}
