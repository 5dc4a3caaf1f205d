//! PutRecord and PutRecordBatch: Firehose's limits (1–500 records, each at most
//! 1,024,000 bytes, at most 4 MiB per batch), and the records on disk before the answer.
//! A full buffer refuses with ServiceUnavailableException: the whole call when nothing fits,
//! else the records that did not fit, as per-record failures.

use std::borrow::Cow;

use base64::Engine;
use fleetward_model::Caller;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::fields::Fields;
use crate::error::{ExportError, ExportResult};
use crate::metrics;
use crate::service::Export;
use crate::stream::Stream;

pub const MAX_RECORD_BYTES: usize = 1_024_000;
pub const MAX_BATCH_RECORDS: usize = 500;
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
const SLOW_DOWN: &str = "Slow down.";

fn decode_record(record: &Fields<'_>, index: Option<usize>) -> ExportResult<Vec<u8>> {
    let data = record.required_string("Data")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| ExportError::invalid("Record Data must be base64-encoded."))?;
    if bytes.len() > MAX_RECORD_BYTES {
        let at = match index {
            Some(i) => format!("records.{}.member.data", i + 1),
            None => "record.data".to_string(),
        };
        return Err(ExportError::invalid(format!(
            "1 validation error detected: Value at '{at}' failed to satisfy constraint: Member must have length less than or equal to {MAX_RECORD_BYTES}"
        )));
    }
    Ok(bytes)
}

/// PutRecordBatch as typed, borrowed input: the hot path parses the ~700 KB body without
/// building a JSON tree (one map and one string per record).
#[derive(Deserialize)]
struct FastBatch<'a> {
    #[serde(rename = "DeliveryStreamName", borrow)]
    name: Cow<'a, str>,
    #[serde(rename = "Records", borrow)]
    records: Vec<FastRecord<'a>>,
}

#[derive(Deserialize)]
struct FastRecord<'a> {
    #[serde(rename = "Data", borrow)]
    data: Cow<'a, str>,
}

