//! The Firehose HTTP-endpoint delivery protocol v1.0 (spec A1): a POST of
//! `{"requestId", "timestamp", "records": [{"data": base64}]}` with the `X-Amz-Firehose-*`
//! headers, optionally gzipped; the request id stays the same across the batch's retries, so
//! receivers can drop duplicates. Only a 200 whose JSON answer echoes the request id counts
//! as delivered; 413 is permanent; every other answer, a timeout or a connection failure is
//! retried.

use std::io::Write;
use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::Failure;
use crate::config::{HttpConfig, HttpTarget};
use crate::deliver::DeliveryContext;
use crate::stream::StreamDoc;
use crate::transform::Out;

/// Firehose's fixed request timeout for HTTP endpoints.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);
/// Largest answer read.
const MAX_ANSWER: usize = 1024 * 1024;

pub fn body(request_id: &str, timestamp_ms: i64, out: &[Out]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = out
        .iter()
        .map(|o| json!({"data": b64.encode(o.data())}))
        .collect();
    serde_json::to_vec(
        &json!({"requestId": request_id, "timestamp": timestamp_ms, "records": records}),
    )
    .unwrap_or_default()
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data)?;
    encoder.finish()
}

pub async fn attempt(
    ctx: &DeliveryContext,
    doc: &StreamDoc,
    config: &HttpConfig,
    out: &[Out],
    request_id: &str,
) -> Result<(), Failure> {
    let HttpTarget::Http(url) = &config.target else {
        return Err(Failure::permanent(
            "HttpEndpoint.InvalidEndpoint",
            "not an http(s) endpoint",
        ));
    };
    let mut payload = body(request_id, ctx.clock.now_ms(), out);
    let mut request = ctx
        .http
        .post(url)
        .timeout(REQUEST_TIMEOUT)
        .header("Content-Type", "application/json")
        .header("X-Amz-Firehose-Protocol-Version", "1.0")
        .header("X-Amz-Firehose-Request-Id", request_id)
        .header("X-Amz-Firehose-Source-Arn", &doc.arn);
    if let Some(key) = &config.access_key {
        request = request.header("X-Amz-Firehose-Access-Key", key);
    }
    if !config.common_attributes.is_empty() {
        let attrs: Map<String, Value> = config
            .common_attributes
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        request = request.header(
            "X-Amz-Firehose-Common-Attributes",
            json!({ "commonAttributes": attrs }).to_string(),
        );
    }
    if config.gzip {
        payload = gzip(&payload)
            .map_err(|e| Failure::permanent("HttpEndpoint.InternalError", e.to_string()))?;
        request = request.header("Content-Encoding", "gzip");
    }
    let response = request.body(payload).send().await.map_err(|e| {
        if e.is_timeout() {
            Failure::retryable(
                "HttpEndpoint.RequestTimeout",
                format!("The endpoint did not answer in time: {e}"),
            )
        } else {
            Failure::retryable(
                "HttpEndpoint.ConnectionFailed",
                format!("Cannot reach the endpoint: {e}"),
            )
        }
    })?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Failure::retryable("HttpEndpoint.ConnectionFailed", e.to_string()))?;
    let answer: Option<Value> = (bytes.len() <= MAX_ANSWER)
        .then(|| serde_json::from_slice(&bytes).ok())
        .flatten();
    let message = answer
        .as_ref()
        .and_then(|a| a.get("errorMessage"))
        .and_then(Value::as_str)
        .map(|m| m.chars().take(8192).collect::<String>());
    match status {
        200 => {
            let echoed = answer
                .as_ref()
                .and_then(|a| a.get("requestId"))
                .and_then(Value::as_str);
            if echoed == Some(request_id)
                && answer
                    .as_ref()
                    .is_some_and(|a| a.get("timestamp").is_some())
            {
                Ok(())
            } else {
                Err(Failure::retryable(
                    "HttpEndpoint.InvalidResponseFromDestination",
                    "The response did not echo the requestId and a timestamp.",
                ))
            }
        }
        413 => Err(Failure::permanent(
            "HttpEndpoint.PayloadTooLarge",
            message.unwrap_or_else(|| "The endpoint answered 413.".into()),
        )),
        _ => Err(Failure::retryable(
            "HttpEndpoint.DestinationException",
            message.unwrap_or_else(|| format!("The endpoint answered {status}.")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_the_request_id_and_base64_records() {
        let out = vec![Out {
            arrival_ms: 1,
            record_id: "r".into(),
            raw: b"hello".to_vec(),
            transformed: None,
        }];
        let v: Value = serde_json::from_slice(&body("id-1", 42, &out)).unwrap();
        assert_eq!(
            v,
            json!({"requestId": "id-1", "timestamp": 42, "records": [{"data": "aGVsbG8="}]})
        );
        let zipped = gzip(b"abc").unwrap();
        assert_eq!(&zipped[..2], &[0x1f, 0x8b]);
    }
}
