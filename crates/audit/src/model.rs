//! Audit records as persisted (one store document each) and as the API shows them. Field
//! names follow the botocore shapes, so most records serialise straight to the wire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::catalog;

/// `ResourceIdentifier`: exactly one member is set in a finding's resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_certificate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito_identity_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version_identifier: Option<PolicyVersionIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_alias_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_certificate_identifier: Option<IssuerCertificateIdentifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_certificate_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyVersionIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerCertificateIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_certificate_subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_certificate_serial_number: Option<String>,
}

impl ResourceIdentifier {
    pub fn device_certificate(id: &str) -> Self {
        Self {
            device_certificate_id: Some(id.to_string()),
            ..Self::default()
        }
    }

    pub fn ca_certificate(id: &str) -> Self {
        Self {
            ca_certificate_id: Some(id.to_string()),
            ..Self::default()
        }
    }

    pub fn policy_version(name: &str, version: &str) -> Self {
        Self {
            policy_version_identifier: Some(PolicyVersionIdentifier {
                policy_name: Some(name.to_string()),
                policy_version_id: Some(version.to_string()),
            }),
            ..Self::default()
        }
    }

    pub fn client_id(id: &str) -> Self {
        Self {
            client_id: Some(id.to_string()),
            ..Self::default()
        }
    }

    pub fn account(id: &str) -> Self {
        Self {
            account: Some(id.to_string()),
            ..Self::default()
        }
    }

    pub fn role_alias(arn: &str) -> Self {
        Self {
            role_alias_arn: Some(arn.to_string()),
            ..Self::default()
        }
    }

    pub fn iam_role(arn: &str) -> Self {
        Self {
            iam_role_arn: Some(arn.to_string()),
            ..Self::default()
        }
    }

    pub fn cognito_pool(id: &str) -> Self {
        Self {
            cognito_identity_pool_id: Some(id.to_string()),
            ..Self::default()
        }
    }

    /// How many members are set.
    pub fn member_count(&self) -> usize {
        [
            self.device_certificate_id.is_some(),
            self.ca_certificate_id.is_some(),
            self.cognito_identity_pool_id.is_some(),
            self.client_id.is_some(),
            self.policy_version_identifier.is_some(),
            self.account.is_some(),
            self.iam_role_arn.is_some(),
            self.role_alias_arn.is_some(),
            self.issuer_certificate_identifier.is_some(),
            self.device_certificate_arn.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count()
    }

    /// A canonical text of the identifier: the key of suppressions and the resource part of
    /// hub finding ids. Certificate ids compare in lowercase without `0x`, as AWS shows them.
    pub fn key(&self) -> String {
        serde_json::to_string(&self.normalized()).unwrap_or_default()
    }

    pub fn normalized(&self) -> Self {
        let hex = |id: &Option<String>| {
            id.as_ref().map(|s| {
                s.strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .unwrap_or(s)
                    .to_ascii_lowercase()
            })
        };
        Self {
            device_certificate_id: hex(&self.device_certificate_id),
            ca_certificate_id: hex(&self.ca_certificate_id),
            ..self.clone()
        }
    }

    /// The resource's path in hub finding ids: `policy/1`, a certificate id, a client id...
    pub fn path(&self) -> String {
        if let Some(p) = &self.policy_version_identifier {
            return format!(
                "{}/{}",
                p.policy_name.as_deref().unwrap_or_default(),
                p.policy_version_id.as_deref().unwrap_or_default()
            );
        }
        if let Some(i) = &self.issuer_certificate_identifier {
            return format!(
                "{}/{}",
                i.issuer_id.as_deref().unwrap_or_default(),
                i.issuer_certificate_serial_number
                    .as_deref()
                    .unwrap_or_default()
            );
        }
        [
            &self.device_certificate_id,
            &self.ca_certificate_id,
            &self.cognito_identity_pool_id,
            &self.client_id,
            &self.account,
            &self.iam_role_arn,
            &self.role_alias_arn,
            &self.device_certificate_arn,
        ]
        .into_iter()
        .find_map(|v| v.clone())
        .unwrap_or_default()
    }
}

/// `NonCompliantResource` / `RelatedResource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub resource_type: String,
    pub resource_identifier: ResourceIdentifier,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_info: BTreeMap<String, String>,
}

