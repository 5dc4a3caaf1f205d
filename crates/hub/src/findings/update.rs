//! BatchUpdateFindings (spec 3): the customer's changes to findings, and the deprecated
//! UpdateFindings (Note and RecordState of every finding matching a filter).

use std::collections::{HashMap, HashSet};

use fleetward_asff::CustomerFields;
use fleetward_findings_query::{Dialect, Filters};
use serde_json::{Value, json};

use super::{SOURCE_UPDATE, Touched, identifier};
use crate::error::{HubError, HubResult};
use crate::index::key_hash;
use crate::input::optional_str;
use crate::{Caller, Hub};

const MAX_IDENTIFIERS: usize = 100;
/// Largest finding Security Hub keeps (spec 1.12).
const MAX_FINDING_BYTES: usize = 240 * 1024;
/// Findings UpdateFindings rewrites per store transaction.
const UPDATE_CHUNK: usize = 500;

impl Hub {
    pub async fn handle_batch_update_findings(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let identifiers = parse_identifiers(input)?;
        let update = fleetward_asff::parse_finding_update(input).map_err(HubError::InvalidInput)?;
        let account_id = caller.account_id.as_str();

        let _guard = self.write_lock.lock().await;
        let now = self.clock.now_ms();
        let candidates: Vec<i64> = {
            let index = self.read_index();
            identifiers
                .iter()
                .flat_map(|(p, i)| index.candidates(account_id, key_hash(p, i)))
                .collect()
        };
        let mut stored: HashMap<(String, String), Touched> = HashMap::new();
        for row in self.store.get_findings_by_seq(&candidates).await? {
            let finding = Touched::from_stored(row)?;
            stored.insert((finding.product_arn.clone(), finding.id.clone()), finding);
        }

        let mut processed = Vec::new();
        let mut unprocessed = Vec::new();
        let mut seen = HashSet::new();
        let mut written = Vec::new();
        let mut history = Vec::new();
        for (product_arn, id) in identifiers {
            let key = (product_arn.clone(), id.clone());
            let unprocessed_as = |code: &str, message: &str| {
                json!({
                    "FindingIdentifier": identifier(&product_arn, &id),
                    "ErrorCode": code,
                    "ErrorMessage": message,
                })
            };
            if !seen.insert(key.clone()) {
                unprocessed.push(unprocessed_as(
                    "DuplicatedFindingIdentifier",
                    "Finding Identifier is duplicated",
                ));
                continue;
            }
            let Some(mut finding) = stored.remove(&key) else {
                unprocessed.push(unprocessed_as("FindingNotFound", "Finding Not Found"));
                continue;
            };
            let (body, customer, changes) = fleetward_asff::apply_update(
                &finding.body,
                CustomerFields(finding.customer_fields),
                &update,
                now,
            );
            if body.to_string().len() > MAX_FINDING_BYTES {
                unprocessed.push(unprocessed_as(
                    "FindingSizeExceeded",
                    "Finding size exceeded 240 KB",
                ));
                continue;
            }
            finding.body = body;
            finding.customer_fields = customer.0;
            history.push(finding.history(
                account_id,
                now,
                false,
                SOURCE_UPDATE,
                &caller.identity,
                &changes,
            ));
            processed.push(identifier(&product_arn, &id));
            written.push(finding);
        }
        let rows = super::rows_of(&mut written, account_id);
        self.store.write_findings(&rows, &history).await?;
        self.index_written(account_id, written);
        Ok(json!({ "ProcessedFindings": processed, "UnprocessedFindings": unprocessed }))
    }

