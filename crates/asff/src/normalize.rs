//! Turning a validated incoming finding into the stored form (spec §1.2, §1.4, §1.10, §2.4).
//!
//! Shared by [`prepare_new`] and [`crate::merge_import`]: timestamps rewritten to UTC with
//! milliseconds, integral floats in integer members rewritten as integers, the service-owned
//! members filled in, Severity Label ⇄ Normalized derived, the `FindingProviderFields` mirror,
//! and the `aws/securityhub/*` product fields.

use serde_json::{Map, Value};

use crate::CustomerFields;
use crate::enums::SeverityLabel;
use crate::schema::{FINDING, Kind, Struct};
use crate::timestamp::{format_timestamp, has_stored_shape, normalize_timestamp};
use crate::validate::integer;

/// Who is importing and where; product names come from the hub's product catalogue.
#[derive(Clone, Copy, Debug)]
pub struct ImportContext<'a> {
    pub region: &'a str,
    pub now_ms: i64,
    pub company_name: &'a str,
    pub product_name: &'a str,
    /// The account's own product (`product/<account>/default`): the provider may override
    /// ProductName and CompanyName (spec §1.10).
    pub custom_product: bool,
    pub account_name: Option<&'a str>,
}

/// The attributes providers should send in `FindingProviderFields` (spec §2.4), with the bit
/// that records a customer change to the top-level copy.
pub(crate) const PROVIDER_FIELDS: [(&str, CustomerFields); 5] = [
    ("Confidence", CustomerFields::CONFIDENCE),
    ("Criticality", CustomerFields::CRITICALITY),
    ("RelatedFindings", CustomerFields::RELATED_FINDINGS),
    ("Severity", CustomerFields::SEVERITY),
    ("Types", CustomerFields::TYPES),
];

/// A new finding as stored. Expects a finding that passed [`crate::validate_finding`]; anything
/// else is returned with best-effort changes and never panics.
///
/// Fills ProductName/CompanyName (kept from the finding for custom products), Region,
/// ProcessedAt (= now), AwsAccountName; defaults RecordState `ACTIVE`, Workflow.Status `NEW`,
/// WorkflowState `NEW`; derives Severity Label/Normalized; mirrors the provider fields
/// (FPF wins over the top level on creation, rule 3); injects
/// `ProductFields["aws/securityhub/FindingId"|"ProductName"|"CompanyName"]`.
pub fn prepare_new(incoming: Value, ctx: &ImportContext) -> Value {
    let Value::Object(mut f) = incoming else {
        return incoming;
    };
    canonicalize(&mut f);
    fill_service_fields(&mut f, ctx);
    default_str(&mut f, "RecordState", "ACTIVE");
    match f.get_mut("Workflow") {
        Some(Value::Object(w)) => default_str(w, "Status", "NEW"),
        _ => {
            let mut w = Map::new();
            w.insert("Status".into(), "NEW".into());
            f.insert("Workflow".into(), Value::Object(w));
        }
    }
    default_str(&mut f, "WorkflowState", "NEW");
    derive_top_severity(&mut f);
    apply_provider_fields(&mut f, None, CustomerFields::default());
    inject_product_fields(&mut f, ctx);
    Value::Object(f)
}

fn default_str(m: &mut Map<String, Value>, key: &str, value: &str) {
    if !m.contains_key(key) {
        m.insert(key.into(), value.into());
    }
}

/// Rewrites every timestamp the schema knows to the stored form and integral floats in integer
/// members to integers. Values that do not parse are left alone (validation reports them).
pub(crate) fn canonicalize(f: &mut Map<String, Value>) {
    canonicalize_struct(f, &FINDING);
}

fn canonicalize_struct(m: &mut Map<String, Value>, st: &Struct) {
    for (key, value) in m.iter_mut() {
        if let Some(field) = st.field(key) {
            canonicalize_value(value, &field.kind);
        }
    }
}

fn canonicalize_value(v: &mut Value, kind: &Kind) {
    match *kind {
        Kind::Timestamp => {
            if let Value::String(s) = v
                && !has_stored_shape(s)
                && let Some(stored) = normalize_timestamp(s)
            {
                *s = stored;
            }
        }
        Kind::Int { .. } => {
            let whole = match v {
                Value::Number(n) if n.is_f64() => integer(v),
                _ => None,
            };
            if let Some(i) = whole {
                *v = i.into();
            }
        }
        Kind::Obj(st) => {
            if let Value::Object(m) = v {
                canonicalize_struct(m, st);
            }
        }
        Kind::List { item, .. } if matches!(item, Kind::Obj(_)) => {
            if let Value::Array(items) = v {
                items.iter_mut().for_each(|x| canonicalize_value(x, item));
            }
        }
        _ => {}
    }
}