impl Resource {
    pub fn new(resource_type: &str, identifier: ResourceIdentifier) -> Self {
        Self {
            resource_type: resource_type.to_string(),
            resource_identifier: identifier,
            additional_info: BTreeMap::new(),
        }
    }

    pub fn with_info(mut self, key: &str, value: impl Into<String>) -> Self {
        self.additional_info.insert(key.to_string(), value.into());
        self
    }
}

/// Related resources a finding document carries itself; the rest go to `audit.related`
/// documents (DescribeAuditFinding shows at most ten, spec 1.3).
pub const INLINE_RELATED: usize = 10;

/// One audit finding as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub finding_id: String,
    pub task_id: String,
    pub check_name: String,
    pub task_start_ms: i64,
    pub finding_ms: i64,
    pub severity: String,
    pub non_compliant_resource: Resource,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_resources: Vec<Resource>,
    /// All related resources, including those stored apart.
    #[serde(default)]
    pub related_total: usize,
    pub reason_for_non_compliance: String,
    pub reason_for_non_compliance_code: String,
    pub is_suppressed: bool,
}

impl Finding {
    /// The `AuditFinding` shape.
    pub fn to_wire(&self) -> Value {
        let mut out = json!({
            "findingId": self.finding_id,
            "taskId": self.task_id,
            "checkName": self.check_name,
            "taskStartTime": epoch_seconds(self.task_start_ms),
            "findingTime": epoch_seconds(self.finding_ms),
            "severity": self.severity,
            "nonCompliantResource": self.non_compliant_resource,
            "reasonForNonCompliance": self.reason_for_non_compliance,
            "reasonForNonComplianceCode": self.reason_for_non_compliance_code,
            "isSuppressed": self.is_suppressed,
        });
        if !self.related_resources.is_empty() {
            out["relatedResources"] = json!(self.related_resources);
        }
        out
    }
}

/// The id of the `seq`-th finding of check `check_index` in task `task_id`: findings of a
/// task, and of one check in it, are then one key range in the store.
pub fn finding_id(task_id: &str, check_index: usize, seq: u32) -> String {
    format!("{task_id}{check_index:02x}{seq:08x}")
}

/// The key prefix of one check's findings in a task.
pub fn check_prefix(task_id: &str, check_index: usize) -> String {
    format!("{task_id}{check_index:02x}")
}

/// Task ids are 32 lowercase hex characters, as AWS's.
pub const TASK_ID_LEN: usize = 32;

/// The task id part of a finding id.
pub fn task_of_finding(finding_id: &str) -> Option<&str> {
    finding_id.get(..TASK_ID_LEN)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskType {
    #[serde(rename = "ON_DEMAND_AUDIT_TASK")]
    OnDemand,
    #[serde(rename = "SCHEDULED_AUDIT_TASK")]
    Scheduled,
}

impl TaskType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnDemand => "ON_DEMAND_AUDIT_TASK",
            Self::Scheduled => "SCHEDULED_AUDIT_TASK",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    InProgress,
    Completed,
    Failed,
    Canceled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Canceled => "CANCELED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckRunStatus {
    InProgress,
    WaitingForDataCollection,
    Canceled,
    CompletedCompliant,
    CompletedNonCompliant,
    Failed,
}

impl CheckRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::WaitingForDataCollection => "WAITING_FOR_DATA_COLLECTION",
            Self::Canceled => "CANCELED",
            Self::CompletedCompliant => "COMPLETED_COMPLIANT",
            Self::CompletedNonCompliant => "COMPLETED_NON_COMPLIANT",
            Self::Failed => "FAILED",
        }
    }

    pub fn is_completed(self) -> bool {
        matches!(self, Self::CompletedCompliant | Self::CompletedNonCompliant)
    }
}

