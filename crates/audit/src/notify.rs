//! The audit-report notification (spec 1.9): sent to the account's SNS notification target
//! when a task completes, through an [`AuditNotifier`] the binary connects to the
//! notification service.

use std::sync::Mutex;

use serde_json::{Value, json};

use crate::model::{CheckRunStatus, Task};

/// Publishes a message to a notification topic (the SNS role). Implemented by the binary
/// on top of the events service; tests record what was published.
#[async_trait::async_trait]
pub trait AuditNotifier: Send + Sync + 'static {
    /// Publishes `message_json` (the audit report) to `topic_arn` of `account_id`. An error
    /// is retried later (see `Audit`'s background worker).
    async fn publish(
        &self,
        account_id: &str,
        topic_arn: &str,
        subject: &str,
        message_json: &str,
    ) -> Result<(), String>;
}

/// Remembers every published message (tests).
#[derive(Default)]
pub struct RecordingNotifier {
    pub published: Mutex<Vec<(String, String, String, String)>>,
}

#[async_trait::async_trait]
impl AuditNotifier for RecordingNotifier {
    async fn publish(
        &self,
        account_id: &str,
        topic_arn: &str,
        subject: &str,
        message_json: &str,
    ) -> Result<(), String> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((
                account_id.to_string(),
                topic_arn.to_string(),
                subject.to_string(),
                message_json.to_string(),
            ));
        Ok(())
    }
}

/// The notification subject.
pub fn subject(task: &Task) -> String {
    format!(
        "AWS IoT Device Defender audit {} {}",
        task.task_id,
        task.status.as_str()
    )
}

/// The audit-report message (`arn:aws:iot:::schema:auditnotification/1.0`).
pub fn report(account_id: &str, task: &Task) -> Value {
    let count = |status: CheckRunStatus| {
        task.checks
            .values()
            .filter(|d| d.check_run_status == status)
            .count()
    };
    let details: Vec<Value> = task
        .check_names()
        .iter()
        .filter_map(|name| task.checks.get(name).map(|d| (name, d)))
        .map(|(name, d)| {
            // The report names only terminal states: anything unfinished was canceled.
            let status = match d.check_run_status {
                CheckRunStatus::InProgress | CheckRunStatus::WaitingForDataCollection => {
                    CheckRunStatus::Canceled
                }
                s => s,
            };
            let mut item = json!({
                "checkName": name,
                "checkRunStatus": status.as_str(),
                "nonCompliantResourcesCount": d.non_compliant_resources_count,
                "suppressedNonCompliantResourcesCount": d.suppressed_non_compliant_resources_count,
                "totalResourcesCount": d.total_resources_count,
            });
            if let Some(m) = &d.message {
                item["message"] = json!(m);
            }
            if let Some(c) = &d.error_code {
                item["errorCode"] = json!(c);
            }
            item
        })
        .collect();
    let mut out = json!({
        "accountId": account_id,
        "taskId": task.task_id,
        "taskStatus": task.status.as_str(),
        "taskType": task.task_type.as_str(),
        "failedChecksCount": count(CheckRunStatus::Failed),
        "canceledChecksCount": count(CheckRunStatus::Canceled)
            + count(CheckRunStatus::InProgress)
            + count(CheckRunStatus::WaitingForDataCollection),
        "nonCompliantChecksCount": count(CheckRunStatus::CompletedNonCompliant),
        "compliantChecksCount": count(CheckRunStatus::CompletedCompliant),
        "totalChecksCount": task.checks.len(),
        "taskStartTime": task.start_ms,
        "auditDetails": details,
    });
    if let Some(name) = &task.scheduled_audit_name {
        out["scheduledAuditName"] = json!(name);
    }
    out
}
