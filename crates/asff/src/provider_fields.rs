//! Severity Label ⇄ Normalized (spec §1.4) and the `FindingProviderFields` rules (spec §2.4)
//! for Confidence, Criticality, RelatedFindings, Severity and Types.

use serde_json::{Map, Value};

use crate::CustomerFields;
use crate::enums::SeverityLabel;
use crate::normalize::set;
use crate::validate::integer;

/// The attributes providers should send in `FindingProviderFields` (spec §2.4), with the bit
/// that records a customer change to the top-level copy.
pub(crate) const PROVIDER_FIELDS: [(&str, CustomerFields); 5] = [
    ("Confidence", CustomerFields::CONFIDENCE),
    ("Criticality", CustomerFields::CRITICALITY),
    ("RelatedFindings", CustomerFields::RELATED_FINDINGS),
    ("Severity", CustomerFields::SEVERITY),
    ("Types", CustomerFields::TYPES),
];

/// Spec §1.4: Label from Normalized or Normalized from Label when only one is given.
pub(crate) fn derive_severity(sev: &mut Map<String, Value>) {
    let label = sev
        .get("Label")
        .and_then(Value::as_str)
        .and_then(SeverityLabel::parse);
    let normalized = sev.get("Normalized").and_then(integer);
    match (label, normalized) {
        (Some(l), None) => {
            sev.insert("Normalized".into(), l.normalized().into());
        }
        (None, Some(n)) if !sev.contains_key("Label") => {
            sev.insert(
                "Label".into(),
                SeverityLabel::from_normalized(n).as_str().into(),
            );
        }
        _ => {}
    }
}

pub(crate) fn derive_top_severity(f: &mut Map<String, Value>) {
    if let Some(Value::Object(sev)) = f.get_mut("Severity") {
        derive_severity(sev);
    }
}

/// The `FindingProviderFields` rules of spec §2.4 for Confidence, Criticality, RelatedFindings,
/// Severity and Types. `existing` is the stored finding for a re-import, `None` on creation.
///
/// - FPF.X only: FPF.X kept; top-level X copied from it unless a customer changed X.
/// - top-level X only: copied into FPF.X; top-level kept unless a customer changed X.
/// - both: FPF.X kept; on creation the top level is taken from FPF.X (rule 3; a top-level
///   Severity with the same label keeps its Normalized/Product), on update the provider's
///   top-level value is kept unless a customer changed X.
/// - neither (update only): FPF.X absent; top-level X kept only if a customer changed it.
///
/// A customer-changed X keeps the stored top-level value.
pub(crate) fn apply_provider_fields(
    f: &mut Map<String, Value>,
    existing: Option<&Map<String, Value>>,
    customer: CustomerFields,
) {
    let (mut fpf, had_fpf) = match f.get_mut("FindingProviderFields") {
        Some(Value::Object(m)) => (std::mem::take(m), true),
        _ => (Map::new(), false),
    };
    for (name, bit) in PROVIDER_FIELDS {
        let is_severity = name == "Severity";
        if is_severity {
            complete_fpf_severity(&mut fpf, f);
        }
        let provider_sent_fpf = fpf.contains_key(name);
        let top = f.get(name);
        let has_top = top.is_some();
        if let (false, Some(top)) = (provider_sent_fpf, top) {
            let copy = if is_severity {
                severity_top_to_fpf(top)
            } else {
                top.clone()
            };
            fpf.insert(name.into(), copy);
        }
        match existing {
            Some(old) if customer.contains(bit) => match old.get(name) {
                Some(kept) => set(f, name, kept.clone()),
                None => {
                    f.shift_remove(name);
                }
            },
            Some(_) if has_top => {}
            _ if provider_sent_fpf => {
                if let Some(p) = fpf.get(name) {
                    top_from_fpf(f, name, p);
                }
            }
            Some(_) | None => {}
        }
    }
    if had_fpf && !fpf.is_empty() {
        set(f, "FindingProviderFields", Value::Object(fpf));
    } else if had_fpf {
        f.shift_remove("FindingProviderFields");
    } else if !fpf.is_empty() {
        f.insert("FindingProviderFields".into(), Value::Object(fpf));
    }
}

/// Sets top-level `name` from the provider's FPF value, touching nothing when they already agree.
fn top_from_fpf(f: &mut Map<String, Value>, name: &str, p: &Value) {
    if name != "Severity" {
        if f.get(name) != Some(p) {
            set(f, name, p.clone());
        }
        return;
    }
    let fpf_label = p.get("Label");
    match f.get_mut(name) {
        Some(Value::Object(t)) if fpf_label.is_some() && t.get("Label") == fpf_label => {
            if let Some(original) = p.get("Original")
                && t.get("Original") != Some(original)
            {
                set(t, "Original", original.clone());
            }
        }
        _ => set(f, name, severity_fpf_to_top(p)),
    }
}

/// An FPF Severity without Label takes the top-level label (validation guarantees one of them).
fn complete_fpf_severity(fpf: &mut Map<String, Value>, f: &Map<String, Value>) {
    if let Some(Value::Object(p)) = fpf.get_mut("Severity")
        && !p.contains_key("Label")
        && let Some(label) = f.get("Severity").and_then(|t| t.get("Label"))
    {
        p.insert("Label".into(), label.clone());
    }
}

/// `FindingProviderSeverity` has only Label and Original (spec §1.4).
fn severity_top_to_fpf(top: &Value) -> Value {
    let mut out = Map::new();
    for key in ["Label", "Original"] {
        if let Some(v) = top.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// A fresh top-level Severity from an FPF Severity: its Label and Original, Normalized derived.
fn severity_fpf_to_top(fpf: &Value) -> Value {
    let mut out = Map::new();
    for key in ["Label", "Original"] {
        if let Some(v) = fpf.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    derive_severity(&mut out);
    Value::Object(out)
}
