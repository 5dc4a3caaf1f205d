//! The findings operations: import, query, update, history.

mod get;
mod history;
mod import;
mod update;

use fleetward_asff::FieldChange;
use fleetward_findings_query::FindingRecord;
use fleetward_store::{HistoryRecord, StoredFinding};
use serde_json::{Value, json};

use crate::index::EntryMeta;

pub const SOURCE_IMPORT: &str = "BATCH_IMPORT_FINDINGS";
pub const SOURCE_UPDATE: &str = "BATCH_UPDATE_FINDINGS";

/// A finding being written: its store row and its index entry come from the same body.
pub struct Touched {
    pub seq: i64,
    pub product_arn: String,
    pub id: String,
    pub body: Value,
    pub customer_fields: i64,
    /// The body's stored form and index record when they were built ahead of the write path.
    pub prebuilt: Option<Prebuilt>,
}

/// What a new finding's write needs, made before the write lock is taken.
pub struct Prebuilt {
    /// The JSON text; empty once `encoded` holds the store's own form of it.
    pub text: String,
    /// The body as the store keeps it ([`fleetward_store::Store::encode_body`]).
    pub encoded: Option<Vec<u8>>,
    pub record: FindingRecord,
}

/// Store rows for `written`; prebuilt bodies move into the rows instead of being copied.
pub fn rows_of(written: &mut [Touched], account_id: &str) -> Vec<StoredFinding> {
    written.iter_mut().map(|t| t.take_row(account_id)).collect()
}

impl Touched {
    /// A stored finding, parsed for a merge or an update.
    pub fn from_stored(row: StoredFinding) -> crate::HubResult<Self> {
        let body = serde_json::from_str(&row.body)
            .map_err(|e| crate::HubError::Internal(format!("stored finding {}: {e}", row.seq)))?;
        Ok(Self {
            seq: row.seq,
            product_arn: row.product_arn,
            id: row.id,
            body,
            customer_fields: row.customer_fields,
            prebuilt: None,
        })
    }

    pub fn updated_at_ms(&self) -> i64 {
        self.body
            .get("UpdatedAt")
            .and_then(Value::as_str)
            .and_then(fleetward_model::timestamp::parse_rfc3339_ms)
            .unwrap_or(0)
    }

    /// The store row; a prebuilt body is moved out (the record stays for the index).
    pub fn take_row(&mut self, account_id: &str) -> StoredFinding {
        let (body, encoded_body) = match &mut self.prebuilt {
            Some(prebuilt) => (std::mem::take(&mut prebuilt.text), prebuilt.encoded.take()),
            None => (body_text(&self.body), None),
        };
        StoredFinding {
            seq: self.seq,
            account_id: account_id.to_string(),
            product_arn: self.product_arn.clone(),
            id: self.id.clone(),
            updated_at_ms: self.updated_at_ms(),
            record_state: self
                .body
                .get("RecordState")
                .and_then(Value::as_str)
                .unwrap_or("ACTIVE")
                .to_string(),
            customer_fields: self.customer_fields,
            body,
            encoded_body,
        }
    }

    pub fn meta(&self) -> EntryMeta {
        EntryMeta::of(&self.body, self.seq, self.updated_at_ms())
    }

    /// A history record of this finding.
    pub fn history(
        &self,
        account_id: &str,
        now_ms: i64,
        created: bool,
        source_type: &str,
        identity: &str,
        changes: &[FieldChange],
    ) -> HistoryRecord {
        let updates: Vec<Value> = changes
            .iter()
            .map(|c| {
                let mut update = json!({ "UpdatedField": c.updated_field });
                if let Some(old) = &c.old_value {
                    update["OldValue"] = Value::String(old.clone());
                }
                if let Some(new) = &c.new_value {
                    update["NewValue"] = Value::String(new.clone());
                }
                update
            })
            .collect();
        HistoryRecord {
            finding_seq: self.seq,
            account_id: account_id.to_string(),
            product_arn: self.product_arn.clone(),
            finding_id: self.id.clone(),
            update_time_ms: now_ms,
            created,
            source_type: source_type.to_string(),
            identity: identity.to_string(),
            updates_json: Value::Array(updates).to_string(),
        }
    }
}

impl crate::Hub {
    /// Puts written findings into the index. Metadata is read outside the index lock, so
    /// that queries wait only for the inserts themselves. Hands the written bodies (moved,
    /// not copied) to the finding-events receiver, and returns those nobody wants any more so
    /// that the caller frees them after letting go of the write lock.
    pub(crate) fn index_written(&self, account_id: &str, written: Vec<Touched>) -> Vec<Value> {
        let events = self.events.get().filter(|e| e.wants(account_id));
        let mut bodies = Vec::with_capacity(written.len());
        let mut ready = Vec::with_capacity(written.len());
        let mut to_encode = Vec::new();
        // Distinct ProductArns of the batch (nearly always one), for Id lookups.
        let mut products: Vec<String> = Vec::new();
        for t in written {
            if !products.contains(&t.product_arn) {
                products.push(t.product_arn.clone());
            }
            let meta = t.meta();
            match t.prebuilt {
                Some(prebuilt) => {
                    ready.push((meta, prebuilt.record));
                    bodies.push(t.body);
                }
                None => to_encode.push((meta, t.body)),
            }
        }
        let mut index = self.write_index();
        for (meta, record) in ready {
            index.upsert_record(account_id, meta, record);
        }
        for (meta, body) in &to_encode {
            index.upsert(account_id, meta.clone(), body);
        }
        for product_arn in &products {
            index.note_product(account_id, product_arn);
        }
        let stored = index.len();
        drop(index);
        metrics::gauge!("fleetward_hub_findings_stored").set(stored as f64);
        bodies.extend(to_encode.into_iter().map(|(_, body)| body));
        match events {
            Some(events) => {
                if !bodies.is_empty() {
                    events.written(account_id, bodies);
                }
                Vec::new()
            }
            None => bodies,
        }
    }
}

/// The stored JSON text of a finding body. Written straight into a buffer the size of a typical
/// stored finding: `Value::to_string` goes through `fmt::Write` and regrows its buffer from
/// 128 bytes, which cost a third of the serialisation on the import path.
pub fn body_text(body: &Value) -> String {
    const TYPICAL_STORED_BYTES: usize = 4096;
    let mut text = Vec::with_capacity(TYPICAL_STORED_BYTES);
    // Serialising a `Value` into a vector cannot fail (its keys are strings) and serde_json
    // writes UTF-8; the general path stays as the answer to the impossible.
    match serde_json::to_writer(&mut text, body) {
        Ok(()) => String::from_utf8(text).unwrap_or_else(|_| body.to_string()),
        Err(_) => body.to_string(),
    }
}

/// `{Id, ProductArn}` of a finding.
pub fn identifier(product_arn: &str, id: &str) -> Value {
    json!({ "Id": id, "ProductArn": product_arn })
}
