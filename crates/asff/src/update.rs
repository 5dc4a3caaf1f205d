//! Customer updates: `BatchUpdateFindings` (spec §3) and automation-rule
//! `FINDING_FIELDS_UPDATE` actions, which carry the same member set (spec §6.3).
//!
//! Decisions where AWS is silent:
//! - UserDefinedFields are merged into the stored map (keys added or overwritten, none removed),
//!   so two rules or a rule and an analyst can each add their own keys.
//! - Note.UpdatedBy is required by the model in both request shapes and is stored as given
//!   (for automation rules, whatever the rule author wrote).
//! - Members the update shape does not define (such as `FindingIdentifiers`) are ignored.
//! - Every member present marks its field as customer-changed, even when the value is unchanged;
//!   an empty `Severity {}` or `Workflow {}` changes nothing and marks nothing.

use serde_json::{Map, Value};

use crate::diff::diff_member;
use crate::enums::{SeverityLabel, VerificationState, WorkflowStatus};
use crate::schema::FINDING_UPDATE;
use crate::timestamp::format_timestamp;
use crate::validate::{check_struct, integer};
use crate::{CustomerFields, FieldChange};

/// `NoteUpdate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteUpdate {
    pub text: String,
    pub updated_by: String,
}

/// `SeverityUpdate`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeverityUpdate {
    pub label: Option<SeverityLabel>,
    pub normalized: Option<u8>,
    pub product: Option<f64>,
}

/// `RelatedFinding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelatedFinding {
    pub product_arn: String,
    pub id: String,
}

/// The fields a customer may change (spec §3), each `None` when the update leaves it alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingUpdate {
    pub note: Option<NoteUpdate>,
    pub severity: Option<SeverityUpdate>,
    pub verification_state: Option<VerificationState>,
    pub confidence: Option<u8>,
    pub criticality: Option<u8>,
    pub types: Option<Vec<String>>,
    /// Merged into the stored map, in request order.
    pub user_defined_fields: Option<Vec<(String, String)>>,
    /// `Workflow.Status`.
    pub workflow_status: Option<WorkflowStatus>,
    pub related_findings: Option<Vec<RelatedFinding>>,
}

impl FindingUpdate {
    /// True when applying it would change nothing.
    pub fn is_empty(&self) -> bool {
        self.note.is_none()
            && self.severity.as_ref().is_none_or(|s| !carries_severity(s))
            && self.verification_state.is_none()
            && self.confidence.is_none()
            && self.criticality.is_none()
            && self.types.is_none()
            && self.user_defined_fields.is_none()
            && self.workflow_status.is_none()
            && self.related_findings.is_none()
    }
}

/// Parses and validates the update members of a `BatchUpdateFindings` body or an automation
/// rule's `FindingFieldsUpdate`. `Err` is the `InvalidInputException` message, naming the field
/// (`Note.Text should NOT be longer than 512 characters.`).
pub fn parse_finding_update(v: &Value) -> Result<FindingUpdate, String> {
    check_struct(v, &FINDING_UPDATE, "")?;
    let get = |key: &str| v.get(key);
    let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let ratio = |key: &str| {
        get(key)
            .and_then(integer)
            .and_then(|n| u8::try_from(n).ok())
    };
    Ok(FindingUpdate {
        note: get("Note").and_then(|n| {
            Some(NoteUpdate {
                text: str_of(n, "Text")?,
                updated_by: str_of(n, "UpdatedBy")?,
            })
        }),
        severity: get("Severity").map(|s| SeverityUpdate {
            label: s
                .get("Label")
                .and_then(Value::as_str)
                .and_then(SeverityLabel::parse),
            normalized: s
                .get("Normalized")
                .and_then(integer)
                .and_then(|n| u8::try_from(n).ok()),
            product: s.get("Product").and_then(Value::as_f64),
        }),
        verification_state: get("VerificationState")
            .and_then(Value::as_str)
            .and_then(VerificationState::parse),
        confidence: ratio("Confidence"),
        criticality: ratio("Criticality"),
        types: get("Types").and_then(Value::as_array).map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        }),
        user_defined_fields: get("UserDefinedFields")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            }),
        workflow_status: get("Workflow")
            .and_then(|w| w.get("Status"))
            .and_then(Value::as_str)
            .and_then(WorkflowStatus::parse),
        related_findings: get("RelatedFindings")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|r| {
                        Some(RelatedFinding {
                            product_arn: str_of(r, "ProductArn")?,
                            id: str_of(r, "Id")?,
                        })
                    })
                    .collect()
            }),
    })
}

