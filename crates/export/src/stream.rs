//! One delivery stream: its stored definition and its open buffer.

use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::config::Destination;
use crate::log::Log;

/// What is stored for a stream (store document kind `export.stream`, key = name).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StreamDoc {
    pub name: String,
    pub arn: String,
    /// Incremented by every UpdateDestination.
    pub version_id: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Names the buffer directory, so a stream re-created under the same name starts empty.
    pub buffer_id: String,
    pub destination: Destination,
    /// Sorted by key.
    pub tags: Vec<(String, String)>,
}

impl StreamDoc {
    pub fn describe(&self) -> Value {
        json!({
            "DeliveryStreamDescription": {
                "DeliveryStreamName": self.name,
                "DeliveryStreamARN": self.arn,
                "DeliveryStreamStatus": "ACTIVE",
                "DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"},
                "DeliveryStreamType": "DirectPut",
                "VersionId": self.version_id.to_string(),
                "CreateTimestamp": self.created_ms as f64 / 1000.0,
                "LastUpdateTimestamp": self.updated_ms as f64 / 1000.0,
                "Source": {"DirectPutSourceDescription": {"ThroughputHintInMBs": 1}},
                "Destinations": [self.destination.describe()],
                "HasMoreDestinations": false,
            }
        })
    }

    /// The record id PutRecord answers: unique per stream incarnation and position.
    pub fn record_id(&self, seq: u64) -> String {
        record_id(&self.buffer_id, seq)
    }
}

pub fn record_id(buffer_id: &str, seq: u64) -> String {
    format!("{seq:020}{buffer_id}")
}

pub struct Stream {
    pub account_id: String,
    pub doc: RwLock<StreamDoc>,
    pub log: Arc<Log>,
    /// The delivery worker; aborted when the stream is deleted or the service stops.
    pub worker: Mutex<Option<JoinHandle<()>>>,
    /// Tells the worker about a new configuration.
    pub config_tx: tokio::sync::watch::Sender<Arc<StreamDoc>>,
}

impl Stream {
    pub fn snapshot(&self) -> StreamDoc {
        match self.doc.read() {
            Ok(doc) => doc.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, doc: StreamDoc) {
        let shared = Arc::new(doc.clone());
        match self.doc.write() {
            Ok(mut d) => *d = doc,
            Err(poisoned) => *poisoned.into_inner() = doc,
        }
        self.config_tx.send_replace(shared);
    }

    pub fn stop(&self) {
        let handle = match self.worker.lock() {
            Ok(mut w) => w.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(handle) = handle {
            handle.abort();
        }
    }
}
