//! Table-driven behavior cases per metric type and operator, with windows and consecutive
//! datapoints, on a moving clock: each case feeds datapoints at given times and expects the
//! events the evaluator raises.

use std::sync::Arc;

use serde_json::json;

use crate::engine::{Engine, Membership, Output};
use crate::model::{Behavior, EventType, SecurityProfile};
use crate::sets::Observed;

struct Fleet;

impl Membership for Fleet {
    fn groups(&self, _account: &str, thing: &str) -> Option<Vec<String>> {
        // Things named `u-*` are unregistered; others are in group `g` (child of `root`).
        (!thing.starts_with("u-")).then(|| vec!["g".to_string(), "root".to_string()])
    }
    fn generation(&self) -> u64 {
        1
    }
}

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

fn profile(behavior: serde_json::Value, target: &str) -> Arc<crate::CompiledProfile> {
    let b: Behavior = serde_json::from_value(behavior).unwrap();
    let p = SecurityProfile {
        name: "p".into(),
        description: None,
        behaviors: vec![b],
        alert_targets: None,
        additional_metrics_to_retain: None,
        additional_metrics_to_retain_v2: None,
        metrics_export_config: None,
        version: 1,
        creation_ms: 0,
        last_modified_ms: 0,
        targets: vec![format!("arn:aws:iot:{REGION}:{ACCOUNT}:{target}")],
        ml_started_ms: Default::default(),
    };
    let dims = |_: &str| Some(vec!["cmd/#".to_string()]);
    let kinds = |name: &str| match name {
        "cpu" => Some(crate::catalog::Kind::Number),
        "apps" => Some(crate::catalog::Kind::Strings),
        "codes" => Some(crate::catalog::Kind::Numbers),
        _ => None,
    };
    Arc::new(crate::compile(
        &p,
        "arn:p".into(),
        REGION,
        ACCOUNT,
        &dims,
        &kinds,
    ))
}

fn n(x: f64) -> Observed {
    Observed::Number(x)
}

fn ports(p: &[u16]) -> Observed {
    Observed::Ports(p.to_vec())
}

fn ips(list: &[&str]) -> Observed {
    Observed::Ips(list.iter().map(|s| s.parse().unwrap()).collect())
}

/// Feeds `(seconds, value)` datapoints of `metric` for thing `t` and returns the events.
fn run(behavior: serde_json::Value, metric: &str, points: &[(i64, Observed)]) -> Vec<EventType> {
    run_for("t", "thinggroup/root", behavior, metric, points)
}

fn run_for(
    thing: &str,
    target: &str,
    behavior: serde_json::Value,
    metric: &str,
    points: &[(i64, Observed)],
) -> Vec<EventType> {
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![profile(behavior, target)], 0, &mut out);
    for (secs, value) in points {
        engine.datapoint(ACCOUNT, thing, metric, value, secs * 1000, &mut out);
    }
    out.transitions.iter().map(|t| t.event).collect()
}

fn rule(
    metric: &str,
    op: &str,
    value: serde_json::Value,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut criteria = json!({"comparisonOperator": op, "value": value});
    for (k, v) in extra.as_object().unwrap() {
        criteria[k] = v.clone();
    }
    json!({"name": "b", "metric": metric, "criteria": criteria})
}

use EventType::{AlarmCleared as Clear, InAlarm as Alarm};

#[test]
fn number_operators_alarm_on_the_abnormal_side_only() {
    let m = "aws:num-disconnects";
    let cases: &[(&str, f64, f64, bool)] = &[
        ("less-than", 5.0, 5.0, true),
        ("less-than", 5.0, 4.0, false),
        ("less-than-equals", 5.0, 5.0, false),
        ("less-than-equals", 5.0, 6.0, true),
        ("greater-than", 5.0, 5.0, true),
        ("greater-than", 5.0, 6.0, false),
        ("greater-than-equals", 5.0, 5.0, false),
        ("greater-than-equals", 5.0, 4.0, true),
    ];
    for (op, threshold, value, alarms) in cases {
        let events = run(
            rule(m, op, json!({"count": *threshold as u64}), json!({})),
            m,
            &[(0, n(*value))],
        );
        assert_eq!(events == [Alarm], *alarms, "{op} {threshold} with {value}");
    }
}

