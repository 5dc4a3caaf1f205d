//! The gateway's durable records: connection history (audit reads it) and metric datapoints
//! (ListMetricValues reads them). Both are written by a background task in batches, so
//! recording never waits on the database; a batch is committed within [`FLUSH_EVERY`] of the
//! event. The queue to that task is bounded: when the store falls behind, records beyond
//! [`QUEUE`] are dropped and counted instead of piling up in memory.

use std::sync::Arc;
use std::time::Duration;

use fleetward_store::{ConnectionEvent, Datapoint, Store};
use tokio::sync::mpsc;

/// How long a recorded event may wait for its batch.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
const MAX_BATCH: usize = 1_000;
/// Records waiting for the writer at most (~100 MB of datapoints).
const QUEUE: usize = 262_144;

enum Record {
    Event(ConnectionEvent),
    Datapoint(Datapoint),
}

/// The handle connections record through.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Record>,
    /// Detect's live feed: sees every datapoint as it is recorded.
    pub(crate) feed: crate::detect_feed::FeedSlot,
}

impl Recorder {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_forever(store, rx));
        Self {
            tx,
            feed: Default::default(),
        }
    }

    pub fn event(&self, event: ConnectionEvent) {
        self.queue(Record::Event(event));
    }

    /// Hands the datapoint to detect and queues it for the store.
    pub fn datapoint(&self, point: Datapoint) {
        self.evaluate_only(&point);
        self.queue(Record::Datapoint(point));
    }

    /// Hands the datapoint to detect only (not kept in the history).
    pub fn evaluate_only(&self, point: &Datapoint) {
        if let Some(feed) = self.feed.get() {
            feed.datapoint(point);
        }
    }

    fn queue(&self, record: Record) {
        if let Err(mpsc::error::TrySendError::Full(record)) = self.tx.try_send(record) {
            let kind = match record {
                Record::Event(_) => "connection_event",
                Record::Datapoint(_) => "datapoint",
            };
            metrics::counter!("fleetward_gateway_records_dropped_total", "kind" => kind)
                .increment(1);
        }
    }
}

async fn write_forever(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Record>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(record)) => batch.push(record),
                _ => break,
            }
        }
        let mut events = Vec::new();
        let mut points = Vec::new();
        for record in batch {
            match record {
                Record::Event(e) => events.push(e),
                Record::Datapoint(p) => points.push(p),
            }
        }
        if let Err(e) = store.append_connection_events(&events).await {
            tracing::error!(error = %e, lost = events.len(), "Cannot record connection events.");
        }
        if let Err(e) = store.append_datapoints(&points).await {
            tracing::error!(error = %e, lost = points.len(), "Cannot record metric datapoints.");
        }
    }
}
