//! A provider's re-import of a finding it already sent (spec §2.3, §2.4, §1.5).
//!
//! The provider resends the whole finding: everything it owns is replaced by the new copy,
//! including members it leaves out. Kept from the stored finding: the customer-owned Note,
//! UserDefinedFields, VerificationState and Workflow (and the deprecated WorkflowState, which
//! only ever changes with them), and the top-level copies of provider fields a customer has
//! changed. CreatedAt follows the provider like any other provider-owned member: AWS lists no
//! exception for it, and providers resend the original value (GuardDuty, Device Defender).

use serde_json::{Map, Value};

use crate::normalize::{ImportContext, canonicalize, fill_service_fields, inject_product_fields};
use crate::provider_fields::{apply_provider_fields, derive_top_severity};
use crate::timestamp::parse_timestamp;
use crate::{CustomerFields, FieldChange, diff};

/// What a re-import does to a stored finding.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportOutcome {
    /// Incoming `UpdatedAt` is not later than the stored one: the import is ignored
    /// (spec §2.3; the caller decides whether it counts as a success).
    Stale,
    /// The new stored finding and what changed (for finding history).
    Updated {
        finding: Value,
        changes: Vec<FieldChange>,
    },
}

/// Members only customers change once a finding exists (spec §2.4).
const CUSTOMER_OWNED: [&str; 5] = [
    "Note",
    "UserDefinedFields",
    "VerificationState",
    "Workflow",
    "WorkflowState",
];

/// Merges a validated re-import (same ProductArn and Id) into the stored finding.
///
/// Timestamps are compared after rounding to milliseconds, as stored. An incoming UpdatedAt
/// that does not parse is stale; a stored one that does not parse loses to any valid import.
/// RecordState defaults to `ACTIVE` when the provider leaves it out (it resends the whole
/// finding), so re-sending an archived finding without RecordState re-opens it.
pub fn merge_import(
    existing: &Value,
    customer: CustomerFields,
    incoming: Value,
    ctx: &ImportContext,
) -> ImportOutcome {
    let incoming_at = updated_at(&incoming);
    let Some(new_at) = incoming_at else {
        return ImportOutcome::Stale;
    };
    if updated_at(existing).is_some_and(|old_at| new_at <= old_at) {
        return ImportOutcome::Stale;
    }
    let Value::Object(mut f) = incoming else {
        return ImportOutcome::Stale;
    };
    let empty = Map::new();
    let old = existing.as_object().unwrap_or(&empty);

    canonicalize(&mut f);
    fill_service_fields(&mut f, ctx);
    for key in CUSTOMER_OWNED {
        match old.get(key) {
            Some(v) => {
                f.insert(key.into(), v.clone());
            }
            None => {
                f.shift_remove(key);
            }
        }
    }
    if !f.contains_key("RecordState") {
        f.insert("RecordState".into(), "ACTIVE".into());
    }
    derive_top_severity(&mut f);
    apply_provider_fields(&mut f, Some(old), customer);
    reset_workflow(&mut f, old);
    inject_product_fields(&mut f, ctx);

    let finding = Value::Object(f);
    let changes = diff(existing, &finding);
    ImportOutcome::Updated { finding, changes }
}

fn updated_at(finding: &Value) -> Option<i64> {
    finding
        .get("UpdatedAt")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
}

/// Spec §1.5: NOTIFIED and RESOLVED go back to NEW when RecordState goes ARCHIVED → ACTIVE or
/// Compliance.Status goes PASSED → FAILED/WARNING/NOT_AVAILABLE. SUPPRESSED is never reset
/// (documented for the RecordState case; assumed for the compliance case).
fn reset_workflow(f: &mut Map<String, Value>, old: &Map<String, Value>) {
    let reactivated = record_state(old) == Some("ARCHIVED") && record_state(f) == Some("ACTIVE");
    let regressed = compliance_status(old) == Some("PASSED")
        && matches!(
            compliance_status(f),
            Some("FAILED" | "WARNING" | "NOT_AVAILABLE")
        );
    if !(reactivated || regressed) {
        return;
    }
    if let Some(Value::Object(w)) = f.get_mut("Workflow")
        && matches!(
            w.get("Status").and_then(Value::as_str),
            Some("NOTIFIED" | "RESOLVED")
        )
    {
        w.insert("Status".into(), "NEW".into());
    }
}

fn record_state(m: &Map<String, Value>) -> Option<&str> {
    m.get("RecordState").and_then(Value::as_str)
}

fn compliance_status(m: &Map<String, Value>) -> Option<&str> {
    m.get("Compliance")
        .and_then(|c| c.get("Status"))
        .and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
