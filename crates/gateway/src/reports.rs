//! Device Defender metrics reports (`$aws/things/THING/defender/metrics/json|cbor`): parse,
//! answer on `.../accepted` or `.../rejected` as AWS does, and store the accepted values as
//! the thing's device-side datapoints (every report goes to detect; the stored history keeps
//! one report per [`GatewayConfig::metric_history_interval_ms`](crate::GatewayConfig)).

use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use fleetward_device_report::{LastAccepted, MetricValue, datapoints, handle_report};
use fleetward_mqtt::{Properties, QoS};
use fleetward_store::Datapoint;
use serde_json::json;

use crate::broker::Message;
use crate::gateway::Gateway;

/// What the gateway remembers of a thing's reports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThingReports {
    /// The last accepted report (the throttle's input).
    last: LastAccepted,
    /// When a report of the thing was last stored as datapoints.
    stored_at_ms: i64,
}

/// Handles a publish to a report topic; `false` if `topic` is not one.
pub fn handle(gateway: &Gateway, account: &str, topic: &str, payload: &[u8], now_ms: i64) -> bool {
    let Some((thing, _)) = fleetward_device_report::parse_report_topic(topic) else {
        return false;
    };
    let key = (account.to_string(), thing.to_string());
    let seen = gateway
        .reports
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .copied();
    let last = seen.map(|s| s.last);
    let Some(outcome) = handle_report(
        topic,
        payload,
        last,
        &gateway.config.report_throttle,
        now_ms,
    ) else {
        return false;
    };
    match &outcome.result {
        Ok(report) => {
            let interval = gateway.config.metric_history_interval_ms;
            let store = seen.is_none_or(|s| now_ms - s.stored_at_ms >= interval);
            let state = ThingReports {
                last: LastAccepted {
                    report_id: report.report_id,
                    at_ms: now_ms,
                },
                stored_at_ms: match seen {
                    Some(s) if !store => s.stored_at_ms,
                    _ => now_ms,
                },
            };
            gateway
                .reports
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key, state);
            for (metric, value) in datapoints(report) {
                let point = Datapoint {
                    account_id: account.to_string(),
                    thing_name: outcome.thing.clone(),
                    metric,
                    dimension: String::new(),
                    time_ms: now_ms,
                    value_json: value_json(&value),
                };
                if store {
                    gateway.recorder.datapoint(point);
                } else {
                    gateway.recorder.evaluate_only(&point);
                }
            }
        }
        Err(error) => {
            tracing::debug!(
                thing = outcome.thing,
                code = error.code,
                message = error.message,
                "Metrics report rejected."
            );
        }
    }
    let reply = Arc::new(Message {
        topic: outcome.reply_topic.as_str().into(),
        payload: Bytes::from(outcome.reply_payload),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Arc::new(Properties::default()),
        expires_at_ms: None,
    });
    let routed = gateway.broker.route(account, None, &reply, now_ms);
    crate::durable::write_later(&gateway.store, routed.writes);
    if !routed.waiting.is_empty() {
        tokio::spawn(crate::outbox::deliver_all(routed.waiting));
    }
    true
}

/// A value in the shape of Device Defender's `MetricValue` (count, number, numbers, ports,
/// cidrs, strings).
fn value_json(value: &MetricValue) -> String {
    let v = match value {
        MetricValue::Count(n) => json!({"count": n}),
        MetricValue::Number(x) => json!({"number": x}),
        MetricValue::Numbers(xs) => json!({"numbers": xs}),
        MetricValue::Ports(ports) => json!({"ports": ports}),
        MetricValue::Ips(ips) => {
            json!({"cidrs": ips.iter().map(|ip| ip.to_string()).collect::<Vec<_>>()})
        }
        MetricValue::Strings(s) => json!({"strings": s}),
    };
    v.to_string()
}