/// `AuditCheckDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckDetails {
    pub check_run_status: CheckRunStatus,
    pub total_resources_count: u64,
    pub non_compliant_resources_count: u64,
    pub suppressed_non_compliant_resources_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl CheckDetails {
    pub fn in_progress() -> Self {
        Self {
            check_run_status: CheckRunStatus::InProgress,
            total_resources_count: 0,
            non_compliant_resources_count: 0,
            suppressed_non_compliant_resources_count: 0,
            error_code: None,
            message: None,
        }
    }

    pub fn failed(error_code: &str, message: &str) -> Self {
        Self {
            check_run_status: CheckRunStatus::Failed,
            error_code: Some(error_code.to_string()),
            message: Some(message.chars().take(2048).collect()),
            ..Self::in_progress()
        }
    }

    pub fn to_wire(&self) -> Value {
        let mut out = json!({
            "checkRunStatus": self.check_run_status.as_str(),
            "checkCompliant": self.check_run_status == CheckRunStatus::CompletedCompliant,
        });
        // Counts are only meaningful once a check ran.
        if self.check_run_status.is_completed() {
            out["totalResourcesCount"] = json!(self.total_resources_count);
            out["nonCompliantResourcesCount"] = json!(self.non_compliant_resources_count);
            out["suppressedNonCompliantResourcesCount"] =
                json!(self.suppressed_non_compliant_resources_count);
        }
        if let Some(code) = &self.error_code {
            out["errorCode"] = json!(code);
        }
        if let Some(message) = &self.message {
            out["message"] = json!(message);
        }
        out
    }
}

/// Where a task's results are on their way to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Nothing to deliver yet (in progress).
    NotReady,
    Pending,
    Delivered,
}

/// One audit task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub task_type: TaskType,
    pub status: TaskStatus,
    pub start_ms: i64,
    #[serde(default)]
    pub end_ms: Option<i64>,
    #[serde(default)]
    pub scheduled_audit_name: Option<String>,
    #[serde(default)]
    pub scheduled_frequency: Option<String>,
    /// Start of the connection-history window the connection checks read.
    pub window_from_ms: i64,
    /// End of that window (2 h before the audit: the history must be complete).
    pub window_to_ms: i64,
    /// Check names in catalogue order, each with its details.
    pub checks: BTreeMap<String, CheckDetails>,
    /// Check configuration (thresholds) in force when the task started.
    #[serde(default)]
    pub configuration: BTreeMap<String, BTreeMap<String, String>>,
    pub hub: Delivery,
    /// Audit-report notification: whether it still has to be sent, and attempts made.
    #[serde(default)]
    pub notify_pending: bool,
    #[serde(default)]
    pub notify_attempts: u32,
    /// When the next attempt may be made (back-off after a refusal).
    #[serde(default)]
    pub notify_next_ms: i64,
}

impl Task {
    pub fn statistics(&self) -> Value {
        let count = |f: &dyn Fn(CheckRunStatus) -> bool| {
            self.checks
                .values()
                .filter(|d| f(d.check_run_status))
                .count()
        };
        json!({
            "totalChecks": self.checks.len(),
            "inProgressChecks": count(&|s| s == CheckRunStatus::InProgress),
            "waitingForDataCollectionChecks": count(&|s| s == CheckRunStatus::WaitingForDataCollection),
            "compliantChecks": count(&|s| s == CheckRunStatus::CompletedCompliant),
            "nonCompliantChecks": count(&|s| s == CheckRunStatus::CompletedNonCompliant),
            "failedChecks": count(&|s| s == CheckRunStatus::Failed),
            "canceledChecks": count(&|s| s == CheckRunStatus::Canceled),
        })
    }

    /// Check names in catalogue order.
    pub fn check_names(&self) -> Vec<String> {
        let mut names: Vec<(usize, String)> = self
            .checks
            .keys()
            .map(|n| {
                (
                    catalog::find(n).map(|(i, _)| i).unwrap_or(usize::MAX),
                    n.clone(),
                )
            })
            .collect();
        names.sort();
        names.into_iter().map(|(_, n)| n).collect()
    }
}

/// `AuditNotificationTarget`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationTarget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub enabled: bool,
}

/// `AuditCheckConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckConfig {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub configuration: BTreeMap<String, String>,
}

