//! The built-in transform of seed 001's Lambda: every record becomes a HEC event envelope
//! `{"sourcetype": ..., "event": <record>}` (plus templated `host`, `source`, `index`), so
//! it can go to the HEC `/event` endpoint as is. A record that is not JSON becomes a string
//! event. Templates replace `{a.b}` with the record's field `a.b` (strings as they are,
//! other values as JSON); a member whose template comes out empty is left out.

use serde_json::{Map, Value};

use crate::config::HecTemplate;

fn lookup<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(event, |v, part| v.get(part))
}

pub fn render(template: &str, event: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        match lookup(event, &after[..close]) {
            Some(Value::String(s)) => out.push_str(s),
            Some(Value::Null) | None => {}
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The events a record makes: itself, or (with `split_defender`) its Device Defender
/// metrics or audit check results.
fn events_of(record: Value, template: &HecTemplate) -> Vec<Value> {
    if !template.split_defender {
        return vec![record];
    }
    let list = |v: &Value, key: &str| v.get(key).and_then(Value::as_array).cloned();
    if let Some(metrics) = list(&record, "metrics") {
        return metrics;
    }
    if let Some(details) = list(&record, "auditDetails") {
        return details;
    }
    // An SNS notification envelope (subscription without raw message delivery).
    let inner = record
        .get("Message")
        .and_then(Value::as_str)
        .and_then(|m| serde_json::from_str::<Value>(m).ok());
    if let Some(details) = inner.as_ref().and_then(|m| list(m, "auditDetails")) {
        return details;
    }
    vec![record]
}

fn envelope(event: Value, template: &HecTemplate) -> Value {
    let mut envelope = Map::new();
    for (key, t) in [
        ("sourcetype", &template.sourcetype),
        ("host", &template.host),
        ("source", &template.source),
        ("index", &template.index),
    ] {
        if let Some(t) = t {
            let value = render(t, &event);
            if !value.is_empty() {
                envelope.insert(key.to_string(), Value::String(value));
            }
        }
    }
    envelope.insert("event".to_string(), event);
    Value::Object(envelope)
}

/// The HEC envelopes of a record, concatenated (HEC's batch form).
pub fn to_hec_event(data: &[u8], template: &HecTemplate) -> Vec<u8> {
    let record: Value = serde_json::from_slice(data)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(data).into_owned()));
    let mut out = Vec::new();
    for event in events_of(record, template) {
        if serde_json::to_writer(&mut out, &envelope(event, template)).is_err() {
            return Vec::new();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wraps_the_record_under_event_with_the_sourcetype() {
        let t = HecTemplate {
            sourcetype: Some("aws:iot:defender".into()),
            host: Some("{thing}".into()),
            source: Some("dd/{name}/{value.count}".into()),
            index: Some("{missing}".into()),
            split_defender: false,
        };
        let record =
            json!({"thing": "t1", "name": "aws:num-listening-tcp-ports", "value": {"count": 3}});
        let out: Value =
            serde_json::from_slice(&to_hec_event(record.to_string().as_bytes(), &t)).unwrap();
        assert_eq!(
            out,
            json!({"sourcetype": "aws:iot:defender", "host": "t1", "source": "dd/aws:num-listening-tcp-ports/3", "event": record})
        );
        assert!(out.get("index").is_none());
    }

    #[test]
    fn non_json_records_become_string_events() {
        let out: Value =
            serde_json::from_slice(&to_hec_event(b"plain text", &HecTemplate::default())).unwrap();
        assert_eq!(out, json!({"event": "plain text"}));
    }

    #[test]
    fn split_defender_makes_one_event_per_metric_or_check() {
        let t = HecTemplate {
            sourcetype: Some("dd".into()),
            split_defender: true,
            ..HecTemplate::default()
        };
        let split = |record: Value| -> Vec<Value> {
            let out = to_hec_event(record.to_string().as_bytes(), &t);
            serde_json::Deserializer::from_slice(&out)
                .into_iter::<Value>()
                .map(Result::unwrap)
                .collect()
        };
        let m1 =
            json!({"name": "aws:num-listening-tcp-ports", "thing": "t", "value": {"count": 2}});
        let m2 = json!({"name": "aws:all-bytes-out", "thing": "t", "value": {"count": 9}});
        assert_eq!(
            split(json!({"version": "1.0", "metrics": [m1, m2]})),
            vec![
                json!({"sourcetype": "dd", "event": m1}),
                json!({"sourcetype": "dd", "event": m2})
            ]
        );
        let check =
            json!({"checkName": "LOGGING_DISABLED_CHECK", "checkRunStatus": "COMPLETED_COMPLIANT"});
        let report = json!({"taskId": "x", "auditDetails": [check]});
        let sns = json!({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:0:t", "Message": report.to_string()});
        assert_eq!(
            split(sns),
            vec![json!({"sourcetype": "dd", "event": check})]
        );
        assert_eq!(
            split(report),
            vec![json!({"sourcetype": "dd", "event": check})]
        );
        assert_eq!(
            split(json!({"a": 1})),
            vec![json!({"sourcetype": "dd", "event": {"a": 1}})]
        );
    }

    #[test]
    fn unclosed_braces_stay_literal() {
        assert_eq!(render("a{b", &json!({})), "a{b");
    }
}