/// The update in its wire form (`AutomationRulesFindingFieldsUpdate`), for storing rules;
/// [`parse_finding_update`] reads it back unchanged.
pub fn finding_update_to_json(u: &FindingUpdate) -> Value {
    let mut out = Map::new();
    if let Some(n) = &u.note {
        out.insert("Note".into(), note_json(n, None));
    }
    if let Some(s) = &u.severity {
        let mut sev = Map::new();
        if let Some(l) = s.label {
            sev.insert("Label".into(), l.as_str().into());
        }
        if let Some(n) = s.normalized {
            sev.insert("Normalized".into(), n.into());
        }
        if let Some(p) = s.product {
            sev.insert("Product".into(), p.into());
        }
        out.insert("Severity".into(), Value::Object(sev));
    }
    if let Some(v) = u.verification_state {
        out.insert("VerificationState".into(), v.as_str().into());
    }
    if let Some(c) = u.confidence {
        out.insert("Confidence".into(), c.into());
    }
    if let Some(c) = u.criticality {
        out.insert("Criticality".into(), c.into());
    }
    if let Some(t) = &u.types {
        out.insert("Types".into(), t.clone().into());
    }
    if let Some(fields) = &u.user_defined_fields {
        out.insert("UserDefinedFields".into(), string_map(fields));
    }
    if let Some(w) = u.workflow_status {
        out.insert("Workflow".into(), workflow_json(w));
    }
    if let Some(r) = &u.related_findings {
        out.insert("RelatedFindings".into(), related_json(r));
    }
    Value::Object(out)
}

/// Applies a customer update. Never touches UpdatedAt, FindingProviderFields or RecordState
/// (spec §3). Note.UpdatedAt is `now_ms`; Severity gets the missing one of Label/Normalized
/// derived (spec §1.4); Severity.Original is kept. Returns the new finding, the customer bits
/// with the touched fields added, and the history changes.
pub fn apply_update(
    existing: &Value,
    customer: CustomerFields,
    update: &FindingUpdate,
    now_ms: i64,
) -> (Value, CustomerFields, Vec<FieldChange>) {
    apply_update_owned(existing.clone(), customer, update, now_ms)
}

