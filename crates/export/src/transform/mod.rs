//! Record processing before delivery: the stream's transforms in order. A record a transform
//! drops is done; one it fails goes to `processing-failed/` in the backup directory.

mod hec_event;
mod http;

use crate::config::TransformSpec;
use crate::deliver::DeliveryContext;
use crate::log::LogRecord;
use crate::stream::{StreamDoc, record_id};

pub use hec_event::to_hec_event;

/// A record on its way out: the original bytes (for backups) and what transforms made.
#[derive(Debug, Clone)]
pub struct Out {
    pub arrival_ms: i64,
    pub record_id: String,
    pub raw: Vec<u8>,
    pub transformed: Option<Vec<u8>>,
}

impl Out {
    pub fn data(&self) -> &[u8] {
        self.transformed.as_deref().unwrap_or(&self.raw)
    }
}

#[derive(Debug)]
pub struct FailedRecord {
    pub out: Out,
    pub code: String,
    pub message: String,
    /// The transform that failed it (`lambdaArn` of the error record).
    pub processor: String,
}

pub struct Transformed {
    pub ok: Vec<Out>,
    pub dropped: u64,
    pub failed: Vec<FailedRecord>,
}

pub async fn apply(ctx: &DeliveryContext, doc: &StreamDoc, records: Vec<LogRecord>) -> Transformed {
    let mut ok: Vec<Out> = records
        .into_iter()
        .map(|r| Out {
            arrival_ms: r.arrival_ms,
            record_id: record_id(&doc.buffer_id, r.seq),
            raw: r.data,
            transformed: None,
        })
        .collect();
    let mut dropped = 0;
    let mut failed = Vec::new();
    for spec in doc.destination.processing().active() {
        match spec {
            TransformSpec::HecEvent(template) => {
                for out in &mut ok {
                    out.transformed = Some(to_hec_event(out.data(), template));
                }
            }
            TransformSpec::AppendDelimiter => {
                for out in &mut ok {
                    let mut data = out.data().to_vec();
                    data.push(b'\n');
                    out.transformed = Some(data);
                }
            }
            TransformSpec::Http { url, retries } => {
                let result = http::invoke(ctx, doc, url, *retries, std::mem::take(&mut ok)).await;
                ok = result.ok;
                dropped += result.dropped;
                failed.extend(result.failed);
            }
        }
    }
    Transformed {
        ok,
        dropped,
        failed,
    }
}
