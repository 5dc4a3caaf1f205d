//! Topic rules with the `firehose` action (the iot CreateTopicRule family): messages
//! published on the gateway whose topic matches an enabled rule's filter go into the rule's
//! delivery streams, through the same durable buffer as PutRecord.
//!
//! The gateway calls [`Export::rule_message`] for every PUBLISH: with no enabled rule that is
//! one atomic load. Matching records are queued to one forwarding task, which batches them
//! per stream (no disk write per message on the publish path). As in AWS, a rule's action
//! runs after the device's PUBLISH is acknowledged; a record the stream cannot take is retried,
//! then counted (`fleetward_export_rule_records_failed_total`) and logged. The hub's finding
//! events (hub_events.rs) use the same queue.

mod api;
pub mod error;
mod model;
mod sql;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::error::ExportError;
use crate::service::Export;
pub use error::{RuleError, RuleResult};
pub use model::RULE_KIND;
use model::{FirehoseTarget, RuleDoc};

/// Messages waiting for the forwarding task; beyond this the rule's records are refused
/// (counted and logged) rather than holding devices up.
const QUEUE: usize = 10_000;
/// PutRecordBatch's limit, also the forwarding task's batch size per stream.
const BATCH: usize = 500;
const ATTEMPTS: u32 = 6;
/// Basic Ingest: a message on `$aws/rules/<ruleName>[/...]` goes to that rule only.
pub const BASIC_INGEST_PREFIX: &str = "$aws/rules/";

/// Records for one stream of one account.
struct Routed {
    account: String,
    stream: String,
    records: Vec<Vec<u8>>,
}

pub(crate) struct Rules {
    /// Each account's rules, sorted by name.
    by_account: RwLock<HashMap<String, Vec<Arc<RuleDoc>>>>,
    /// Enabled rules over all accounts: the publish path's only cost when it is zero.
    enabled: AtomicUsize,
    queue: mpsc::Sender<Routed>,
    receiver: Mutex<Option<mpsc::Receiver<Routed>>>,
}

impl Rules {
    pub(crate) fn new() -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE);
        Self {
            by_account: RwLock::new(HashMap::new()),
            enabled: AtomicUsize::new(0),
            queue,
            receiver: Mutex::new(Some(receiver)),
        }
    }

    fn recount(&self, map: &HashMap<String, Vec<Arc<RuleDoc>>>) {
        let n = map.values().flatten().filter(|r| !r.rule_disabled).count();
        self.enabled.store(n, Ordering::Release);
    }

    /// Replaces (or with `None` removes) one rule of the in-memory index.
    pub(crate) fn set(&self, account: &str, name: &str, rule: Option<RuleDoc>) {
        let Ok(mut map) = self.by_account.write() else {
            return;
        };
        let list = map.entry(account.to_string()).or_default();
        list.retain(|r| r.name != name);
        if let Some(rule) = rule {
            let at = list.partition_point(|r| r.name.as_str() < name);
            list.insert(at, Arc::new(rule));
        }
        self.recount(&map);
    }

    pub(crate) fn get(&self, account: &str, name: &str) -> Option<Arc<RuleDoc>> {
        let map = self.by_account.read().ok()?;
        map.get(account)?.iter().find(|r| r.name == name).cloned()
    }

    pub(crate) fn list(&self, account: &str) -> Vec<Arc<RuleDoc>> {
        self.by_account
            .read()
            .ok()
            .and_then(|m| m.get(account).cloned())
            .unwrap_or_default()
    }
}

/// The records one target makes of a message: the payload (or, in batch mode, each
/// element of a JSON array payload), each followed by the separator.
fn records_for(target: &FirehoseTarget, payload: &[u8]) -> Vec<Vec<u8>> {
    let with_separator = |mut bytes: Vec<u8>| {
        if let Some(s) = &target.separator {
            bytes.extend_from_slice(s.as_bytes());
        }
        bytes
    };
    if target.batch_mode
        && payload.first() == Some(&b'[')
        && let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(payload)
    {
        return items
            .iter()
            .take(BATCH)
            .map(|item| with_separator(item.to_string().into_bytes()))
            .collect();
    }
    vec![with_separator(payload.to_vec())]
}

