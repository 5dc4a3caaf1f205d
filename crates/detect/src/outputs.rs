//! What a violation event becomes outside: the SNS alert message (the `ViolationEvent`
//! shape), the hub's ASFF finding exactly as seed 002's Detect example, and metrics export
//! batches (spec 2.10).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::engine::Exported;
use crate::input::epoch_seconds;
use crate::model::{EventType, ViolationEvent};

pub const PRODUCT_NAME: &str = "IoT Device Defender - Detect";
pub const COMPANY_NAME: &str = "AWS";

/// An event waiting for its alert and hub finding (the outbox document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub event: ViolationEvent,
    pub alert_target: Option<String>,
    pub profile_arn: String,
    /// Only a hub refresh (no alert).
    #[serde(default)]
    pub refresh_only: bool,
}

/// The `ViolationEvent` document of the API (ListViolationEvents) and of alerts.
pub fn event_json(e: &ViolationEvent) -> Value {
    let mut m = Map::new();
    m.insert("violationId".into(), json!(e.violation_id));
    m.insert("thingName".into(), json!(e.thing_name));
    m.insert("securityProfileName".into(), json!(e.security_profile_name));
    m.insert("behavior".into(), json!(e.behavior));
    if let Some(v) = &e.metric_value {
        m.insert("metricValue".into(), json!(v));
    }
    m.insert(
        "violationEventType".into(),
        json!(e.violation_event_type.as_str()),
    );
    m.insert(
        "verificationState".into(),
        json!(e.verification_state.as_deref().unwrap_or("UNKNOWN")),
    );
    if let Some(d) = &e.verification_state_description {
        m.insert("verificationStateDescription".into(), json!(d));
    }
    m.insert(
        "violationEventTime".into(),
        epoch_seconds(e.violation_event_ms),
    );
    Value::Object(m)
}

/// The SNS alert: the violation event (times in epoch milliseconds, as AWS's alerts carry).
pub fn alert_json(e: &ViolationEvent) -> String {
    let mut v = event_json(e);
    v["violationEventTime"] = json!(e.violation_event_ms);
    v["violationStartTime"] = json!(e.violation_start_ms);
    v.to_string()
}

