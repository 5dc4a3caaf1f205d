//! An external transform over HTTP with Firehose's record-transformation contract (spec A1):
//! POST `{invocationId, deliveryStreamArn, region, records: [{recordId,
//! approximateArrivalTimestamp, data}]}`, answer `{records: [{recordId, result, data}]}` with
//! result Ok, Dropped or ProcessingFailed. A failed invocation is retried `retries` times;
//! then, like a malformed answer, every record of the batch is ProcessingFailed.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::{FailedRecord, Out, Transformed};
use crate::deliver::DeliveryContext;
use crate::stream::StreamDoc;

const TIMEOUT: Duration = Duration::from_secs(60);

fn fail_all(ok: Vec<Out>, code: &str, message: &str, url: &str) -> Transformed {
    Transformed {
        ok: Vec::new(),
        dropped: 0,
        failed: ok
            .into_iter()
            .map(|out| FailedRecord {
                out,
                code: code.to_string(),
                message: message.to_string(),
                processor: url.to_string(),
            })
            .collect(),
    }
}

async fn call(ctx: &DeliveryContext, url: &str, body: &Value) -> Result<Value, (String, String)> {
    let response = ctx
        .http
        .post(url)
        .timeout(TIMEOUT)
        .json(body)
        .send()
        .await
        .map_err(|e| ("Lambda.InvokeError".to_string(), e.to_string()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ("Lambda.InvokeError".to_string(), e.to_string()))?;
    if !status.is_success() {
        return Err((
            "Lambda.FunctionError".to_string(),
            format!("transform answered {status}"),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ("Lambda.JsonProcessingException".to_string(), e.to_string()))
}

pub async fn invoke(
    ctx: &DeliveryContext,
    doc: &StreamDoc,
    url: &str,
    retries: u32,
    ok: Vec<Out>,
) -> Transformed {
    let b64 = base64::engine::general_purpose::STANDARD;
    let request = json!({
        "invocationId": uuid::Uuid::new_v4().to_string(),
        "deliveryStreamArn": doc.arn,
        "region": ctx.region,
        "records": ok.iter().map(|o| json!({
            "recordId": o.record_id,
            "approximateArrivalTimestamp": o.arrival_ms,
            "data": b64.encode(o.data()),
        })).collect::<Vec<_>>(),
    });
    let mut attempt = 0;
    let answer = loop {
        match call(ctx, url, &request).await {
            Ok(v) => break v,
            Err((code, message)) if attempt >= retries => {
                return fail_all(ok, &code, &message, url);
            }
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let Some(answers) = answer.get("records").and_then(Value::as_array) else {
        return fail_all(
            ok,
            "Lambda.JsonProcessingException",
            "the answer has no records list",
            url,
        );
    };
    let mut by_id: HashMap<&str, &Value> = HashMap::new();
    for a in answers {
        let Some(id) = a.get("recordId").and_then(Value::as_str) else {
            return fail_all(
                ok,
                "Lambda.MissingRecordId",
                "an answer record has no recordId",
                url,
            );
        };
        if by_id.insert(id, a).is_some() {
            return fail_all(
                ok,
                "Lambda.DuplicatedRecordId",
                &format!("recordId {id} answered twice"),
                url,
            );
        }
    }
    if ok.iter().any(|o| !by_id.contains_key(o.record_id.as_str())) || by_id.len() != ok.len() {
        return fail_all(
            ok,
            "Lambda.MissingRecordId",
            "the answer does not hold every recordId once",
            url,
        );
    }
    let mut result = Transformed {
        ok: Vec::new(),
        dropped: 0,
        failed: Vec::new(),
    };
    for mut out in ok {
        let a = by_id[out.record_id.as_str()];
        let fail = |out: Out, message: &str| FailedRecord {
            out,
            code: "Lambda.ProcessingFailed".to_string(),
            message: message.to_string(),
            processor: url.to_string(),
        };
        match a.get("result").and_then(Value::as_str) {
            Some("Ok") => match a.get("data").and_then(Value::as_str).map(|d| b64.decode(d)) {
                Some(Ok(data)) => {
                    out.transformed = Some(data);
                    result.ok.push(out);
                }
                _ => result
                    .failed
                    .push(fail(out, "result Ok without base64 data")),
            },
            Some("Dropped") => result.dropped += 1,
            Some("ProcessingFailed") => result
                .failed
                .push(fail(out, "the transform reported ProcessingFailed")),
            _ => result.failed.push(fail(
                out,
                "unknown result (expected Ok, Dropped or ProcessingFailed)",
            )),
        }
    }
    result
}
