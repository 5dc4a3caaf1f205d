//! The delivery worker of a stream: reads its buffer forward, cuts batches by the buffering
//! hints (size or age, whichever first), delivers up to `max_in_flight` batches at once, and
//! moves the checkpoint over batches in order once each is delivered or backed up.

mod backoff;
mod batch;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fleetward_model::Clock;
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{ExportError, ExportResult};
use crate::log::{LogRecord, Reader};
use crate::metrics;
use crate::stream::{Stream, StreamDoc};

pub use batch::BatchDone;

/// What every worker shares.
pub struct DeliveryContext {
    pub http: reqwest::Client,
    pub clock: Arc<dyn Clock>,
    pub region: String,
    pub backup_root: PathBuf,
    pub max_in_flight: usize,
    pub ack_poll: Duration,
}

impl DeliveryContext {
    pub fn new(
        clock: Arc<dyn Clock>,
        region: &str,
        backup_root: PathBuf,
        max_in_flight: usize,
        ack_poll_ms: u64,
    ) -> ExportResult<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(32)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ExportError::Internal(e.to_string()))?;
        Ok(Self {
            http,
            clock,
            region: region.to_string(),
            backup_root,
            max_in_flight: max_in_flight.max(1),
            ack_poll: Duration::from_millis(ack_poll_ms.max(1)),
        })
    }
}

/// Starts the worker; it restarts itself from the checkpoint if a batch task dies.
pub fn spawn(
    ctx: Arc<DeliveryContext>,
    stream: Arc<Stream>,
    config: watch::Receiver<Arc<StreamDoc>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let reason = run(&ctx, &stream, config.clone()).await;
            tracing::error!(stream = %stream.snapshot().name, %reason, "Export worker restarting from its checkpoint.");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Records read and waiting to form a batch.
struct Pending {
    records: Vec<LogRecord>,
    bytes: usize,
    since: Option<Instant>,
}

/// Reads on a blocking thread (file I/O); an error restarts the worker from the checkpoint.
async fn read_more(
    reader: Reader,
    committed: u64,
    max_bytes: usize,
    max_records: usize,
) -> Result<(Reader, Vec<LogRecord>), String> {
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let result = reader.read(committed, max_bytes, max_records);
        result.map(|records| (reader, records))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}

/// Runs until something forces a restart; returns why.
async fn run(
    ctx: &Arc<DeliveryContext>,
    stream: &Arc<Stream>,
    mut config: watch::Receiver<Arc<StreamDoc>>,
) -> String {
    let mut reader = Some(stream.log.reader());
    let mut pending = Pending {
        records: Vec::new(),
        bytes: 0,
        since: None,
    };
    let mut in_flight: FuturesOrdered<JoinHandle<BatchDone>> = FuturesOrdered::new();
    // The HEC channel of this worker: acknowledgement ids are per channel.
    let channel = uuid::Uuid::new_v4().to_string();
    let account = stream.account_id.clone();
    loop {
        let doc = config.borrow_and_update().clone();
        let hints = doc.destination.hints();
        let size = hints.size_bytes();
        let interval = Duration::from_secs(hints.interval_secs as u64);
        let max_records = doc.destination.max_records();
        let committed = stream.log.committed();
        let Some(r) = reader.take() else {
            return "buffer reader lost".into();
        };
        if r.next_seq() < committed && pending.bytes < size && pending.records.len() < max_records {
            let room = max_records - pending.records.len();
            match read_more(r, committed, size - pending.bytes, room).await {
                Ok((r, records)) => {
                    reader = Some(r);
                    if pending.since.is_none() && !records.is_empty() {
                        pending.since = Some(Instant::now());
                    }
                    pending.bytes += records.iter().map(|r| r.data.len()).sum::<usize>();
                    pending.records.extend(records);
                }
                Err(e) => return format!("buffer read failed: {e}"),
            }
        } else {
            reader = Some(r);
        }
        let full = pending.bytes >= size || pending.records.len() >= max_records;
        let due = pending.since.is_some_and(|t| t.elapsed() >= interval);
        if !pending.records.is_empty() && (full || due) && in_flight.len() < ctx.max_in_flight {
            let records = std::mem::take(&mut pending.records);
            pending.bytes = 0;
            pending.since = None;
            in_flight.push_back(tokio::spawn(batch::deliver(
                ctx.clone(),
                account.clone(),
                doc.clone(),
                records,
                channel.clone(),
            )));
            continue;
        }
        let next_seq = reader.as_ref().map_or(u64::MAX, Reader::next_seq);
        let can_read = !full;
        let deadline = pending.since.map(|t| t + interval);
        let slot_free = in_flight.len() < ctx.max_in_flight;
        tokio::select! {
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                let mut finished = vec![done];
                while let Some(Some(more)) = futures::FutureExt::now_or_never(in_flight.next()) {
                    finished.push(more);
                }
                let mut done_batches = VecDeque::new();
                for f in finished {
                    match f {
                        Ok(d) => done_batches.push_back(d),
                        Err(e) => return format!("a batch task failed: {e}"),
                    }
                }
                if let Err(e) = checkpoint(stream, &account, &doc.name, done_batches).await {
                    return format!("checkpoint failed: {e}");
                }
            }
            _ = stream.log.wait_beyond(next_seq), if can_read && next_seq >= committed => {}
            // Only while a batch could be launched: a due batch waiting for an in-flight slot
            // must not spin.
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() && !full && slot_free => {}
            changed = config.changed() => {
                if changed.is_err() {
                    return "stream closed".into();
                }
            }
        }
    }
}

async fn checkpoint(
    stream: &Arc<Stream>,
    account: &str,
    name: &str,
    done: VecDeque<BatchDone>,
) -> std::io::Result<()> {
    let Some(last) = done.back() else {
        return Ok(());
    };
    let end = last.end_seq;
    let bytes: u64 = done.iter().map(|d| d.frame_bytes).sum();
    let delivered: u64 = done.iter().map(|d| d.delivered).sum();
    let log = stream.log.clone();
    tokio::task::spawn_blocking(move || log.checkpoint(end, bytes))
        .await
        .map_err(std::io::Error::other)??;
    metrics::delivered(account, name, delivered);
    metrics::buffer_bytes(account, name, stream.log.pending_bytes());
    Ok(())
}
