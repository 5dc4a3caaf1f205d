//! One batch from buffer to destination: transform, send with retries inside the retry
//! duration (the clock starts at the first failure, spec A1), and write what still failed
//! to the backup directory. The batch is done either way; only then may the checkpoint
//! pass it.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::DeliveryContext;
use super::backoff::Backoff;
use crate::backup;
use crate::config::Destination;
use crate::dest::{self, Failure};
use crate::log::LogRecord;
use crate::metrics;
use crate::stream::StreamDoc;
use crate::transform::{self, Out};

pub struct BatchDone {
    /// Sequence number after the batch's last record.
    pub end_seq: u64,
    /// Buffer bytes the batch frees.
    pub frame_bytes: u64,
    pub delivered: u64,
}

pub async fn deliver(
    ctx: Arc<DeliveryContext>,
    account: String,
    doc: Arc<StreamDoc>,
    records: Vec<LogRecord>,
    channel: String,
) -> BatchDone {
    let end_seq = records.last().map_or(0, |r| r.seq + 1);
    let frame_bytes = records.iter().map(LogRecord::frame_len).sum();
    let transformed = transform::apply(&ctx, &doc, records).await;
    if transformed.dropped > 0 {
        metrics::dropped(&account, &doc.name, transformed.dropped);
    }
    if !transformed.failed.is_empty() {
        backup::processing_failed(&ctx, &account, &doc, &transformed.failed).await;
    }
    let out = transformed.ok;
    if out.is_empty() {
        return BatchDone {
            end_seq,
            frame_bytes,
            delivered: 0,
        };
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let delivered = match send_with_retries(&ctx, &account, &doc, &out, &channel, &request_id).await
    {
        Ok(_) => out.len() as u64,
        Err((failure, attempts)) => {
            tracing::warn!(stream = %doc.name, code = %failure.code, message = %failure.message, records = out.len(), "Delivery failed; records go to the backup directory.");
            backup::delivery_failed(&ctx, &account, &doc, &out, &failure, attempts).await;
            0
        }
    };
    if backs_up_everything(&doc.destination) {
        backup::all_records(&ctx, &account, &doc, &out).await;
    }
    BatchDone {
        end_seq,
        frame_bytes,
        delivered,
    }
}

fn backs_up_everything(destination: &Destination) -> bool {
    match destination {
        Destination::Splunk(s) => s.backup_mode == "AllEvents",
        Destination::HttpEndpoint(h) => h.backup_mode == "AllData",
    }
}

/// Attempts until success, a permanent failure, or the retry duration is spent; returns the
/// attempts made.
async fn send_with_retries(
    ctx: &DeliveryContext,
    account: &str,
    doc: &StreamDoc,
    out: &[Out],
    channel: &str,
    request_id: &str,
) -> Result<u32, (Failure, u32)> {
    let retry = Duration::from_secs(doc.destination.retry_secs() as u64);
    let mut deadline: Option<Instant> = None;
    let mut backoff = Backoff::new();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let failure = match dest::attempt(ctx, doc, out, channel, request_id).await {
            Ok(()) => return Ok(attempts),
            Err(f) => f,
        };
        if !failure.retryable {
            return Err((failure, attempts));
        }
        let now = Instant::now();
        let deadline = *deadline.get_or_insert(now + retry);
        if now >= deadline {
            return Err((failure, attempts));
        }
        metrics::retry(account, &doc.name, &failure.code);
        tracing::debug!(stream = %doc.name, code = %failure.code, attempts, "Delivery attempt failed; retrying.");
        tokio::time::sleep(backoff.next_delay().min(deadline - now)).await;
    }
}
