//! Cloud-side Device Defender metrics (spec/device-defender.md 2.2), counted per device (its
//! thing, or its client id when it acts as no thing) and written as datapoints once per
//! period: aws:num-messages-sent, aws:num-messages-received, aws:num-authorization-failures,
//! aws:num-connection-attempts, aws:num-disconnects and aws:message-byte-size (the largest
//! message of the period; detect evaluates sizes per message in process). Connections
//! also give aws:source-ip-address at connect and aws:disconnect-duration (minutes) at
//! reconnect.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use fleetward_store::Datapoint;
use serde_json::json;

use crate::events::Recorder;

/// (account, device).
pub type DeviceKey = (String, String);

#[derive(Default, Clone, Copy)]
struct Counters {
    messages_sent: u64,
    messages_received: u64,
    authorization_failures: u64,
    connection_attempts: u64,
    disconnects: u64,
    largest_message: u64,
}

#[derive(Default)]
pub struct Meter {
    counters: Mutex<HashMap<DeviceKey, Counters>>,
    last_disconnect_ms: Mutex<HashMap<DeviceKey, i64>>,
}

/// One countable event.
#[derive(Clone, Copy)]
pub enum Count {
    MessageSent { bytes: usize },
    MessageReceived,
    AuthorizationFailure,
    ConnectionAttempt,
    Disconnect,
}

impl Meter {
    pub fn count(&self, key: &DeviceKey, what: Count) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let c = match counters.get_mut(key) {
            Some(c) => c,
            None => counters.entry(key.clone()).or_default(),
        };
        match what {
            Count::MessageSent { bytes } => {
                c.messages_sent += 1;
                c.largest_message = c.largest_message.max(bytes as u64);
            }
            Count::MessageReceived => c.messages_received += 1,
            Count::AuthorizationFailure => c.authorization_failures += 1,
            Count::ConnectionAttempt => c.connection_attempts += 1,
            Count::Disconnect => c.disconnects += 1,
        }
    }

    /// A device connected from `ip`: records its source address, and how long it was away.
    pub fn connected(
        &self,
        key: &DeviceKey,
        ip: std::net::IpAddr,
        now_ms: i64,
        recorder: &Recorder,
    ) {
        recorder.datapoint(point(
            key,
            "aws:source-ip-address",
            now_ms,
            json!({"cidrs": [ip.to_string()]}),
        ));
        let away = self
            .last_disconnect_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        if let Some(since) = away {
            let minutes = (now_ms - since).max(0) / 60_000;
            recorder.datapoint(point(
                key,
                "aws:disconnect-duration",
                now_ms,
                json!({"count": minutes}),
            ));
        }
    }

    pub fn disconnected(&self, key: &DeviceKey, now_ms: i64) {
        self.count(key, Count::Disconnect);
        self.last_disconnect_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone(), now_ms);
    }

    /// Writes the period's counters as datapoints and starts a new period.
    pub fn flush(&self, now_ms: i64, recorder: &Recorder) {
        let period =
            std::mem::take(&mut *self.counters.lock().unwrap_or_else(PoisonError::into_inner));
        for (key, c) in period {
            for (metric, value) in [
                ("aws:num-messages-sent", c.messages_sent),
                ("aws:num-messages-received", c.messages_received),
                ("aws:num-authorization-failures", c.authorization_failures),
                ("aws:num-connection-attempts", c.connection_attempts),
                ("aws:num-disconnects", c.disconnects),
            ] {
                recorder.datapoint(point(&key, metric, now_ms, json!({"count": value})));
            }
            if c.messages_sent > 0 {
                recorder.datapoint(point(
                    &key,
                    "aws:message-byte-size",
                    now_ms,
                    json!({"count": c.largest_message}),
                ));
            }
        }
    }
}

fn point(key: &DeviceKey, metric: &str, time_ms: i64, value: serde_json::Value) -> Datapoint {
    Datapoint {
        account_id: key.0.clone(),
        thing_name: key.1.clone(),
        metric: metric.to_string(),
        dimension: String::new(),
        time_ms,
        value_json: value.to_string(),
    }
}
