//! Destinations: one attempt to deliver a batch, classified as delivered, retryable failure
//! or permanent failure, with Firehose's error code.

mod file;
mod hec_codes;
mod http_endpoint;
mod siem_format;
mod splunk;
mod syslog;

use crate::config::{Destination, HttpTarget};
use crate::deliver::DeliveryContext;
use crate::stream::StreamDoc;
use crate::transform::Out;

/// A failed attempt: Firehose's error code (as in its logs and error records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl Failure {
    pub fn retryable(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            retryable: true,
        }
    }

    pub fn permanent(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
            retryable: false,
        }
    }
}

/// One attempt at a batch. `channel` is the worker's HEC channel; `request_id` stays the
/// same across the batch's retries.
pub async fn attempt(
    ctx: &DeliveryContext,
    doc: &StreamDoc,
    out: &[Out],
    channel: &str,
    request_id: &str,
) -> Result<(), Failure> {
    match &doc.destination {
        Destination::Splunk(config) => splunk::attempt(ctx, config, out, channel).await,
        Destination::HttpEndpoint(config) => match &config.target {
            HttpTarget::Http(_) => http_endpoint::attempt(ctx, doc, config, out, request_id).await,
            HttpTarget::File(dir) => file::attempt(ctx, doc, dir, out).await,
            HttpTarget::Syslog(target) => syslog::attempt(doc, target, out).await,
        },
    }
}

/// The error-record directory of a destination's failures.
pub fn failed_prefix(destination: &Destination) -> &'static str {
    match destination {
        Destination::Splunk(_) => "splunk-failed",
        Destination::HttpEndpoint(_) => "http-endpoint-failed",
    }
}