    pub async fn handle_update_findings(&self, caller: &Caller, input: &Value) -> HubResult<Value> {
        self.require_enabled(caller).await?;
        let filters = match input.get("Filters") {
            Some(f) => Filters::parse(f, Dialect::GetFindings).map_err(HubError::InvalidInput)?,
            None => return Err(HubError::InvalidInput("Filters is required.".into())),
        };
        let note = parse_note_update(input)?;
        let record_state = optional_str(input, "RecordState")?;
        if let Some(state) = record_state
            && state != "ACTIVE"
            && state != "ARCHIVED"
        {
            return Err(HubError::InvalidInput(
                "RecordState must be ACTIVE or ARCHIVED.".into(),
            ));
        }
        let account_id = caller.account_id.as_str();
        let _guard = self.write_lock.lock().await;
        let now = self.clock.now_ms();
        let seqs = self.matching_seqs(account_id, &filters);
        if seqs.is_empty() {
            return Err(HubError::ResourceNotFound(
                "No findings match the filters.".into(),
            ));
        }
        for chunk in seqs.chunks(UPDATE_CHUNK) {
            let mut written = Vec::new();
            for row in self.store.get_findings_by_seq(chunk).await? {
                let mut finding = Touched::from_stored(row)?;
                if let Some((text, updated_by)) = &note {
                    finding.body["Note"] = json!({
                        "Text": text,
                        "UpdatedBy": updated_by,
                        "UpdatedAt": fleetward_model::timestamp::format_ms(now),
                    });
                }
                if let Some(state) = record_state {
                    reset_workflow_on_reactivation(&mut finding.body, state);
                    finding.body["RecordState"] = Value::String(state.to_string());
                }
                written.push(finding);
            }
            let rows = super::rows_of(&mut written, account_id);
            // Not recorded in finding history: AWS leaves the deprecated API out of it.
            self.store.write_findings(&rows, &[]).await?;
            self.index_written(account_id, written);
        }
        Ok(json!({}))
    }
}

/// `ARCHIVED → ACTIVE` sends NOTIFIED and RESOLVED findings back to NEW (spec 1.5).
fn reset_workflow_on_reactivation(body: &mut Value, new_state: &str) {
    let was_archived = body.get("RecordState").and_then(Value::as_str) == Some("ARCHIVED");
    if !(was_archived && new_state == "ACTIVE") {
        return;
    }
    let status = body
        .pointer("/Workflow/Status")
        .and_then(Value::as_str)
        .unwrap_or("NEW");
    if status == "NOTIFIED" || status == "RESOLVED" {
        body["Workflow"] = json!({ "Status": "NEW" });
        body["WorkflowState"] = Value::String("NEW".into());
    }
}

fn parse_note_update(input: &Value) -> HubResult<Option<(String, String)>> {
    let Some(note) = input.get("Note") else {
        return Ok(None);
    };
    let text = note.get("Text").and_then(Value::as_str).unwrap_or_default();
    let by = note
        .get("UpdatedBy")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > 512 || by.trim().is_empty() {
        return Err(HubError::InvalidInput(
            "Note needs Text (1-512 characters) and UpdatedBy.".into(),
        ));
    }
    Ok(Some((text.to_string(), by.to_string())))
}

/// `FindingIdentifiers`: 1–100 `{Id, ProductArn}` pairs.
fn parse_identifiers(input: &Value) -> HubResult<Vec<(String, String)>> {
    let Some(list) = input.get("FindingIdentifiers").and_then(Value::as_array) else {
        return Err(HubError::InvalidInput(
            "FindingIdentifiers is required and must be a list.".into(),
        ));
    };
    if list.is_empty() || list.len() > MAX_IDENTIFIERS {
        return Err(HubError::InvalidInput(format!(
            "FindingIdentifiers must contain between 1 and {MAX_IDENTIFIERS} identifiers."
        )));
    }
    list.iter()
        .map(|item| {
            let get = |name: &str| {
                item.get(name)
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_string)
            };
            match (get("ProductArn"), get("Id")) {
                (Some(p), Some(i)) => Ok((p, i)),
                _ => Err(HubError::InvalidInput(
                    "Each FindingIdentifier needs Id and ProductArn.".into(),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactivation_resets_notified_but_not_suppressed() {
        let mut body = json!({"RecordState": "ARCHIVED", "Workflow": {"Status": "NOTIFIED"}});
        reset_workflow_on_reactivation(&mut body, "ACTIVE");
        assert_eq!(body["Workflow"]["Status"], "NEW");
        let mut body = json!({"RecordState": "ARCHIVED", "Workflow": {"Status": "SUPPRESSED"}});
        reset_workflow_on_reactivation(&mut body, "ACTIVE");
        assert_eq!(body["Workflow"]["Status"], "SUPPRESSED");
    }

    #[test]
    fn identifiers_are_required_and_bounded() {
        assert!(parse_identifiers(&json!({})).is_err());
        assert!(parse_identifiers(&json!({"FindingIdentifiers": []})).is_err());
        assert!(parse_identifiers(&json!({"FindingIdentifiers": [{"Id": "a"}]})).is_err());
        let ok =
            parse_identifiers(&json!({"FindingIdentifiers": [{"Id": "a", "ProductArn": "p"}]}));
        assert_eq!(ok.unwrap(), vec![("p".to_string(), "a".to_string())]);
    }
}
