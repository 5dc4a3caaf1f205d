//! Failed records, in Firehose's error-record format (spec A1), one JSON document per line,
//! in `<data>/export/backup/<account>/<stream>/<prefix>/YYYY/MM/dd/HH/
//! <stream>-<version>-YYYY-MM-dd-HH-MM-SS-<uuid>` (the S3 key layout, on local disk instead of
//! the S3 bucket). The file is fsynced before the batch counts as done; if it cannot be
//! written the stream waits and tries again, as Firehose pauses a stream whose backup fails.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::deliver::DeliveryContext;
use crate::dest::{Failure, failed_prefix};
use crate::metrics;
use crate::stream::StreamDoc;
use crate::transform::{FailedRecord, Out};

const RETRY_EVERY: Duration = Duration::from_secs(5);

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn object_path(ctx: &DeliveryContext, account: &str, doc: &StreamDoc, prefix: &str) -> PathBuf {
    let now =
        time::OffsetDateTime::from_unix_timestamp_nanos(ctx.clock.now_ms() as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (y, mo, d, h, mi, s) = (
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
    );
    ctx.backup_root
        .join(account)
        .join(&doc.name)
        .join(prefix)
        .join(format!("{y:04}/{mo:02}/{d:02}/{h:02}"))
        .join(format!(
            "{}-{}-{y:04}-{mo:02}-{d:02}-{h:02}-{mi:02}-{s:02}-{}",
            doc.name,
            doc.version_id,
            uuid::Uuid::new_v4()
        ))
}

/// Writes `content` durably, retrying until it succeeds.
async fn write_durably(path: PathBuf, content: Vec<u8>) {
    loop {
        let (p, c) = (path.clone(), content.clone());
        let result = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let dir = p.parent().map(PathBuf::from).unwrap_or_default();
            std::fs::create_dir_all(&dir)?;
            let mut file = std::fs::File::create(&p)?;
            file.write_all(&c)?;
            file.sync_all()?;
            std::fs::File::open(&dir)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "Cannot write failed records to the backup directory; the stream waits.");
                tokio::time::sleep(RETRY_EVERY).await;
            }
        }
    }
}

fn lines(records: impl Iterator<Item = Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.extend_from_slice(r.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

pub async fn delivery_failed(
    ctx: &DeliveryContext,
    account: &str,
    doc: &StreamDoc,
    out: &[Out],
    failure: &Failure,
    attempts: u32,
) {
    let now = ctx.clock.now_ms();
    let http = failed_prefix(&doc.destination) == "http-endpoint-failed";
    let content = lines(out.iter().enumerate().map(|(i, o)| {
        let mut r = json!({
            "attemptsMade": attempts,
            "arrivalTimestamp": o.arrival_ms,
            "errorCode": failure.code,
            "errorMessage": failure.message,
            "attemptEndingTimestamp": now,
            "rawData": b64(&o.raw),
            "EventId": o.record_id,
        });
        if http {
            r["subsequenceNumber"] = json!(i);
            r["dataId"] = json!(o.record_id);
        }
        r
    }));
    write_durably(
        object_path(ctx, account, doc, failed_prefix(&doc.destination)),
        content,
    )
    .await;
    metrics::backed_up(account, &doc.name, &failure.code, out.len() as u64);
}

pub async fn processing_failed(
    ctx: &DeliveryContext,
    account: &str,
    doc: &StreamDoc,
    failed: &[FailedRecord],
) {
    let now = ctx.clock.now_ms();
    let content = lines(failed.iter().map(|f| {
        json!({
            "attemptsMade": 1,
            "arrivalTimestamp": f.out.arrival_ms,
            "errorCode": f.code,
            "errorMessage": f.message,
            "attemptEndingTimestamp": now,
            "rawData": b64(&f.out.raw),
            "lambdaArn": f.processor,
        })
    }));
    write_durably(object_path(ctx, account, doc, "processing-failed"), content).await;
    for f in failed {
        metrics::backed_up(account, &doc.name, &f.code, 1);
    }
}

/// `AllEvents` / `AllData` backup mode: every source record, as it arrived.
pub async fn all_records(ctx: &DeliveryContext, account: &str, doc: &StreamDoc, out: &[Out]) {
    let mut content = Vec::new();
    for o in out {
        content.extend_from_slice(&o.raw);
    }
    write_durably(object_path(ctx, account, doc, "all"), content).await;
}
