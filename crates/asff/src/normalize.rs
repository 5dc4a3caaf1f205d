//! Turning a validated incoming finding into the stored form (spec §1.2, §1.4, §1.10, §2.4).
//!
//! Shared by [`prepare_new`] and [`crate::merge_import`]: timestamps rewritten to UTC with
//! milliseconds, integral floats in integer members rewritten as integers, the service-owned
//! members filled in and the `aws/securityhub/*` product fields. Severity and the
//! `FindingProviderFields` mirror are in `provider_fields`.

use serde_json::{Map, Value};

use crate::CustomerFields;
use crate::provider_fields::{apply_provider_fields, derive_top_severity};
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

/// `m[key] = value`, without allocating the key when it is already there.
pub(crate) fn set(m: &mut Map<String, Value>, key: &str, value: Value) {
    match m.get_mut(key) {
        Some(slot) => *slot = value,
        None => {
            m.insert(key.into(), value);
        }
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
    set(f, "Region", ctx.region.into());
    for (key, registry) in [
        ("ProductName", ctx.product_name),
        ("CompanyName", ctx.company_name),
    ] {
        let provided = ctx.custom_product && f.get(key).is_some_and(Value::is_string);
        if !provided {
            set(f, key, registry.into());
        }
    }
    set(f, "ProcessedAt", format_timestamp(ctx.now_ms).into());
    match ctx.account_name {
        Some(name) => set(f, "AwsAccountName", name.into()),
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
        (Some(arn), Some(id)) => {
            let mut fid = String::with_capacity(arn.len() + 1 + id.len());
            fid.push_str(arn);
            fid.push('/');
            fid.push_str(id);
            Some(fid)
        }
        _ => None,
    };
    let fill = |pf: &mut Map<String, Value>| {
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
    };
    match f.get_mut("ProductFields") {
        Some(Value::Object(pf)) => fill(pf),
        _ => {
            let mut pf = Map::new();
            fill(&mut pf);
            set(f, "ProductFields", Value::Object(pf));
        }
    }
}

#[cfg(test)]
mod tests;
