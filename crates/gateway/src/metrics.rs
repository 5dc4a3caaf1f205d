//! Cloud-side Device Defender metrics (spec/device-defender.md 2.2), counted per device (its
//! thing, or its client id when it acts as no thing) and written as datapoints once per
//! period: aws:num-messages-sent, aws:num-messages-received, aws:num-authorization-failures,
//! aws:num-connection-attempts, aws:num-disconnects and aws:message-byte-size (the largest
//! message of the period; detect evaluates sizes per message in process). Connections
//! also give aws:source-ip-address at connect and aws:disconnect-duration (minutes) at
//! reconnect.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use fleetward_store::Datapoint;
use serde_json::json;

use crate::events::Recorder;

/// (account, device).
pub type DeviceKey = (String, String);

/// One device's counters for the current period. Connections hold it, so counting a
/// message is an atomic add: no lock and no lookup per message.
#[derive(Default)]
pub struct DeviceMeter {
    pub key: DeviceKey,
    messages_sent: AtomicU64,
    messages_received: AtomicU64,
    authorization_failures: AtomicU64,
    connection_attempts: AtomicU64,
    disconnects: AtomicU64,
    largest_message: AtomicU64,
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

impl DeviceMeter {
    pub fn count(&self, what: Count) {
        match what {
            Count::MessageSent { bytes } => {
                self.messages_sent.fetch_add(1, Relaxed);
                self.largest_message.fetch_max(bytes as u64, Relaxed);
            }
            Count::MessageReceived => {
                self.messages_received.fetch_add(1, Relaxed);
            }
            Count::AuthorizationFailure => {
                self.authorization_failures.fetch_add(1, Relaxed);
            }
            Count::ConnectionAttempt => {
                self.connection_attempts.fetch_add(1, Relaxed);
            }
            Count::Disconnect => {
                self.disconnects.fetch_add(1, Relaxed);
            }
        }
    }

    /// The period's counts, starting the next period at zero.
    fn take(&self) -> [u64; 6] {
        [
            self.messages_sent.swap(0, Relaxed),
            self.messages_received.swap(0, Relaxed),
            self.authorization_failures.swap(0, Relaxed),
            self.connection_attempts.swap(0, Relaxed),
            self.disconnects.swap(0, Relaxed),
            self.largest_message.swap(0, Relaxed),
        ]
    }
}

#[derive(Default)]
pub struct Meter {
    devices: Mutex<HashMap<DeviceKey, Arc<DeviceMeter>>>,
    last_disconnect_ms: Mutex<HashMap<DeviceKey, i64>>,
}

impl Meter {
    /// The counters of a device, shared by all its connections.
    pub fn device(&self, key: DeviceKey) -> Arc<DeviceMeter> {
        let mut devices = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        devices
            .entry(key)
            .or_insert_with_key(|key| {
                Arc::new(DeviceMeter {
                    key: key.clone(),
                    ..DeviceMeter::default()
                })
            })
            .clone()
    }

    /// A device connected from `ip`: records its source address, and how long it was away.
    pub fn connected(
        &self,
        device: &DeviceMeter,
        ip: std::net::IpAddr,
        now_ms: i64,
        recorder: &Recorder,
    ) {
        let key = &device.key;
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

    pub fn disconnected(&self, device: &DeviceMeter, now_ms: i64) {
        device.count(Count::Disconnect);
        self.last_disconnect_ms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(device.key.clone(), now_ms);
    }

    /// Writes the period's counters as datapoints (for devices that did anything) and
    /// starts a new period; forgets devices no connection holds any more.
    pub fn flush(&self, now_ms: i64, recorder: &Recorder) {
        let mut period = Vec::new();
        self.devices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, device| {
                let counts = device.take();
                if counts.iter().any(|c| *c > 0) {
                    period.push((device.key.clone(), counts));
                }
                Arc::strong_count(device) > 1
            });
        for (key, [sent, received, denied, attempts, disconnects, largest]) in period {
            for (metric, value) in [
                ("aws:num-messages-sent", sent),
                ("aws:num-messages-received", received),
                ("aws:num-authorization-failures", denied),
                ("aws:num-connection-attempts", attempts),
                ("aws:num-disconnects", disconnects),
            ] {
                recorder.datapoint(point(&key, metric, now_ms, json!({"count": value})));
            }
            if sent > 0 {
                recorder.datapoint(point(
                    &key,
                    "aws:message-byte-size",
                    now_ms,
                    json!({"count": largest}),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_of_one_device_share_counters_that_reset_each_period() {
        let meter = Meter::default();
        let first = meter.device(("111111111111".into(), "thing".into()));
        let second = meter.device(("111111111111".into(), "thing".into()));
        let other = meter.device(("111111111111".into(), "other".into()));
        assert!(Arc::ptr_eq(&first, &second));
        first.count(Count::MessageSent { bytes: 10 });
        second.count(Count::MessageSent { bytes: 30 });
        second.count(Count::MessageReceived);
        other.count(Count::AuthorizationFailure);
        assert_eq!(first.take(), [2, 1, 0, 0, 0, 30]);
        assert_eq!(first.take(), [0; 6]);
        assert_eq!(other.take(), [0, 0, 1, 0, 0, 0]);
    }
}
