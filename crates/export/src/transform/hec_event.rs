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

pub fn to_hec_event(data: &[u8], template: &HecTemplate) -> Vec<u8> {
    let event: Value = serde_json::from_slice(data)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(data).into_owned()));
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
    serde_json::to_vec(&Value::Object(envelope)).unwrap_or_default()
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
    fn unclosed_braces_stay_literal() {
        assert_eq!(render("a{b", &json!({})), "a{b");
    }
}