#[test]
fn list_operators_cidrs_ports_and_sets() {
    let cases: Vec<(serde_json::Value, &str, Observed, bool)> = vec![
        (
            rule(
                "aws:listening-tcp-ports",
                "in-port-set",
                json!({"ports": [443, 8883]}),
                json!({}),
            ),
            "aws:listening-tcp-ports",
            ports(&[443, 21]),
            true,
        ),
        (
            rule(
                "aws:listening-tcp-ports",
                "in-port-set",
                json!({"ports": [443, 8883]}),
                json!({}),
            ),
            "aws:listening-tcp-ports",
            ports(&[443]),
            false,
        ),
        (
            rule(
                "aws:listening-tcp-ports",
                "in-port-set",
                json!({"ports": [443]}),
                json!({}),
            ),
            "aws:listening-tcp-ports",
            ports(&[]),
            false,
        ),
        (
            rule(
                "aws:listening-udp-ports",
                "not-in-port-set",
                json!({"ports": [53]}),
                json!({}),
            ),
            "aws:listening-udp-ports",
            ports(&[53]),
            true,
        ),
        (
            rule(
                "aws:listening-udp-ports",
                "not-in-port-set",
                json!({"ports": [53]}),
                json!({}),
            ),
            "aws:listening-udp-ports",
            ports(&[54]),
            false,
        ),
        (
            rule(
                "aws:destination-ip-addresses",
                "in-cidr-set",
                json!({"cidrs": ["10.0.0.0/8"]}),
                json!({}),
            ),
            "aws:destination-ip-addresses",
            ips(&["10.1.2.3", "8.8.8.8"]),
            true,
        ),
        (
            rule(
                "aws:destination-ip-addresses",
                "in-cidr-set",
                json!({"cidrs": ["10.0.0.0/8", "2001:db8::/32"]}),
                json!({}),
            ),
            "aws:destination-ip-addresses",
            ips(&["10.1.2.3", "2001:db8::1"]),
            false,
        ),
        (
            rule(
                "aws:source-ip-address",
                "not-in-cidr-set",
                json!({"cidrs": ["192.0.2.0/24"]}),
                json!({}),
            ),
            "aws:source-ip-address",
            ips(&["192.0.2.7"]),
            true,
        ),
        (
            rule(
                "aws:source-ip-address",
                "not-in-cidr-set",
                json!({"cidrs": ["192.0.2.7"]}),
                json!({}),
            ),
            "aws:source-ip-address",
            ips(&["192.0.2.8"]),
            false,
        ),
        (
            rule(
                "apps",
                "in-set",
                json!({"strings": ["ssh", "web"]}),
                json!({}),
            ),
            "apps",
            Observed::Strings(vec!["telnet".into()]),
            true,
        ),
        (
            rule(
                "apps",
                "not-in-set",
                json!({"strings": ["telnet"]}),
                json!({}),
            ),
            "apps",
            Observed::Strings(vec!["web".into()]),
            false,
        ),
        (
            rule("codes", "in-set", json!({"numbers": [1.0, 2.0]}), json!({})),
            "codes",
            Observed::Numbers(vec![1.0, 3.0]),
            true,
        ),
        (
            rule("codes", "not-in-set", json!({"numbers": [3.0]}), json!({})),
            "codes",
            Observed::Numbers(vec![1.0]),
            false,
        ),
        (
            rule("cpu", "less-than", json!({"number": 0.9}), json!({})),
            "cpu",
            n(0.95),
            true,
        ),
    ];
    for (i, (behavior, metric, value, alarms)) in cases.into_iter().enumerate() {
        let events = run(behavior, metric, &[(0, value)]);
        assert_eq!(events == [Alarm], alarms, "case {i}");
    }
}

#[test]
fn duration_windows_sum_the_datapoints_inside_them() {
    // aws:num-authorization-failures greater-than 5 in 300 s: normal is <= 5.
    let b = rule(
        "aws:num-authorization-failures",
        "less-than-equals",
        json!({"count": 5}),
        json!({"durationSeconds": 300}),
    );
    let m = "aws:num-authorization-failures";
    assert_eq!(run(b.clone(), m, &[(0, n(3.0)), (100, n(2.0))]), []);
    assert_eq!(run(b.clone(), m, &[(0, n(3.0)), (100, n(3.0))]), [Alarm]);
    // The first datapoint has left the window by t=300.
    assert_eq!(run(b.clone(), m, &[(0, n(3.0)), (300, n(3.0))]), []);
    assert_eq!(run(b, m, &[(0, n(6.0)), (301, n(0.0))]), [Alarm, Clear]);
}

