//! How detect state is stored: one document per record, in these kinds.

use fleetward_store::documents;
use fleetward_store::{Document, Store};
use serde::de::DeserializeOwned;

use crate::error::DetectResult;

/// Key: security profile name.
pub const PROFILE: &str = "detect.profile";
/// Key: custom metric name.
pub const CUSTOM_METRIC: &str = "detect.custom-metric";
/// Key: dimension name.
pub const DIMENSION: &str = "detect.dimension";
/// Key: violation id; body: the active violation. Deleted when it clears or is invalidated.
pub const VIOLATION: &str = "detect.violation";
/// Key: [`event_key`]; body: a violation event (history, kept 30 days).
pub const EVENT: &str = "detect.event";
/// Key: [`event_key`]; body: an event whose alert and hub finding are not delivered yet.
pub const OUTBOX: &str = "detect.outbox";
/// Key: violation id; body: the verification state of a violation no longer active.
pub const VERIFICATION: &str = "detect.verification";

/// Events sort by time: `TIME(15 digits)/VIOLATION_ID/TYPE`.
pub fn event_key(time_ms: i64, violation_id: &str, event: &str) -> String {
    format!("{:015}/{violation_id}/{event}", time_ms.max(0))
}

pub use fleetward_store::documents::{delete, put_json as put};

pub fn decode<T: DeserializeOwned>(doc: &Document) -> DetectResult<T> {
    Ok(documents::decode(doc)?)
}

/// Every document of a kind, decoded, in key order.
pub async fn load_all<T: DeserializeOwned>(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
) -> DetectResult<Vec<(String, T)>> {
    documents::load_all_decoded(store, account_id, kind, 1000).await
}

/// Documents of a kind with keys after `after` (exclusive), at most `limit`.
pub async fn page(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
    after: Option<&str>,
    limit: usize,
) -> DetectResult<Vec<Document>> {
    Ok(store
        .list_documents_page(account_id, kind, after, limit)
        .await?)
}
