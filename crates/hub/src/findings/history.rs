//! GetFindingHistory (spec 3): the recorded changes of one finding within a time window.

use serde_json::{Value, json};

use super::identifier;
use crate::error::{HubError, HubResult};
use crate::input::{max_results, optional_str};
use crate::paging;
use crate::{Caller, Hub};

/// History is kept and searchable for 90 days.
const WINDOW_MS: i64 = 90 * 24 * 3600 * 1000;

impl Hub {
    pub async fn handle_get_finding_history(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let id_of = |name: &str| {
            input
                .pointer(&format!("/FindingIdentifier/{name}"))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        let (Some(id), Some(product_arn)) = (id_of("Id"), id_of("ProductArn")) else {
            return Err(HubError::InvalidInput(
                "FindingIdentifier with Id and ProductArn is required.".into(),
            ));
        };
        let now = self.clock.now_ms();
        let start = timestamp_member(input, "StartTime")?;
        let end = timestamp_member(input, "EndTime")?;
        // Spec 3: StartTime alone runs to now; EndTime alone looks back 90 days from it.
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, now),
            (None, Some(e)) => (e - WINDOW_MS, e),
            (None, None) => (now - WINDOW_MS, now),
        };
        if start > end {
            return Err(HubError::InvalidInput(
                "StartTime must not be later than EndTime.".into(),
            ));
        }
        let max = max_results(input, 100)?;
        let after: Option<i64> = optional_str(input, "NextToken")?
            .map(paging::decode)
            .transpose()?;
        let Some(seq) = self
            .finding_seq(&caller.account_id, product_arn, id)
            .await?
        else {
            // No such finding (or deleted by retention, with its history).
            return Ok(json!({ "Records": [] }));
        };
        let mut rows = self
            .store
            .finding_history(&caller.account_id, seq, start, end, after, max + 1)
            .await?;
        let next = if rows.len() > max {
            rows.truncate(max);
            rows.last().map(|(cursor, _)| paging::encode(cursor))
        } else {
            None
        };
        let records: Vec<Value> = rows
            .into_iter()
            .map(|(_, record)| {
                let updates: Value =
                    serde_json::from_str(&record.updates_json).unwrap_or(Value::Array(Vec::new()));
                json!({
                    "FindingIdentifier": identifier(&record.product_arn, &record.finding_id),
                    "UpdateTime": fleetward_model::timestamp::format_ms(record.update_time_ms),
                    "FindingCreated": record.created,
                    "UpdateSource": { "Type": record.source_type, "Identity": record.identity },
                    "Updates": updates,
                })
            })
            .collect();
        let mut output = json!({ "Records": records });
        if let Some(next) = next {
            output["NextToken"] = Value::String(next);
        }
        Ok(output)
    }
}

impl Hub {
    /// The seq of the account's finding (ProductArn, Id), if it is stored.
    pub(crate) async fn finding_seq(
        &self,
        account_id: &str,
        product_arn: &str,
        id: &str,
    ) -> HubResult<Option<i64>> {
        let candidates = self
            .read_index()
            .candidates(account_id, crate::index::key_hash(product_arn, id));
        match candidates.as_slice() {
            [] => Ok(None),
            // One finding with this identity hash: the hash is 64 bits, so it is this one.
            [seq] => Ok(Some(*seq)),
            _ => Ok(self
                .store
                .get_findings_by_seq(&candidates)
                .await?
                .into_iter()
                .find(|row| row.product_arn == product_arn && row.id == id)
                .map(|row| row.seq)),
        }
    }
}

/// A `timestamp` member: SDKs send ISO 8601 for this model, some clients epoch seconds.
fn timestamp_member(input: &Value, member: &str) -> HubResult<Option<i64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => fleetward_model::timestamp::parse_rfc3339_ms(s)
            .map(Some)
            .ok_or_else(|| HubError::InvalidInput(format!("{member} is not a valid timestamp."))),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|secs| Some((secs * 1000.0) as i64))
            .ok_or_else(|| HubError::InvalidInput(format!("{member} is not a valid timestamp."))),
        Some(_) => Err(HubError::InvalidInput(format!(
            "{member} is not a valid timestamp."
        ))),
    }
}