#[test]
fn consecutive_datapoints_to_alarm_and_to_clear() {
    let m = "aws:num-disconnects";
    let b = rule(
        m,
        "less-than",
        json!({"count": 1}),
        json!({"consecutiveDatapointsToAlarm": 3, "consecutiveDatapointsToClear": 2}),
    );
    let bad = |t| (t, n(4.0));
    let good = |t| (t, n(0.0));
    assert_eq!(
        run(
            b.clone(),
            m,
            &[bad(0), bad(300), good(600), bad(900), bad(1200)]
        ),
        []
    );
    assert_eq!(run(b.clone(), m, &[bad(0), bad(300), bad(600)]), [Alarm]);
    assert_eq!(
        run(
            b.clone(),
            m,
            &[bad(0), bad(300), bad(600), good(900), bad(1200), good(1500)]
        ),
        [Alarm]
    );
    assert_eq!(
        run(b, m, &[bad(0), bad(300), bad(600), good(900), good(1200)]),
        [Alarm, Clear]
    );
}

#[test]
fn statistical_thresholds_compare_with_the_fleet_percentile() {
    let m = "aws:all-bytes-out";
    let b = json!({"name": "b", "metric": m, "criteria": {
        "comparisonOperator": "less-than-equals", "statisticalThreshold": {"statistic": "p90"}}});
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![profile(b, "all/things")], 0, &mut out);
    // Devices report in a scrambled order; the first 20 values only teach the sketch.
    for k in 0..100 {
        let i = (k * 37) % 100;
        engine.datapoint(
            ACCOUNT,
            &format!("t{i}"),
            m,
            &n(100.0 + i as f64),
            1000,
            &mut out,
        );
    }
    // The top decile is above p90 of the fleet.
    let alarmed: Vec<&str> = out
        .transitions
        .iter()
        .map(|t| t.violation.thing_name.as_str())
        .collect();
    assert!(alarmed.contains(&"t99"), "{alarmed:?}");
    assert!(!alarmed.contains(&"t50"), "{alarmed:?}");
    engine.datapoint(ACCOUNT, "t-new", m, &n(10_000.0), 2000, &mut out);
    assert_eq!(
        out.transitions
            .last()
            .map(|t| t.violation.thing_name.as_str()),
        Some("t-new")
    );
}

#[test]
fn targets_decide_who_is_evaluated() {
    let m = "aws:num-disconnects";
    let b = rule(m, "less-than", json!({"count": 1}), json!({}));
    assert_eq!(
        run_for("u-1", "all/registered-things", b.clone(), m, &[(0, n(5.0))]),
        []
    );
    assert_eq!(
        run_for(
            "u-1",
            "all/unregistered-things",
            b.clone(),
            m,
            &[(0, n(5.0))]
        ),
        [Alarm]
    );
    assert_eq!(
        run_for("t", "thinggroup/other", b.clone(), m, &[(0, n(5.0))]),
        []
    );
    assert_eq!(run_for("t", "all/things", b, m, &[(0, n(5.0))]), [Alarm]);
}

#[test]
fn silence_detach_and_behavior_removal_invalidate() {
    let m = "aws:num-disconnects";
    let b = rule(m, "less-than", json!({"count": 1}), json!({}));
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![profile(b.clone(), "all/things")], 0, &mut out);
    engine.datapoint(ACCOUNT, "t", m, &n(5.0), 0, &mut out);
    engine.expire_silent(crate::engine::NO_DATA_MS, &mut out);
    assert_eq!(out.transitions.len(), 1);
    engine.expire_silent(crate::engine::NO_DATA_MS + 1, &mut out);
    assert_eq!(
        out.transitions.last().unwrap().event,
        EventType::AlarmInvalidated
    );
    // Detached: the profile leaves the engine.
    engine.datapoint(ACCOUNT, "t", m, &n(5.0), 1, &mut out);
    assert_eq!(engine.active(ACCOUNT).len(), 1);
    engine.set_profiles(ACCOUNT, vec![], 2, &mut out);
    assert_eq!(
        out.transitions.last().unwrap().event,
        EventType::AlarmInvalidated
    );
    assert!(engine.active(ACCOUNT).is_empty());
}

#[test]
fn message_byte_size_is_judged_per_message_and_dimensions_filter_topics() {
    let size = rule(
        "aws:message-byte-size",
        "less-than-equals",
        json!({"count": 1024}),
        json!({}),
    );
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![profile(size, "all/things")], 0, &mut out);
    engine.message(ACCOUNT, "t", "t", "a/b", 100, true, 0, &mut out);
    assert!(out.transitions.is_empty());
    engine.message(ACCOUNT, "t", "t", "a/b", 2048, true, 1, &mut out);
    assert_eq!(out.transitions.len(), 1);

    let mut dimensioned = rule(
        "aws:num-messages-sent",
        "less-than",
        json!({"count": 2}),
        json!({"durationSeconds": 300}),
    );
    dimensioned["metricDimension"] = json!({"dimensionName": "cmds"});
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(
        ACCOUNT,
        vec![profile(dimensioned, "all/things")],
        0,
        &mut out,
    );
    for topic in ["cmd/a", "cmd/b", "other/x", "other/y"] {
        engine.message(ACCOUNT, "t", "t", topic, 10, true, 0, &mut out);
    }
    // The period datapoint says 4 messages; only 2 matched the dimension: still abnormal (>= 2).
    engine.datapoint(
        ACCOUNT,
        "t",
        "aws:num-messages-sent",
        &n(4.0),
        300_000,
        &mut out,
    );
    assert_eq!(out.transitions.len(), 1);
}