/// The account's audit configuration, once UpdateAccountAuditConfiguration was called.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountConfig {
    pub role_arn: Option<String>,
    #[serde(default)]
    pub notification_targets: BTreeMap<String, NotificationTarget>,
    /// Only checks that were configured; others are disabled.
    #[serde(default)]
    pub checks: BTreeMap<String, CheckConfig>,
}

impl AccountConfig {
    pub fn enabled(&self, check: &str) -> bool {
        self.checks.get(check).is_some_and(|c| c.enabled)
    }
}

/// An audit suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub check_name: String,
    pub resource_identifier: ResourceIdentifier,
    #[serde(default)]
    pub expiration_ms: Option<i64>,
    pub suppress_indefinitely: bool,
    #[serde(default)]
    pub description: Option<String>,
    pub client_request_token: String,
    pub created_ms: i64,
}

impl Suppression {
    pub fn key(&self) -> String {
        suppression_key(&self.check_name, &self.resource_identifier)
    }

    pub fn active_at(&self, now_ms: i64) -> bool {
        self.suppress_indefinitely || self.expiration_ms.is_some_and(|e| e > now_ms)
    }

    pub fn to_wire(&self) -> Value {
        let mut out = json!({
            "checkName": self.check_name,
            "resourceIdentifier": self.resource_identifier,
            "suppressIndefinitely": self.suppress_indefinitely,
        });
        if let Some(e) = self.expiration_ms {
            out["expirationDate"] = epoch_seconds(e);
        }
        if let Some(d) = &self.description {
            out["description"] = json!(d);
        }
        out
    }
}

pub fn suppression_key(check: &str, identifier: &ResourceIdentifier) -> String {
    format!("{check}|{}", identifier.key())
}

/// A scheduled audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledAudit {
    pub name: String,
    pub arn: String,
    pub frequency: String,
    #[serde(default)]
    pub day_of_week: Option<String>,
    #[serde(default)]
    pub day_of_month: Option<String>,
    pub target_check_names: Vec<String>,
    #[serde(default)]
    pub tags: Vec<Value>,
    pub created_ms: i64,
    /// When the next run is due.
    pub next_run_ms: i64,
    /// When the last run was due (its connection window starts 2 h before it).
    #[serde(default)]
    pub last_run_ms: Option<i64>,
}

impl ScheduledAudit {
    pub fn metadata(&self) -> Value {
        let mut out = json!({
            "scheduledAuditName": self.name,
            "scheduledAuditArn": self.arn,
            "frequency": self.frequency,
        });
        if let Some(d) = &self.day_of_month {
            out["dayOfMonth"] = json!(d);
        }
        if let Some(d) = &self.day_of_week {
            out["dayOfWeek"] = json!(d);
        }
        out
    }
}

/// AWS `iot` JSON timestamps are epoch seconds with a fraction.
pub fn epoch_seconds(ms: i64) -> Value {
    serde_json::Number::from_f64(ms as f64 / 1000.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_keys_normalise_certificate_ids() {
        let a = ResourceIdentifier::device_certificate(&format!("0x{}", "AB".repeat(32)));
        let b = ResourceIdentifier::device_certificate(&"ab".repeat(32));
        assert_eq!(a.key(), b.key());
        assert_eq!(a.member_count(), 1);
        assert_eq!(ResourceIdentifier::policy_version("p", "3").path(), "p/3");
    }

    #[test]
    fn finding_ids_group_by_task_and_check() {
        let task = "0123456789abcdef0123456789abcdef";
        let id = finding_id(task, 2, 7);
        assert_eq!(id.len(), 42);
        assert!(id.starts_with(&check_prefix(task, 2)));
        assert_eq!(task_of_finding(&id), Some(task));
    }

    #[test]
    fn suppression_activity() {
        let s = Suppression {
            check_name: "LOGGING_DISABLED_CHECK".into(),
            resource_identifier: ResourceIdentifier::account("123456789012"),
            expiration_ms: Some(1_000),
            suppress_indefinitely: false,
            description: None,
            client_request_token: "t".into(),
            created_ms: 0,
        };
        assert!(s.active_at(999) && !s.active_at(1_000));
    }
}