fn failed(account: &str, stream: &str, records: u64, why: &str) {
    tracing::warn!(
        account,
        stream,
        records,
        why,
        "Topic rule records not delivered."
    );
    let labels = [
        ("account", account.to_string()),
        ("stream", stream.to_string()),
    ];
    metrics::counter!("fleetward_export_rule_records_failed_total", &labels).increment(records);
}

impl Export {
    /// A message published in `account` on `topic` (by a device or by Fleetward itself):
    /// queued for the delivery streams of every enabled rule whose filter matches.
    pub fn rule_message(&self, account: &str, topic: &str, payload: &[u8]) {
        let rules = self.rules();
        if rules.enabled.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut routed = Vec::new();
        if let Ok(map) = rules.by_account.read()
            && let Some(list) = map.get(account)
        {
            for rule in list
                .iter()
                .filter(|r| !r.rule_disabled && r.triggered_by(topic))
            {
                for target in &rule.targets {
                    routed.push(Routed {
                        account: account.to_string(),
                        stream: target.delivery_stream_name.clone(),
                        records: records_for(target, payload),
                    });
                }
            }
        }
        for r in routed {
            self.queue(r);
        }
    }

    /// Queues records of an internal source (hub finding events) for a stream.
    pub(crate) fn queue_records(&self, account: &str, stream: &str, records: Vec<Vec<u8>>) {
        self.queue(Routed {
            account: account.to_string(),
            stream: stream.to_string(),
            records,
        });
    }

    fn queue(&self, r: Routed) {
        if let Err(e) = self.rules().queue.try_send(r) {
            let r = match e {
                mpsc::error::TrySendError::Full(r) | mpsc::error::TrySendError::Closed(r) => r,
            };
            failed(&r.account, &r.stream, r.records.len() as u64, "queue full");
        }
    }

    /// Starts the task that forwards rule records into the streams (once, at open).
    pub(crate) fn start_rule_forwarding(self: &Arc<Self>) {
        let receiver = self.rules().receiver.lock().ok().and_then(|mut r| r.take());
        if let Some(receiver) = receiver {
            tokio::spawn(forward(Arc::downgrade(self), receiver));
        }
    }
}

/// Drains the queue in batches, grouped per (account, stream) in arrival order.
async fn forward(export: std::sync::Weak<Export>, mut receiver: mpsc::Receiver<Routed>) {
    let mut pending: Vec<Routed> = Vec::new();
    while receiver.recv_many(&mut pending, BATCH).await > 0 {
        let Some(export) = export.upgrade() else {
            return;
        };
        let mut groups: Vec<Routed> = Vec::new();
        for r in pending.drain(..) {
            match groups
                .iter_mut()
                .find(|g| g.account == r.account && g.stream == r.stream)
            {
                Some(g) => g.records.extend(r.records),
                None => groups.push(r),
            }
        }
        for g in groups {
            for chunk in g.records.chunks(BATCH) {
                put_with_retries(&export, &g.account, &g.stream, chunk.to_vec()).await;
            }
        }
    }
}

async fn put_with_retries(export: &Export, account: &str, stream: &str, records: Vec<Vec<u8>>) {
    let count = records.len() as u64;
    let mut delay = Duration::from_millis(100);
    for attempt in 1..=ATTEMPTS {
        match export.put_internal(account, stream, records.clone()).await {
            Ok(()) => return,
            Err(ExportError::ServiceUnavailable(_)) if attempt < ATTEMPTS => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                failed(account, stream, count, &e.to_string());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(separator: Option<&str>, batch_mode: bool) -> FirehoseTarget {
        FirehoseTarget {
            role_arn: "arn:aws:iam::0:role/r".into(),
            delivery_stream_name: "s".into(),
            separator: separator.map(str::to_string),
            batch_mode,
        }
    }

    #[test]
    fn records_follow_separator_and_batch_mode() {
        assert_eq!(
            records_for(&target(None, false), b"{}"),
            vec![b"{}".to_vec()]
        );
        assert_eq!(
            records_for(&target(Some("\n"), false), b"[1,2]"),
            vec![b"[1,2]\n".to_vec()]
        );
        assert_eq!(
            records_for(&target(Some(","), true), br#"[1,{"a":2}]"#),
            vec![b"1,".to_vec(), br#"{"a":2},"#.to_vec()]
        );
        // Not an array: one record, as is.
        assert_eq!(
            records_for(&target(None, true), b"plain"),
            vec![b"plain".to_vec()]
        );
    }
}
