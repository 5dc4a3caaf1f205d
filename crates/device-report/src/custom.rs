//! The `custom_metrics` block (spec §2.8, §3.2).
//!
//! Two kinds of trouble are told apart, as AWS does:
//! - the wrong shape (a value that is not an array of one object, an unknown type key, a
//!   string where a number belongs) makes the report malformed: AWS answers
//!   `{"number": 0}` without the array with "Malformed metrics report";
//! - data that breaks the documented data requirements (more than 15 significant digits,
//!   characters outside the string-list set, an invalid IP) is "sent in the packet but not
//!   retained": the report is accepted and that metric is dropped.

use std::net::IpAddr;

use crate::error::ReportError;
use crate::keys::check_unique;
use crate::model::{CustomValue, DroppedCustomMetric};
use crate::numbers::custom_number;
use crate::parse::{MAX_LIST_ENTRIES, list, quote};
use crate::tree::Node;

/// Kept metrics in payload order, and the dropped ones.
pub(crate) type CustomMetrics = (Vec<(String, CustomValue)>, Vec<DroppedCustomMetric>);

/// CreateCustomMetric's `metricName`: 1–128 of `[a-zA-Z0-9:_-]`, never `aws:…`.
const MAX_NAME_LEN: usize = 128;

pub(crate) const DROP_NAME: &str =
    "metric name must be 1-128 characters of [a-zA-Z0-9:_-] and must not start with \"aws:\"";
pub(crate) const DROP_NUMBER: &str = "number is not finite or has more than 15 significant digits";
pub(crate) const DROP_STRING: &str =
    "string_list entries may only contain letters, digits and the characters : _ - / .";
pub(crate) const DROP_IP: &str = "ip_list entries must be IPv4 or IPv6 addresses";

/// A parsed value plus the first data requirement it breaks, if any.
type Checked = (CustomValue, Option<&'static str>);

pub(crate) fn parse_custom_metrics(node: &Node) -> Result<CustomMetrics, ReportError> {
    let Node::Object(members) = node else {
        return Err(ReportError::malformed(format!(
            "custom_metrics must be an object, got {}",
            node.kind()
        )));
    };
    check_unique(members, "custom_metrics")?;
    if members.len() > MAX_LIST_ENTRIES {
        return Err(ReportError::malformed(format!(
            "custom_metrics has {} metrics, the limit is {MAX_LIST_ENTRIES}",
            members.len()
        )));
    }
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (name, value) in members {
        let path = format!("custom_metrics[{}]", quote(name));
        let (value, broken) = parse_value(value, &path)?;
        match broken.or_else(|| (!valid_name(name)).then_some(DROP_NAME)) {
            Some(reason) => dropped.push(DroppedCustomMetric {
                name: name.clone(),
                reason,
            }),
            None => kept.push((name.clone(), value)),
        }
    }
    Ok((kept, dropped))
}

/// `[ { "<type>": <data> } ]`: exactly one element holding exactly one known type key.
fn parse_value(node: &Node, path: &str) -> Result<Checked, ReportError> {
    let shape_error = || {
        ReportError::malformed(format!(
            "{path} must be an array of one object such as [{{\"number\": 1}}], with one of \
             number, number_list, string_list or ip_list"
        ))
    };
    let [Node::Object(members)] = node_slice(node) else {
        return Err(shape_error());
    };
    let [(kind, data)] = members.as_slice() else {
        return Err(shape_error());
    };
    let path = format!("{path}.{kind}");
    match kind.as_str() {
        "number" => {
            let (n, ok) = custom_number(data, &path)?;
            Ok((CustomValue::Number(n), (!ok).then_some(DROP_NUMBER)))
        }
        "number_list" => {
            let mut values = Vec::new();
            let mut all_ok = true;
            for (i, item) in list(data, &path)?.iter().enumerate() {
                let (n, ok) = custom_number(item, &format!("{path}[{i}]"))?;
                values.push(n);
                all_ok &= ok;
            }
            Ok((
                CustomValue::NumberList(values),
                (!all_ok).then_some(DROP_NUMBER),
            ))
        }
        "string_list" => {
            let strings = strings(data, &path)?;
            let ok = strings.iter().all(|s| s.chars().all(string_list_char));
            Ok((
                CustomValue::StringList(strings),
                (!ok).then_some(DROP_STRING),
            ))
        }
        "ip_list" => {
            let strings = strings(data, &path)?;
            let ips: Option<Vec<IpAddr>> = strings.iter().map(|s| s.parse().ok()).collect();
            Ok(match ips {
                Some(ips) => (CustomValue::IpList(ips), None),
                None => (CustomValue::IpList(Vec::new()), Some(DROP_IP)),
            })
        }
        _ => Err(shape_error()),
    }
}

fn node_slice(node: &Node) -> &[Node] {
    match node {
        Node::Array(items) => items,
        _ => &[],
    }
}

fn strings(node: &Node, path: &str) -> Result<Vec<String>, ReportError> {
    list(node, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| crate::parse::string(item, &format!("{path}[{i}]")))
        .collect()
}

/// The SDK README lists letters and `: _ - / .`; digits are allowed too because AWS's own
/// report example sends `"value_1"`.
pub(crate) fn string_list_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '/' | '.')
}

