//! How the registry is persisted: one store document per record, written through a group
//! committer, and read back into memory at start.
//!
//! Every change is applied to memory under the registry's lock and queued to the
//! [`Writer`] in the same critical section, so the store sees changes in the order memory
//! did. The caller then waits for the commit before answering: acknowledged changes are
//! durable. Many concurrent changes share one transaction, which is what makes thousands of
//! CreateThing calls a second possible on SQLite.

use std::sync::Arc;

use fleetward_store::documents;
use fleetward_store::{Document, DocumentWrite, Store};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::error::{RegistryError, RegistryResult};

pub const THING: &str = "iot.thing";
pub const THING_TYPE: &str = "iot.thing-type";
pub const THING_GROUP: &str = "iot.thing-group";
pub const CERT: &str = "iot.cert";
pub const CERT_PEM: &str = "iot.cert-pem";
pub const CA_CERT: &str = "iot.ca-cert";
pub const POLICY: &str = "iot.policy";
/// Key `POLICY|TARGET` (a policy name never contains `|`).
pub const POLICY_TARGET: &str = "iot.policy-target";
pub const ROLE_ALIAS: &str = "iot.role-alias";
/// Keys `v1` and `v2`.
pub const LOGGING: &str = "iot.logging";
/// Key `TARGET_TYPE|TARGET_NAME`.
pub const LOG_LEVEL: &str = "iot.log-level";
/// Key `code`.
pub const REGISTRATION_CODE: &str = "iot.registration-code";
/// Key: the resource ARN.
pub const TAGS: &str = "iot.tags";

/// The store writes of one operation, in order.
pub struct Changes {
    account_id: String,
    now_ms: i64,
    pub writes: Vec<DocumentWrite>,
}

impl Changes {
    pub fn new(account_id: &str, now_ms: i64) -> Self {
        Self {
            account_id: account_id.to_string(),
            now_ms,
            writes: Vec::new(),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    pub fn put<T: Serialize>(&mut self, kind: &str, key: &str, record: &T) {
        let body = serde_json::to_string(record).expect("registry records serialise");
        self.put_raw(kind, key, body);
    }

    pub fn put_raw(&mut self, kind: &str, key: &str, body: String) {
        let write = documents::put(&self.account_id, kind, key, body, self.now_ms);
        self.writes.push(write);
    }

    pub fn delete(&mut self, kind: &str, key: &str) {
        self.writes
            .push(documents::delete(&self.account_id, kind, key));
    }
}

/// Most writes one store transaction takes.
const MAX_WRITES_PER_COMMIT: usize = 2_000;

struct Job {
    writes: Vec<DocumentWrite>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The group committer: one task that turns queued jobs into store transactions.
pub struct Writer {
    queue: mpsc::UnboundedSender<Job>,
}

/// A queued change; await it to know it is durable.
pub struct Pending(Option<oneshot::Receiver<Result<(), String>>>);

impl Pending {
    pub async fn wait(self) -> RegistryResult<()> {
        let Some(receiver) = self.0 else {
            return Ok(());
        };
        match receiver.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(detail)) => Err(RegistryError::Internal(detail)),
            Err(_) => Err(RegistryError::Internal(
                "the registry writer stopped".to_string(),
            )),
        }
    }
}

impl Writer {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run_writer(store, jobs));
        Self { queue }
    }

    /// Queues the writes; must be called under the registry lock (see the module comment).
    pub fn submit(&self, writes: Vec<DocumentWrite>) -> Pending {
        if writes.is_empty() {
            return Pending(None);
        }
        let (done, receiver) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = self.queue.send(Job { writes, done }) {
            let _ = job
                .done
                .send(Err("the registry writer stopped".to_string()));
        }
        Pending(Some(receiver))
    }
}

async fn run_writer(store: Arc<dyn Store>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        let mut count = batch[0].writes.len();
        while count < MAX_WRITES_PER_COMMIT {
            match jobs.try_recv() {
                Ok(job) => {
                    count += job.writes.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let writes: Vec<DocumentWrite> = batch
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.writes))
            .collect();
        let result = store
            .write_documents(&writes)
            .await
            .map_err(|e| e.to_string());
        metrics_commit(writes.len());
        for job in batch {
            let _ = job.done.send(result.clone());
        }
    }
}

fn metrics_commit(writes: usize) {
    tracing::trace!(writes, "registry commit");
}

/// Every document of one kind of one account, page by page, in key order.
pub async fn load_kind(
    store: &dyn Store,
    account_id: &str,
    kind: &str,
) -> RegistryResult<Vec<Document>> {
    const PAGE: usize = 5_000;
    Ok(documents::load_all(store, account_id, kind, PAGE).await?)
}

pub fn decode<T: serde::de::DeserializeOwned>(doc: &Document) -> RegistryResult<T> {
    serde_json::from_str(&doc.body).map_err(|e| {
        RegistryError::Internal(format!(
            "stored {} {:?} of account {} is unreadable: {e}",
            doc.kind, doc.key, doc.account_id
        ))
    })
}
