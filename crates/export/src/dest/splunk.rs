//! Splunk HEC (spec A2): the batch's records concatenated into one POST to
//! `/services/collector/event` or `/services/collector/raw`, `Authorization: Splunk <token>`,
//! the worker's channel in `X-Splunk-Request-Channel`. With indexer acknowledgement on, the
//! answer's `ackId` is polled at `/services/collector/ack` until true; no ack within
//! HECAcknowledgmentTimeoutInSeconds is `Splunk.AckTimeout` (retried: the events may have been
//! indexed, so a retry can duplicate them, as in Firehose). An answer without `ackId`, or an
//! ack endpoint saying acks are disabled (code 14), means 200 = delivered.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::Failure;
use super::hec_codes::classify;
use crate::config::{HecEndpointType, SplunkConfig};
use crate::deliver::DeliveryContext;
use crate::transform::Out;

/// First ack poll comes quickly (a loopback indexer acks in milliseconds); then the interval
/// doubles up to the configured poll period.
const FIRST_POLL: Duration = Duration::from_millis(10);

fn body(out: &[Out]) -> Vec<u8> {
    let mut body = Vec::with_capacity(out.iter().map(|o| o.data().len()).sum());
    for o in out {
        body.extend_from_slice(o.data());
    }
    body
}

fn connection_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::retryable(
            "Splunk.ConnectionTimeout",
            format!("HEC did not answer in time: {e}"),
        )
    } else {
        Failure::retryable(
            "Splunk.ConnectionClosed",
            format!("cannot reach the HEC: {e}"),
        )
    }
}

pub async fn attempt(
    ctx: &DeliveryContext,
    config: &SplunkConfig,
    out: &[Out],
    channel: &str,
) -> Result<(), Failure> {
    let path = match config.endpoint_type {
        HecEndpointType::Event => "/services/collector/event",
        HecEndpointType::Raw => "/services/collector/raw",
    };
    let url = format!("{}{path}?channel={channel}", config.endpoint);
    let ack_timeout = Duration::from_secs(config.ack_timeout_secs as u64);
    let response = ctx
        .http
        .post(&url)
        .header("Authorization", format!("Splunk {}", config.token))
        .header("X-Splunk-Request-Channel", channel)
        .header("Content-Type", "application/json")
        .timeout(ack_timeout)
        .body(body(out))
        .send()
        .await
        .map_err(|e| connection_failure(&e))?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| connection_failure(&e))?;
    let reply: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let code = reply.get("code").and_then(Value::as_i64);
    let text = reply.get("text").and_then(Value::as_str).unwrap_or("");
    if status != 200 || code.is_some_and(|c| c != 0) {
        return Err(classify(status, code, text));
    }
    let Some(ack_id) = reply.get("ackId").and_then(Value::as_u64) else {
        return Ok(());
    };
    wait_for_ack(ctx, config, channel, ack_id, Instant::now() + ack_timeout).await
}

async fn wait_for_ack(
    ctx: &DeliveryContext,
    config: &SplunkConfig,
    channel: &str,
    ack_id: u64,
    deadline: Instant,
) -> Result<(), Failure> {
    let url = format!(
        "{}/services/collector/ack?channel={channel}",
        config.endpoint
    );
    let mut wait = FIRST_POLL;
    loop {
        tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
        wait = (wait * 2).min(ctx.ack_poll);
        let polled = ctx
            .http
            .post(&url)
            .header("Authorization", format!("Splunk {}", config.token))
            .header("X-Splunk-Request-Channel", channel)
            .timeout(Duration::from_secs(30))
            .json(&json!({"acks": [ack_id]}))
            .send()
            .await;
        if let Ok(response) = polled {
            let status = response.status().as_u16();
            let reply: Value = response
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            if status == 200 {
                if reply["acks"][ack_id.to_string()].as_bool() == Some(true) {
                    return Ok(());
                }
            } else if (400..500).contains(&status) && status != 429 {
                // Acks disabled (code 14) or an ack API we cannot use: 200 meant delivered.
                tracing::debug!(status, %reply, "HEC ack endpoint refused; treating the 200 as delivered.");
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(Failure::retryable(
                "Splunk.AckTimeout",
                "Did not receive an acknowledgement from HEC before the HEC acknowledgement timeout expired. Despite the acknowledgement timeout, it's possible the data was indexed successfully in Splunk. Firehose backs up in Amazon S3 data for which the acknowledgement timeout expired.",
            ));
        }
    }
}