pub(crate) fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && !name.starts_with("aws:")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encoding;
    use crate::tree::decode;

    fn parse(json: &str) -> Result<CustomMetrics, ReportError> {
        parse_custom_metrics(&decode(json.as_bytes(), Encoding::Json).unwrap())
    }

    #[test]
    fn all_four_types() {
        let (kept, dropped) = parse(
            r#"{"n":[{"number":-2.5}],"nl":[{"number_list":[1,2,3]}],
                "sl":[{"string_list":["value_1","a/b.c:d-e"]}],
                "ip":[{"ip_list":["172.0.0.10","2001:db8::1"]}]}"#,
        )
        .unwrap();
        assert!(dropped.is_empty());
        assert_eq!(
            kept,
            vec![
                ("n".into(), CustomValue::Number(-2.5)),
                ("nl".into(), CustomValue::NumberList(vec![1.0, 2.0, 3.0])),
                (
                    "sl".into(),
                    CustomValue::StringList(vec!["value_1".into(), "a/b.c:d-e".into()])
                ),
                (
                    "ip".into(),
                    CustomValue::IpList(vec![
                        "172.0.0.10".parse().unwrap(),
                        "2001:db8::1".parse().unwrap()
                    ])
                ),
            ]
        );
    }

    #[test]
    fn empty_lists_are_kept() {
        let (kept, _) = parse(r#"{"a":[{"number_list":[]}],"b":[{"ip_list":[]}]}"#).unwrap();
        assert_eq!(kept.len(), 2);
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        for bad in [
            r#"{"m":{"number":0}}"#,
            r#"{"m":[]}"#,
            r#"{"m":[{"number":1},{"number":2}]}"#,
            r#"{"m":[{}]}"#,
            r#"{"m":[{"number":1,"number_list":[1]}]}"#,
            r#"{"m":[{"num":1}]}"#,
            r#"{"m":[1]}"#,
            r#"{"m":[{"number":"1"}]}"#,
            r#"{"m":[{"number":null}]}"#,
            r#"{"m":[{"number_list":[1,"2"]}]}"#,
            r#"{"m":[{"number_list":1}]}"#,
            r#"{"m":[{"string_list":["a",1]}]}"#,
            r#"{"m":[{"ip_list":"10.0.0.1"}]}"#,
            r#"{"m":[{"number":1}],"m":[{"number":2}]}"#,
            r#"[]"#,
        ] {
            let e = parse(bad).err().unwrap_or_else(|| panic!("accepted {bad}"));
            assert_eq!(e.code, "InvalidPayload", "{bad}");
        }
    }

    #[test]
    fn non_conforming_data_is_dropped_not_rejected() {
        let (kept, dropped) = parse(
            r#"{"ok":[{"number":1}],
                "digits":[{"number":1234567890123456}],
                "list_digits":[{"number_list":[1,0.30000000000000004]}],
                "chars":[{"string_list":["ok","not ok"]}],
                "ip":[{"ip_list":["10.0.0.1","10.0.0.0/8"]}],
                "aws:spoof":[{"number":1}],
                "bad name":[{"number":1}]}"#,
        )
        .unwrap();
        assert_eq!(kept, vec![("ok".into(), CustomValue::Number(1.0))]);
        let reasons: Vec<_> = dropped
            .iter()
            .map(|d| (d.name.as_str(), d.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                ("digits", DROP_NUMBER),
                ("list_digits", DROP_NUMBER),
                ("chars", DROP_STRING),
                ("ip", DROP_IP),
                ("aws:spoof", DROP_NAME),
                ("bad name", DROP_NAME),
            ]
        );
    }

    #[test]
    fn list_cap() {
        let ok = format!(
            r#"{{"m":[{{"number_list":[{}]}}]}}"#,
            vec!["1"; 1000].join(",")
        );
        assert!(parse(&ok).is_ok());
        let too_many = format!(
            r#"{{"m":[{{"number_list":[{}]}}]}}"#,
            vec!["1"; 1001].join(",")
        );
        let e = parse(&too_many).err().unwrap();
        assert!(e.message.contains("the limit is 1000"), "{}", e.message);
        let metrics: Vec<_> = (0..1001)
            .map(|i| format!(r#""m{i}":[{{"number":1}}]"#))
            .collect();
        assert!(parse(&format!("{{{}}}", metrics.join(","))).is_err());
    }

    #[test]
    fn name_rule() {
        assert!(valid_name("batteryPercentage"));
        assert!(valid_name("a:b_c-D9"));
        assert!(valid_name(&"x".repeat(128)));
        assert!(!valid_name(&"x".repeat(129)));
        assert!(!valid_name(""));
        assert!(!valid_name("aws:all-bytes-in"));
        assert!(!valid_name("dotted.name"));
    }
}