/// Spec §1.10: the service sets Region, ProcessedAt and AwsAccountName, and ProductName and
/// CompanyName from the catalogue except for custom products, where the provider's values win.
pub(crate) fn fill_service_fields(f: &mut Map<String, Value>, ctx: &ImportContext) {
    f.insert("Region".into(), ctx.region.into());
    for (key, registry) in [
        ("ProductName", ctx.product_name),
        ("CompanyName", ctx.company_name),
    ] {
        let provided = ctx.custom_product && f.get(key).is_some_and(Value::is_string);
        if !provided {
            f.insert(key.into(), registry.into());
        }
    }
    f.insert("ProcessedAt".into(), format_timestamp(ctx.now_ms).into());
    match ctx.account_name {
        Some(name) => {
            f.insert("AwsAccountName".into(), name.into());
        }
        None => {
            f.shift_remove("AwsAccountName");
        }
    }
}

/// Spec §1.10/§4.1: the registry names stay in ProductFields even when a custom product
/// overrides the top-level names.
pub(crate) fn inject_product_fields(f: &mut Map<String, Value>, ctx: &ImportContext) {
    let finding_id = match (
        f.get("ProductArn").and_then(Value::as_str),
        f.get("Id").and_then(Value::as_str),
    ) {
        (Some(arn), Some(id)) => Some(format!("{arn}/{id}")),
        _ => None,
    };
    if !matches!(f.get("ProductFields"), Some(Value::Object(_))) {
        f.insert("ProductFields".into(), Value::Object(Map::new()));
    }
    if let Some(Value::Object(pf)) = f.get_mut("ProductFields") {
        if let Some(id) = finding_id {
            pf.insert("aws/securityhub/FindingId".into(), id.into());
        }
        pf.insert(
            "aws/securityhub/ProductName".into(),
            ctx.product_name.into(),
        );
        pf.insert(
            "aws/securityhub/CompanyName".into(),
            ctx.company_name.into(),
        );
    }
}

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
    let mut fpf = match f.get_mut("FindingProviderFields") {
        Some(Value::Object(m)) => std::mem::take(m),
        _ => Map::new(),
    };
    for (name, bit) in PROVIDER_FIELDS {
        let is_severity = name == "Severity";
        if is_severity {
            complete_fpf_severity(&mut fpf, f);
        }
        let provider_sent_fpf = fpf.contains_key(name);
        if !provider_sent_fpf && let Some(top) = f.get(name) {
            let copy = if is_severity {
                severity_top_to_fpf(top)
            } else {
                top.clone()
            };
            fpf.insert(name.into(), copy);
        }
        let top = match existing {
            Some(old) if customer.contains(bit) => old.get(name).cloned(),
            Some(_) if f.contains_key(name) => continue,
            _ if provider_sent_fpf => fpf.get(name).map(|p| {
                if is_severity {
                    severity_fpf_to_top(p, f.get(name))
                } else {
                    p.clone()
                }
            }),
            Some(_) => None,
            None => continue,
        };
        match top {
            Some(v) => {
                f.insert(name.into(), v);
            }
            None => {
                f.shift_remove(name);
            }
        }
    }
    if fpf.is_empty() {
        f.shift_remove("FindingProviderFields");
    } else {
        f.insert("FindingProviderFields".into(), Value::Object(fpf));
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

/// The top-level Severity for a provider's FPF Severity. A top-level Severity sent alongside
/// with the same label is kept (its Normalized and Product agree with the label and FPF has no
/// place for them); otherwise Normalized is derived from the FPF label.
fn severity_fpf_to_top(fpf: &Value, top: Option<&Value>) -> Value {
    let fpf_label = fpf.get("Label");
    let mut out = match top {
        Some(Value::Object(t)) if fpf_label.is_some() && t.get("Label") == fpf_label => t.clone(),
        _ => {
            let mut fresh = Map::new();
            if let Some(label) = fpf_label {
                fresh.insert("Label".into(), label.clone());
            }
            fresh
        }
    };
    if let Some(v) = fpf.get("Original") {
        out.insert("Original".into(), v.clone());
    }
    derive_severity(&mut out);
    Value::Object(out)
}

#[cfg(test)]
mod tests;
