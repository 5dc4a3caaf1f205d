//! Streaming the hub's findings: every finding Security Hub creates or changes becomes one
//! `Security Hub Findings - Imported` EventBridge event (security-hub spec 6.2), put into each
//! delivery stream of the finding's account that carries the tag
//! `fleetward:source = securityhub-findings`. Tagging (TagDeliveryStream) turns it on and
//! untagging off, per account, persisted with the stream.

use serde_json::{Value, json};

use crate::service::Export;

pub const SOURCE_TAG: &str = "fleetward:source";
pub const HUB_FINDINGS: &str = "securityhub-findings";
const DETAIL_TYPE: &str = "Security Hub Findings - Imported";

/// `resources`: the finding's `aws/securityhub/FindingId` (`<ProductArn>/<Id>`).
fn finding_resource(finding: &Value) -> String {
    if let Some(id) = finding
        .pointer("/ProductFields/aws~1securityhub~1FindingId")
        .and_then(Value::as_str)
    {
        return id.to_string();
    }
    let field = |name: &str| finding.get(name).and_then(Value::as_str).unwrap_or("");
    format!("{}/{}", field("ProductArn"), field("Id"))
}

/// EventBridge's `time`: UTC, whole seconds.
fn event_time(now_ms: i64) -> String {
    let secs = now_ms.div_euclid(1000);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub fn imported_event(account: &str, region: &str, now_ms: i64, finding: Value) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": DETAIL_TYPE,
        "source": "aws.securityhub",
        "account": account,
        "time": event_time(now_ms),
        "region": region,
        "resources": [finding_resource(&finding)],
        "detail": {"findings": [finding]},
    })
}

impl Export {
    /// The account's streams tagged for hub findings.
    fn hub_finding_streams(&self, account: &str) -> Vec<String> {
        self.streams_of(account)
            .into_iter()
            .filter(|doc| {
                doc.tags
                    .iter()
                    .any(|(k, v)| k == SOURCE_TAG && v == HUB_FINDINGS)
            })
            .map(|doc| doc.name)
            .collect()
    }

    pub fn wants_hub_findings(&self, account: &str) -> bool {
        !self.hub_finding_streams(account).is_empty()
    }

    /// Findings written by one hub call: one event each, queued for every tagged stream.
    pub fn hub_findings(&self, account: &str, findings: Vec<Value>) {
        let streams = self.hub_finding_streams(account);
        if streams.is_empty() {
            return;
        }
        let now = self.now_ms();
        let records: Vec<Vec<u8>> = findings
            .into_iter()
            .map(|f| {
                imported_event(account, self.region(), now, f)
                    .to_string()
                    .into_bytes()
            })
            .collect();
        for stream in streams {
            self.queue_records(account, &stream, records.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_has_the_eventbridge_shape() {
        let finding = json!({"Id": "f-1", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/x",
            "ProductFields": {"aws/securityhub/FindingId": "arn:aws:securityhub:us-east-1::product/aws/x/f-1"}});
        let e = imported_event(
            "000000000000",
            "us-east-1",
            1_700_000_000_123,
            finding.clone(),
        );
        assert_eq!(e["detail-type"], DETAIL_TYPE);
        assert_eq!(e["source"], "aws.securityhub");
        assert_eq!(e["version"], "0");
        assert_eq!(e["account"], "000000000000");
        assert_eq!(e["region"], "us-east-1");
        assert_eq!(e["time"], "2023-11-14T22:13:20Z");
        assert_eq!(
            e["resources"],
            json!(["arn:aws:securityhub:us-east-1::product/aws/x/f-1"])
        );
        assert_eq!(e["detail"], json!({"findings": [finding]}));
        let bare = imported_event("0", "r", 0, json!({"Id": "i", "ProductArn": "p"}));
        assert_eq!(bare["resources"], json!(["p/i"]));
    }
}