/// The batch's stream name and decoded records, when the body is a well-formed batch within
/// the limits; `None` sends the request down the general path, which words every error.
fn fast_batch(body: &[u8]) -> Option<(String, Vec<Vec<u8>>)> {
    let batch: FastBatch<'_> = serde_json::from_slice(body).ok()?;
    if !(1..=MAX_BATCH_RECORDS).contains(&batch.records.len()) {
        return None;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut records = Vec::with_capacity(batch.records.len());
    let mut total = 0;
    for r in &batch.records {
        let bytes = b64.decode(r.data.as_bytes()).ok()?;
        if bytes.len() > MAX_RECORD_BYTES {
            return None;
        }
        total += bytes.len();
        records.push(bytes);
    }
    (total <= MAX_BATCH_BYTES).then(|| (batch.name.into_owned(), records))
}

impl Export {
    /// Appends records to a stream's buffer; returns the sequence numbers of the accepted
    /// leading records (fewer than given when the buffer is full).
    pub(crate) async fn append(
        &self,
        stream: &Stream,
        records: Vec<Vec<u8>>,
    ) -> ExportResult<Vec<u64>> {
        let lens: Vec<usize> = records.iter().map(Vec::len).collect();
        let accepted = stream.log.reserve(&lens);
        let name = stream.snapshot().name;
        if accepted < records.len() {
            metrics::rejected(&stream.account_id, &name, (records.len() - accepted) as u64);
        }
        if accepted == 0 {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let batch: Vec<(i64, Vec<u8>)> = records
            .into_iter()
            .take(accepted)
            .map(|r| (now, r))
            .collect();
        let bytes: u64 = lens[..accepted].iter().map(|&l| l as u64).sum();
        match stream.log.append(batch).await {
            Ok(first) => {
                metrics::accepted(&stream.account_id, &name, accepted as u64, bytes);
                Ok((first..first + accepted as u64).collect())
            }
            Err(e) => {
                stream.log.release(&lens[..accepted]);
                Err(ExportError::Internal(format!(
                    "export buffer append failed: {e}"
                )))
            }
        }
    }

    /// Internal sources (topic rules, notification topics, hub events): records go through
    /// the same buffer; a full buffer is an error the source retries.
    pub async fn put_internal(
        &self,
        account: &str,
        name: &str,
        records: Vec<Vec<u8>>,
    ) -> ExportResult<()> {
        let stream = self.get(account, name)?;
        let wanted = records.len();
        let accepted = self.append(&stream, records).await?;
        if accepted.len() < wanted {
            return Err(ExportError::ServiceUnavailable(SLOW_DOWN.into()));
        }
        Ok(())
    }

    pub async fn handle_put_record(&self, caller: &Caller, input: &Value) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        let data = decode_record(&f.required_object("Record")?, None)?;
        let stream = self.get(&caller.account_id, name)?;
        let seqs = self.append(&stream, vec![data]).await?;
        let Some(seq) = seqs.first() else {
            return Err(ExportError::ServiceUnavailable(SLOW_DOWN.into()));
        };
        Ok(json!({"RecordId": stream.snapshot().record_id(*seq), "Encrypted": false}))
    }

    pub async fn handle_put_record_batch(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> ExportResult<Value> {
        let f = Fields::root(input)?;
        let name = f.required_string("DeliveryStreamName")?;
        if !f.has("Records") {
            return Err(f.missing("Records"));
        }
        let entries = f.list("Records", 1, MAX_BATCH_RECORDS)?;
        let mut records = Vec::with_capacity(entries.len());
        let mut total = 0;
        for (i, entry) in entries.iter().enumerate() {
            let data = decode_record(entry, Some(i))?;
            total += data.len();
            records.push(data);
        }
        if total > MAX_BATCH_BYTES {
            return Err(ExportError::invalid(format!(
                "Records size exceeds 4 MiB limit: {total} bytes."
            )));
        }
        self.put_batch(caller, name, records).await
    }

    /// PutRecordBatch straight from the request body, if it is an ordinary well-formed batch
    /// (`None`: parse it as JSON and call [`Export::handle_put_record_batch`]).
    pub async fn try_put_record_batch_body(
        &self,
        caller: &Caller,
        body: &[u8],
    ) -> Option<ExportResult<Value>> {
        let (name, records) = fast_batch(body)?;
        Some(self.put_batch(caller, &name, records).await)
    }

    async fn put_batch(
        &self,
        caller: &Caller,
        name: &str,
        records: Vec<Vec<u8>>,
    ) -> ExportResult<Value> {
        let stream = self.get(&caller.account_id, name)?;
        let wanted = records.len();
        let seqs = self.append(&stream, records).await?;
        if seqs.is_empty() {
            return Err(ExportError::ServiceUnavailable(SLOW_DOWN.into()));
        }
        let doc = stream.snapshot();
        let mut responses: Vec<Value> = seqs
            .iter()
            .map(|s| json!({"RecordId": doc.record_id(*s)}))
            .collect();
        let failed = wanted - seqs.len();
        responses.extend((0..failed).map(
            |_| json!({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": SLOW_DOWN}),
        ));
        Ok(json!({"FailedPutCount": failed, "Encrypted": false, "RequestResponses": responses}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_takes_only_ordinary_batches() {
        let (name, records) =
            fast_batch(br#"{"DeliveryStreamName":"s","Records":[{"Data":"aGk="},{"Data":""}]}"#)
                .unwrap();
        assert_eq!(
            (name.as_str(), records),
            ("s", vec![b"hi".to_vec(), Vec::new()])
        );
        // Escapes in strings are fine (borrowed or owned).
        let (name, _) =
            fast_batch(br#"{"DeliveryStreamName":"s1","Records":[{"Data":"aGk\/"}]}"#).unwrap();
        assert_eq!(name, "s1");
        for body in [
            &br#"{"DeliveryStreamName":"s","Records":[]}"#[..],
            br#"{"DeliveryStreamName":"s"}"#,
            br#"{"Records":[{"Data":"aGk="}]}"#,
            br#"{"DeliveryStreamName":"s","Records":[{"Data":"not base64!"}]}"#,
            br#"{"DeliveryStreamName":"s","Records":[{"Data":1}]}"#,
            br#"{"DeliveryStreamName":"s","Records":[{}]}"#,
            b"not json",
        ] {
            assert!(
                fast_batch(body).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; MAX_RECORD_BYTES + 1]);
        let body = format!(r#"{{"DeliveryStreamName":"s","Records":[{{"Data":"{big}"}}]}}"#);
        assert!(fast_batch(body.as_bytes()).is_none());
    }
}