/// The hub finding of a violation: active while in alarm, archived once cleared or
/// invalidated; `updated_ms` is the event time (or the refresh time).
pub fn finding_json(
    account: &str,
    region: &str,
    console_base_url: &str,
    profile_arn: &str,
    e: &ViolationEvent,
    updated_ms: i64,
) -> Value {
    let criteria = e.behavior.criteria.clone().unwrap_or_default();
    let criteria_type = e.behavior.criteria_type().as_str();
    let who = if e.registered {
        "Registered thing"
    } else {
        "Unregistered thing"
    };
    let thing = &e.thing_name;
    let behavior = &e.behavior.name;
    let profile = &e.security_profile_name;
    let metric = e.behavior.metric.clone().unwrap_or_default();
    let operator = criteria.comparison_operator.clone().unwrap_or_default();
    let threshold = criteria
        .value
        .as_ref()
        .map(threshold_text)
        .or_else(|| {
            criteria
                .statistical_threshold
                .as_ref()
                .and_then(|t| t.statistic.clone())
        })
        .unwrap_or_default();
    let product_arn =
        format!("arn:aws:securityhub:{region}::product/aws/iot-device-defender-detect");
    let console = |fragment: &str| {
        format!(
            "{}/console/iot/home?region={region}#/{fragment}",
            console_base_url.trim_end_matches('/')
        )
    };
    let mut fields = Map::new();
    let mut field = |k: &str, v: String| {
        fields.insert(k.to_string(), json!(v));
    };
    if !operator.is_empty() {
        field("ComparisonOperator", operator.clone());
    }
    field("BehaviorName", behavior.clone());
    field("ViolationId", e.violation_id.clone());
    field("ViolationStartTime", e.violation_start_ms.to_string());
    field("SuppressAlerts", e.behavior.suppressed().to_string());
    field(
        "ConsecutiveDatapointsToAlarm",
        criteria
            .consecutive_datapoints_to_alarm
            .unwrap_or(1)
            .to_string(),
    );
    field(
        "ConsecutiveDatapointsToClear",
        criteria
            .consecutive_datapoints_to_clear
            .unwrap_or(1)
            .to_string(),
    );
    if let Some(d) = criteria.duration_seconds {
        field("DurationSeconds", d.to_string());
    }
    if let Some(v) = &criteria.value {
        for (k, text) in value_fields(v) {
            field(k, text);
        }
    }
    field("MetricName", metric.clone());
    field("BehaviorCriteriaType", criteria_type.to_string());
    field("ThingName", thing.clone());
    field("SecurityProfileName", profile.clone());
    field(
        "aws/securityhub/FindingId",
        format!("{product_arn}/{}", e.violation_id),
    );
    field("aws/securityhub/ProductName", PRODUCT_NAME.to_string());
    field("aws/securityhub/CompanyName", COMPANY_NAME.to_string());
    let archived = e.violation_event_type != EventType::InAlarm;
    let at = fleetward_model::timestamp::format_ms(updated_ms);
    let created = fleetward_model::timestamp::format_ms(e.violation_start_ms);
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": e.violation_id,
        "ProductArn": product_arn,
        "ProductName": PRODUCT_NAME,
        "CompanyName": COMPANY_NAME,
        "Region": region,
        "GeneratorId": profile_arn,
        "AwsAccountId": account,
        "Types": ["Unusual Behaviors"],
        "CreatedAt": created,
        "UpdatedAt": at,
        "Severity": {"Label": "MEDIUM", "Normalized": 40},
        "Title": format!("{who} {thing} is in alarm for {criteria_type} behavior {behavior}."),
        "Description": format!(
            "{who} {thing} violates {criteria_type} behavior {behavior} of security profile {profile}. Violation was triggered because the device did not conform to {metric} {operator} {threshold}."
        ),
        "SourceUrl": console(&format!("dd/securityProfile/{profile}?tab=violations")),
        "ProductFields": fields,
        "Resources": [{
            "Type": "AwsIotRegisteredThing",
            "Id": thing,
            "Region": region,
            "Details": {"Other": {
                "SourceUrl": console(&format!("thing/{thing}?tab=violations")),
                "IsRegisteredThing": e.registered.to_string(),
                "ThingArn": fleetward_model::arn("iot", region, account, &format!("thing/{thing}")),
            }},
        }],
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": if archived { "ARCHIVED" } else { "ACTIVE" },
        "FindingProviderFields": {"Severity": {"Label": "MEDIUM"}, "Types": ["Unusual Behaviors"]},
    })
}

/// The behavior's value as the seed's ProductFields name it (`Count`, `Cidrs`, ...).
fn value_fields(v: &crate::model::MetricValue) -> Vec<(&'static str, String)> {
    let join = |items: Vec<String>| items.join(",");
    let mut out = Vec::new();
    if let Some(c) = v.count {
        out.push(("Count", c.to_string()));
    }
    if let Some(n) = v.number {
        out.push(("Number", n.to_string()));
    }
    if let Some(c) = &v.cidrs {
        out.push(("Cidrs", join(c.clone())));
    }
    if let Some(p) = &v.ports {
        out.push(("Ports", join(p.iter().map(i64::to_string).collect())));
    }
    if let Some(n) = &v.numbers {
        out.push(("Numbers", join(n.iter().map(f64::to_string).collect())));
    }
    if let Some(s) = &v.strings {
        out.push(("Strings", join(s.clone())));
    }
    out
}

fn threshold_text(v: &crate::model::MetricValue) -> String {
    match value_fields(v).first() {
        Some((k, text)) if *k == "Count" || *k == "Number" => text.clone(),
        Some((_, text)) => format!("[{text}]"),
        None => String::new(),
    }
}

/// One metrics export message: `{"version":"1.0","metrics":[...]}` (spec 2.10).
pub fn export_json(items: &[(u64, &Exported)]) -> Vec<u8> {
    let metrics: Vec<Value> = items
        .iter()
        .map(|(version, e)| {
            let mut m = json!({
                "name": e.metric,
                "thing": e.thing,
                "value": e.value.to_metric_value(e.integral),
                "version": version,
                "timestamp": e.time_ms,
            });
            if let Some((name, not_in)) = &e.dimension {
                m["dimension"] =
                    json!({"name": name, "operator": if *not_in { "NOT_IN" } else { "IN" }});
            }
            m
        })
        .collect();
    json!({"version": "1.0", "metrics": metrics})
        .to_string()
        .into_bytes()
}
