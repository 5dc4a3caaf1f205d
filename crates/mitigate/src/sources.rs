//! What mitigation reads from and publishes to, behind small traits: audit findings (the
//! binary passes the audit service, see `audit_source.rs`), detect violations (connected by
//! the binary once detect offers them) and SNS topics (the events service).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::error::MitigateResult;

/// An audit finding, as ListAuditFindings shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub finding_id: String,
    pub task_id: String,
    pub check_name: String,
    pub severity: String,
    pub task_start_ms: i64,
    pub finding_ms: i64,
    /// `NonCompliantResource` wire shape.
    pub non_compliant_resource: Value,
    pub reason_code: String,
    pub reason: String,
    pub is_suppressed: bool,
}

impl Finding {
    /// Reads the `AuditFinding` wire shape; `None` if it lacks an id or check.
    pub fn from_wire(value: &Value) -> Option<Self> {
        let text = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let ms = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_f64)
                .map(|s| (s * 1000.0).round() as i64)
                .unwrap_or(0)
        };
        let finding = Self {
            finding_id: text("findingId"),
            task_id: text("taskId"),
            check_name: text("checkName"),
            severity: text("severity"),
            task_start_ms: ms("taskStartTime"),
            finding_ms: ms("findingTime"),
            non_compliant_resource: value
                .get("nonCompliantResource")
                .cloned()
                .unwrap_or(Value::Null),
            reason_code: text("reasonForNonComplianceCode"),
            reason: text("reasonForNonCompliance"),
            is_suppressed: value
                .get("isSuppressed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        (!finding.finding_id.is_empty() && !finding.check_name.is_empty()).then_some(finding)
    }

    /// A member of the resource identifier, e.g. `deviceCertificateId`.
    pub fn resource_id(&self, member: &str) -> Option<&str> {
        self.non_compliant_resource
            .get("resourceIdentifier")?
            .get(member)?
            .as_str()
    }

    /// The message PUBLISH_FINDING_TO_SNS publishes: the shape of the workshop's payload
    /// (seed 003), times in epoch milliseconds, members in its order.
    pub fn sns_message(&self) -> String {
        json!({
            "findingId": self.finding_id,
            "findingTime": self.finding_ms,
            "severity": self.severity,
            "taskStartTime": self.task_start_ms,
            "nonCompliantResource": self.non_compliant_resource,
            "taskId": self.task_id,
            "checkName": self.check_name,
            "reasonForNonComplianceCode": self.reason_code,
            "reasonForNonCompliance": self.reason,
        })
        .to_string()
    }
}

/// An audit task as far as mitigation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTaskInfo {
    pub status: String,
    pub start_ms: i64,
    pub checks: Vec<String>,
}

/// Audit's findings and tasks.
#[async_trait::async_trait]
pub trait FindingSource: Send + Sync + 'static {
    async fn audit_task(
        &self,
        account: &str,
        task_id: &str,
    ) -> MitigateResult<Option<AuditTaskInfo>>;

    /// The most recent audit task that ran `check` and finished, if any.
    async fn latest_task_with_check(
        &self,
        account: &str,
        check: &str,
    ) -> MitigateResult<Option<String>>;

    /// One page of the findings of `check` in `task_id`, after finding `after`; with the
    /// token of the next page.
    async fn findings_page(
        &self,
        account: &str,
        task_id: &str,
        check: &str,
        after: Option<&str>,
        limit: usize,
    ) -> MitigateResult<(Vec<Finding>, Option<String>)>;

    async fn finding(&self, account: &str, finding_id: &str) -> MitigateResult<Option<Finding>>;
}

/// A Device Defender detect violation, as mitigation needs it: the thing is what the action
/// acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub violation_id: String,
    pub thing_name: String,
    pub security_profile_name: String,
    pub behavior_name: String,
    pub start_ms: i64,
    /// `None` while the violation is active.
    pub end_ms: Option<i64>,
    /// Whether its alerts are suppressed (the behavior's `suppressAlerts`).
    pub suppressed: bool,
}

/// Detect's violations. The detect service implements it; tests use [`MemoryViolations`].
#[async_trait::async_trait]
pub trait ViolationSource: Send + Sync + 'static {
    /// The violations with these ids that exist (active or not, suppressed or not).
    async fn violations_by_id(
        &self,
        account: &str,
        ids: &[String],
    ) -> Result<Vec<Violation>, String>;

    /// Violations of a security profile (and behavior, if given) with events in
    /// `[from_ms, to_ms]`, active or not, suppressed or not.
    async fn violations_in_range(
        &self,
        account: &str,
        security_profile_name: &str,
        behavior_name: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Violation>, String>;
}

