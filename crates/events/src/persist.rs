//! Writing through to the store: a group committer that turns every queued change into as
//! few transactions as possible, and the page-by-page loading used at start.
//!
//! Changes are queued while the service's state lock is held, so the store applies them in
//! the order memory did (an unsubscribe's delete can never be overtaken by an older put of
//! the same subscription). Callers that answer a client wait for the commit first; outbox
//! progress is queued without waiting.

use std::sync::Arc;

use fleetward_store::documents;
use fleetward_store::{Document, DocumentWrite, Store};
use tokio::sync::{mpsc, oneshot};

use crate::error::{SnsError, SnsResult};

/// Most writes one transaction takes; bigger backlogs commit in several.
const MAX_WRITES_PER_COMMIT: usize = 4_000;
const LOAD_PAGE: usize = 5_000;

struct Job {
    writes: Vec<DocumentWrite>,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

/// The group committer's queue.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::UnboundedSender<Job>,
}

/// A queued change: await it to know it is committed.
pub struct Pending(Option<oneshot::Receiver<Result<(), String>>>);

impl Pending {
    pub async fn wait(self) -> SnsResult<()> {
        let Some(receiver) = self.0 else {
            return Ok(());
        };
        match receiver.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(detail)) => Err(SnsError::Internal(detail)),
            Err(_) => Err(SnsError::Internal(
                "the notification writer stopped".to_string(),
            )),
        }
    }
}

impl Writer {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(run(store, jobs));
        Self { queue }
    }

    /// Queues writes whose commit the caller awaits.
    pub fn submit(&self, writes: Vec<DocumentWrite>) -> Pending {
        if writes.is_empty() {
            return Pending(None);
        }
        let (done, receiver) = oneshot::channel();
        let job = Job {
            writes,
            done: Some(done),
        };
        if let Err(mpsc::error::SendError(job)) = self.queue.send(job)
            && let Some(done) = job.done
        {
            let _ = done.send(Err("the notification writer stopped".to_string()));
        }
        Pending(Some(receiver))
    }

    /// Resolves once everything queued before it is committed (or failed).
    pub fn barrier(&self) -> Pending {
        let (done, receiver) = oneshot::channel();
        let job = Job {
            writes: Vec::new(),
            done: Some(done),
        };
        if let Err(mpsc::error::SendError(job)) = self.queue.send(job)
            && let Some(done) = job.done
        {
            let _ = done.send(Err("the notification writer stopped".to_string()));
        }
        Pending(Some(receiver))
    }

    /// Queues writes nobody waits for (outbox progress, delivery statistics).
    pub fn submit_later(&self, writes: Vec<DocumentWrite>) {
        if !writes.is_empty() {
            let _ = self.queue.send(Job { writes, done: None });
        }
    }
}

async fn run(store: Arc<dyn Store>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut count = first.writes.len();
        let mut batch = vec![first];
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
        let result = if writes.is_empty() {
            Ok(())
        } else {
            store
                .write_documents(&writes)
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, writes = writes.len(), "Cannot store notification state.");
        }
        metrics::counter!("fleetward_sns_store_commits_total").increment(1);
        for job in batch {
            if let Some(done) = job.done {
                let _ = done.send(result.clone());
            }
        }
    }
}

pub use fleetward_store::documents::{delete, put};

/// Every document of one kind of one account, in key order.
pub async fn load_all(store: &dyn Store, account: &str, kind: &str) -> SnsResult<Vec<Document>> {
    Ok(documents::load_all(store, account, kind, LOAD_PAGE).await?)
}

/// Decodes a stored record; an unreadable one is logged and skipped, not fatal.
pub fn decode<T: serde::de::DeserializeOwned>(doc: &Document) -> Option<T> {
    match serde_json::from_str(&doc.body) {
        Ok(record) => Some(record),
        Err(e) => {
            tracing::error!(kind = %doc.kind, key = %doc.key, account = %doc.account_id, error = %e,
                "Skipping an unreadable notification record.");
            None
        }
    }
}