#[test]
fn exported_metrics_are_batched_in_the_spec_shape() {
    let m = "aws:num-disconnects";
    let mut b = rule(m, "less-than", json!({"count": 10}), json!({}));
    b["exportMetric"] = json!(true);
    let behavior: Behavior = serde_json::from_value(b).unwrap();
    let p = SecurityProfile {
        name: "p".into(),
        description: None,
        behaviors: vec![behavior],
        alert_targets: None,
        additional_metrics_to_retain: None,
        additional_metrics_to_retain_v2: None,
        metrics_export_config: Some(crate::model::MetricsExportConfig {
            mqtt_topic: "dd/export".into(),
            role_arn: "arn:aws:iam::1:role/r".into(),
        }),
        version: 1,
        creation_ms: 0,
        last_modified_ms: 0,
        targets: vec![format!("arn:aws:iot:{REGION}:{ACCOUNT}:all/things")],
        ml_started_ms: Default::default(),
    };
    let compiled = Arc::new(crate::compile(
        &p,
        "arn:p".into(),
        REGION,
        ACCOUNT,
        &|_| None,
        &|_| None,
    ));
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![compiled], 0, &mut out);
    engine.datapoint(ACCOUNT, "t", m, &n(3.0), 5_000, &mut out);
    engine.datapoint(
        ACCOUNT,
        "t",
        "aws:num-messages-sent",
        &n(3.0),
        5_000,
        &mut out,
    );
    assert_eq!(out.exports.len(), 1);
    let e = &out.exports[0];
    assert_eq!(
        (e.topic.as_str(), e.thing.as_str(), e.metric.as_str()),
        ("dd/export", "t", m)
    );
    let payload: serde_json::Value =
        serde_json::from_slice(&crate::outputs::export_json(&[(7, e)])).unwrap();
    assert_eq!(
        payload,
        json!({"version": "1.0", "metrics": [{"name": m, "thing": "t", "value": {"count": 3},
                                               "version": 7, "timestamp": 5000}]})
    );
}

#[test]
fn dimensioned_counts_are_exported_with_their_dimension() {
    let m = "aws:num-messages-sent";
    let mut b = rule(m, "less-than", json!({"count": 10}), json!({}));
    b["exportMetric"] = json!(true);
    b["metricDimension"] = json!({"dimensionName": "cmds", "operator": "NOT_IN"});
    let p = SecurityProfile {
        name: "p".into(),
        description: None,
        behaviors: vec![serde_json::from_value(b).unwrap()],
        alert_targets: None,
        additional_metrics_to_retain: None,
        additional_metrics_to_retain_v2: None,
        metrics_export_config: Some(crate::model::MetricsExportConfig {
            mqtt_topic: "dd/export".into(),
            role_arn: "arn:aws:iam::1:role/r".into(),
        }),
        version: 1,
        creation_ms: 0,
        last_modified_ms: 0,
        targets: vec![format!("arn:aws:iot:{REGION}:{ACCOUNT}:all/things")],
        ml_started_ms: Default::default(),
    };
    let dims = |_: &str| Some(vec!["cmd/#".to_string()]);
    let compiled = Arc::new(crate::compile(
        &p,
        "arn:p".into(),
        REGION,
        ACCOUNT,
        &dims,
        &|_| None,
    ));
    let mut engine = Engine::new(Arc::new(Fleet));
    let mut out = Output::default();
    engine.set_profiles(ACCOUNT, vec![compiled], 0, &mut out);
    for topic in ["cmd/a", "other/x", "other/y"] {
        engine.message(ACCOUNT, "t", "t", topic, 10, true, 0, &mut out);
    }
    engine.datapoint(ACCOUNT, "t", m, &n(3.0), 5_000, &mut out);
    assert_eq!(out.exports.len(), 1, "{:?}", out.exports);
    let payload: serde_json::Value =
        serde_json::from_slice(&crate::outputs::export_json(&[(1, &out.exports[0])])).unwrap();
    assert_eq!(
        payload["metrics"][0],
        json!({"name": m, "thing": "t", "value": {"count": 2}, "version": 1, "timestamp": 5000,
               "dimension": {"name": "cmds", "operator": "NOT_IN"}})
    );
}