/// [`apply_update`] on a finding the caller owns, saving the copy: only the members the update
/// touches are kept aside to compute the changes.
pub fn apply_update_owned(
    mut finding: Value,
    customer: CustomerFields,
    update: &FindingUpdate,
    now_ms: i64,
) -> (Value, CustomerFields, Vec<FieldChange>) {
    let Value::Object(f) = &mut finding else {
        return (finding, customer, Vec::new());
    };
    let mut bits = customer;
    let mut before: Vec<(&'static str, Option<Value>)> = Vec::new();
    let mut replace = |f: &mut Map<String, Value>, name: &'static str, value: Value| {
        let old = match f.get_mut(name) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                f.insert(name.into(), value);
                None
            }
        };
        before.push((name, old));
    };
    if let Some(n) = &update.note {
        replace(f, "Note", note_json(n, Some(now_ms)));
        bits |= CustomerFields::NOTE;
    }
    if let Some(v) = update.verification_state {
        replace(f, "VerificationState", v.as_str().into());
        bits |= CustomerFields::VERIFICATION_STATE;
    }
    if let Some(c) = update.confidence {
        replace(f, "Confidence", c.into());
        bits |= CustomerFields::CONFIDENCE;
    }
    if let Some(c) = update.criticality {
        replace(f, "Criticality", c.into());
        bits |= CustomerFields::CRITICALITY;
    }
    if let Some(t) = &update.types {
        replace(f, "Types", t.clone().into());
        bits |= CustomerFields::TYPES;
    }
    if let Some(w) = update.workflow_status {
        replace(f, "Workflow", workflow_json(w));
        bits |= CustomerFields::WORKFLOW;
    }
    if let Some(r) = &update.related_findings {
        replace(f, "RelatedFindings", related_json(r));
        bits |= CustomerFields::RELATED_FINDINGS;
    }
    // Severity and UserDefinedFields are merged into the stored object.
    if let Some(s) = &update.severity
        && carries_severity(s)
    {
        before.push(("Severity", f.get("Severity").cloned()));
        apply_severity(f, s);
        bits |= CustomerFields::SEVERITY;
    }
    if let Some(fields) = &update.user_defined_fields {
        before.push(("UserDefinedFields", f.get("UserDefinedFields").cloned()));
        if !matches!(f.get("UserDefinedFields"), Some(Value::Object(_))) {
            f.insert("UserDefinedFields".into(), Value::Object(Map::new()));
        }
        if let Some(Value::Object(udf)) = f.get_mut("UserDefinedFields") {
            for (k, v) in fields {
                udf.insert(k.clone(), v.as_str().into());
            }
        }
        bits |= CustomerFields::USER_DEFINED_FIELDS;
    }
    let mut changes = Vec::new();
    for (name, old) in &before {
        diff_member(name, old.as_ref(), f.get(*name), 0, &mut changes);
    }
    (finding, bits, changes)
}

fn carries_severity(s: &SeverityUpdate) -> bool {
    s.label.is_some() || s.normalized.is_some() || s.product.is_some()
}

/// Sets Label and Normalized (deriving the missing one) and Product, keeping Original.
fn apply_severity(f: &mut Map<String, Value>, s: &SeverityUpdate) {
    let level = match (s.label, s.normalized) {
        (Some(l), Some(n)) => Some((l, i64::from(n))),
        (Some(l), None) => Some((l, l.normalized())),
        (None, Some(n)) => Some((SeverityLabel::from_normalized(i64::from(n)), i64::from(n))),
        (None, None) => None,
    };
    if !matches!(f.get("Severity"), Some(Value::Object(_))) {
        f.insert("Severity".into(), Value::Object(Map::new()));
    }
    if let Some(Value::Object(sev)) = f.get_mut("Severity") {
        if let Some(p) = s.product {
            sev.insert("Product".into(), p.into());
        }
        if let Some((label, normalized)) = level {
            sev.insert("Label".into(), label.as_str().into());
            sev.insert("Normalized".into(), normalized.into());
        }
    }
}

fn note_json(n: &NoteUpdate, now_ms: Option<i64>) -> Value {
    let mut note = Map::new();
    note.insert("Text".into(), n.text.as_str().into());
    note.insert("UpdatedBy".into(), n.updated_by.as_str().into());
    if let Some(ms) = now_ms {
        note.insert("UpdatedAt".into(), format_timestamp(ms).into());
    }
    Value::Object(note)
}

fn workflow_json(w: WorkflowStatus) -> Value {
    let mut m = Map::new();
    m.insert("Status".into(), w.as_str().into());
    Value::Object(m)
}

fn string_map(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

fn related_json(r: &[RelatedFinding]) -> Value {
    r.iter()
        .map(|rf| {
            let mut m = Map::new();
            m.insert("ProductArn".into(), rf.product_arn.as_str().into());
            m.insert("Id".into(), rf.id.as_str().into());
            Value::Object(m)
        })
        .collect()
}

#[cfg(test)]
mod tests;
