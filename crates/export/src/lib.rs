//! Delivery streams with Firehose semantics (spec/export-and-anomaly.md part A): the
//! `firehose` API's stream lifecycle and PutRecord(Batch), a durable on-disk buffer per
//! stream, batching by Firehose's buffering hints, transforms, delivery to Splunk HEC with
//! indexer acknowledgement, retries within the retry duration, and failed records written to
//! a local backup directory in Firehose's error-record format.

mod backup;
pub mod config;
mod deliver;
mod dest;
pub mod error;
mod hub_events;
pub mod log;
mod metrics;
mod put;
mod rules;
mod service;
mod stream;
mod tags;
mod transform;

#[cfg(test)]
mod tests;

pub use error::{ExportError, ExportResult};
pub use fleetward_model::Caller;
pub use hub_events::{HUB_FINDINGS, SOURCE_TAG};
pub use rules::{RULE_KIND, RuleError, RuleResult};
pub use service::{Export, ExportOptions, STREAM_KIND};
