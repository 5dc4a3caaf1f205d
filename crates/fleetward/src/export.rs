//! Wiring of the export service (`fleetward-export`): delivery streams restored from the
//! store, their buffers recovered from the data directory, delivery resumed; and the
//! notification service's `firehose` subscriptions put into those streams; and the
//! gateway's published messages offered to the topic rules; and the hub's written findings
//! streamed as `Security Hub Findings - Imported` events.

use std::path::Path;
use std::sync::Arc;

use fleetward_events::{Events, FirehoseSink};
use fleetward_export::{Export, ExportOptions};
use fleetward_gateway::{Gateway, RuleHook};
use fleetward_hub::{FindingEvents, Hub};
use fleetward_model::Clock;
use fleetward_store::Store;

/// Bytes a stream may hold accepted and undelivered before PutRecord answers
/// ServiceUnavailableException (default 1 GiB).
const BUFFER_BYTES_ENV: &str = "FLEETWARD_EXPORT_BUFFER_BYTES";

/// `firehose` subscriptions of a notification topic: the message goes into the stream the
/// endpoint ARN names, which must be in the topic's account (accounts are isolated).
struct ExportSink(Arc<Export>);

#[async_trait::async_trait]
impl FirehoseSink for ExportSink {
    async fn put(&self, account: &str, stream_arn: &str, record: Vec<u8>) -> Result<(), String> {
        let mut parts = stream_arn.splitn(6, ':');
        let arn_account = parts.nth(4).unwrap_or("");
        let name = parts
            .next()
            .and_then(|r| r.strip_prefix("deliverystream/"))
            .unwrap_or("");
        if arn_account != account {
            return Err(format!(
                "delivery stream {stream_arn} is not in account {account}"
            ));
        }
        self.0
            .put_internal(account, name, vec![record])
            .await
            .map_err(|e| e.to_string())
    }
}

/// Topic rules see every message the gateway publishes (the check is one atomic load while
/// no rule is enabled).
struct RulesOnGateway(Arc<Export>);

impl RuleHook for RulesOnGateway {
    fn message(&self, account: &str, topic: &str, payload: &[u8]) {
        self.0.rule_message(account, topic, payload);
    }
}

/// Findings the hub writes, to the account's streams tagged `fleetward:source =
/// securityhub-findings`.
struct HubFindingsToStreams(Arc<Export>);

impl FindingEvents for HubFindingsToStreams {
    fn wants(&self, account_id: &str) -> bool {
        self.0.wants_hub_findings(account_id)
    }

    fn written(&self, account_id: &str, findings: Vec<serde_json::Value>) {
        self.0.hub_findings(account_id, findings);
    }
}

pub async fn start(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    region: &str,
    data_dir: &Path,
    events: &Events,
    gateway: &Gateway,
    hub: &Hub,
) -> Result<Arc<Export>, String> {
    let mut options = ExportOptions::new(data_dir.to_path_buf());
    if let Ok(text) = std::env::var(BUFFER_BYTES_ENV) {
        options.max_buffer_bytes = text
            .trim()
            .parse()
            .map_err(|_| format!("{BUFFER_BYTES_ENV} must be a number of bytes, not '{text}'"))?;
    }
    let export = Export::open(store, clock, region, options)
        .await
        .map_err(|e| format!("cannot open the delivery streams: {e}"))?;
    events.set_firehose_sink(Arc::new(ExportSink(export.clone())));
    gateway.set_rule_hook(Arc::new(RulesOnGateway(export.clone())));
    hub.set_finding_events(Arc::new(HubFindingsToStreams(export.clone())));
    Ok(export)
}