/// Violations held in memory: tests, and a stand-in until detect is connected.
#[derive(Default)]
pub struct MemoryViolations {
    by_account: Mutex<BTreeMap<String, Vec<Violation>>>,
}

impl MemoryViolations {
    pub fn add(&self, account: &str, violation: Violation) {
        self.by_account
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account.to_string())
            .or_default()
            .push(violation);
    }

    fn of(&self, account: &str) -> Vec<Violation> {
        self.by_account
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .cloned()
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl ViolationSource for MemoryViolations {
    async fn violations_by_id(
        &self,
        account: &str,
        ids: &[String],
    ) -> Result<Vec<Violation>, String> {
        Ok(self
            .of(account)
            .into_iter()
            .filter(|v| ids.contains(&v.violation_id))
            .collect())
    }

    async fn violations_in_range(
        &self,
        account: &str,
        profile: &str,
        behavior: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Violation>, String> {
        Ok(self
            .of(account)
            .into_iter()
            .filter(|v| v.security_profile_name == profile)
            .filter(|v| behavior.is_none_or(|b| v.behavior_name == b))
            .filter(|v| v.start_ms <= to_ms && v.end_ms.is_none_or(|e| e >= from_ms))
            .collect())
    }
}

/// Why a publish failed: the error code and message recorded on the execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishError {
    pub code: String,
    pub message: String,
}

/// SNS topics (the events service): durable once `publish` returns.
#[async_trait::async_trait]
pub trait TopicPublisher: Send + Sync + 'static {
    async fn publish(
        &self,
        account: &str,
        topic_arn: &str,
        message: &str,
    ) -> Result<(), PublishError>;
}

/// Remembers what was published (tests).
#[derive(Default)]
pub struct RecordingPublisher {
    pub published: Mutex<Vec<(String, String, String)>>,
}

#[async_trait::async_trait]
impl TopicPublisher for RecordingPublisher {
    async fn publish(
        &self,
        account: &str,
        topic_arn: &str,
        message: &str,
    ) -> Result<(), PublishError> {
        if topic_arn.ends_with(":missing") {
            return Err(PublishError {
                code: "NotFound".into(),
                message: "Topic does not exist".into(),
            });
        }
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((account.into(), topic_arn.into(), message.into()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sns_message_has_the_seed_shape() {
        let wire = json!({
            "findingId": "432728eb-d686-418c-bf5b-02ea8867098b",
            "taskId": "621a6e7c32cb33807e03593b3a4097eb",
            "checkName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "taskStartTime": 1572007300.584,
            "findingTime": 1572007301.019,
            "severity": "CRITICAL",
            "nonCompliantResource": {"resourceType": "IOT_POLICY", "resourceIdentifier": {"policyVersionIdentifier": {"policyName": "TECHCON703_amazon_freertos_policy", "policyVersionId": "1"}}},
            "reasonForNonCompliance": "Policy allows broad access to IoT data plane actions: [iot:Subscribe, iot:Connect, iot:Publish].",
            "reasonForNonComplianceCode": "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
            "isSuppressed": false
        });
        let finding = Finding::from_wire(&wire).unwrap();
        // The message of seed 003, byte for byte.
        let seed = r#"{"findingId":"432728eb-d686-418c-bf5b-02ea8867098b","findingTime":1572007301019,"severity":"CRITICAL","taskStartTime":1572007300584,"nonCompliantResource":{"resourceType":"IOT_POLICY","resourceIdentifier":{"policyVersionIdentifier":{"policyName":"TECHCON703_amazon_freertos_policy","policyVersionId":"1"}}},"taskId":"621a6e7c32cb33807e03593b3a4097eb","checkName":"IOT_POLICY_OVERLY_PERMISSIVE_CHECK","reasonForNonComplianceCode":"ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS","reasonForNonCompliance":"Policy allows broad access to IoT data plane actions: [iot:Subscribe, iot:Connect, iot:Publish]."}"#;
        assert_eq!(finding.sns_message(), seed);
        assert_eq!(finding.resource_id("deviceCertificateId"), None);
        assert!(Finding::from_wire(&json!({})).is_none());
    }
}
