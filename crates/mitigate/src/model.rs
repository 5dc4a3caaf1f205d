//! Mitigation tasks and their executions as stored (one document each) and as the API shows
//! them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actions::StoredAction;
use crate::input::epoch_seconds;

/// `AuditMitigationActionsTaskStatus` / `DetectMitigationActionsTaskStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    InProgress,
    /// Audit tasks say COMPLETED, detect tasks SUCCESSFUL.
    Completed,
    Failed,
    Canceled,
}

impl TaskStatus {
    pub fn audit_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Canceled => "CANCELED",
        }
    }

    pub fn detect_str(self) -> &'static str {
        match self {
            Self::Completed => "SUCCESSFUL",
            other => other.audit_str(),
        }
    }
}

/// The outcome of one action on one finding or violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecStatus {
    /// Audit executions say COMPLETED, detect executions SUCCESSFUL.
    Completed,
    Failed,
    Skipped,
    Canceled,
}

impl ExecStatus {
    pub fn audit_str(self) -> &'static str {
        match self {
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Skipped => "SKIPPED",
            Self::Canceled => "CANCELED",
        }
    }

    pub fn detect_str(self) -> &'static str {
        match self {
            Self::Completed => "SUCCESSFUL",
            other => other.audit_str(),
        }
    }
}

/// One action applied to one finding (audit) or violation (detect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub action_name: String,
    pub action_id: String,
    pub status: ExecStatus,
    pub start_ms: i64,
    pub end_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The executions of one finding in one audit mitigation task (document key
/// `TASK/FINDING`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingExecutions {
    pub finding_id: String,
    pub check_name: String,
    pub executions: Vec<Execution>,
}

/// The executions of one violation in one detect mitigation task (key `TASK/VIOLATION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViolationExecutions {
    pub violation_id: String,
    pub thing_name: String,
    pub executions: Vec<Execution>,
}

/// `TaskStatisticsForAuditCheck`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckStatistics {
    pub total_findings_count: u64,
    pub failed_findings_count: u64,
    pub succeeded_findings_count: u64,
    pub skipped_findings_count: u64,
    pub canceled_findings_count: u64,
}

/// Which findings an audit mitigation task acts on, resolved when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FindingPlan {
    /// These findings, in this order.
    Ids(Vec<String>),
    /// All findings of each (check, audit task), filtered by reason codes where given.
    Checks(Vec<(String, String)>),
}

/// How far a task got: what is done is never applied twice after a restart (and the
/// actions are idempotent if a batch is repeated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cursor {
    /// Index into the plan (finding ids, or (check, task) pairs).
    pub position: usize,
    /// Within a (check, task) pair: the next page token of its findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditTask {
    pub task_id: String,
    pub client_request_token: String,
    pub status: TaskStatus,
    pub start_ms: i64,
    #[serde(default)]
    pub end_ms: Option<i64>,
    /// The `AuditMitigationActionsTaskTarget` as given.
    pub target: Value,
    pub mapping: BTreeMap<String, Vec<String>>,
    /// The actions as they were when the task started (`actionsDefinition`).
    pub actions: Vec<StoredAction>,
    pub reason_filter: BTreeMap<String, Vec<String>>,
    /// The audit task ids the findings come from (ListAuditMitigationActionsTasks filter).
    pub audit_task_ids: Vec<String>,
    pub plan: FindingPlan,
    pub cursor: Cursor,
    pub statistics: BTreeMap<String, CheckStatistics>,
    #[serde(default)]
    pub cancel_requested: bool,
}

impl AuditTask {
    pub fn describe(&self) -> Value {
        let mut out = json!({
            "taskStatus": self.status.audit_str(),
            "startTime": epoch_seconds(self.start_ms),
            "taskStatistics": self.statistics,
            "target": self.target,
            "auditCheckToActionsMapping": self.mapping,
            "actionsDefinition": self.actions.iter().map(StoredAction::definition).collect::<Vec<_>>(),
        });
        if let Some(end) = self.end_ms {
            out["endTime"] = epoch_seconds(end);
        }
        out
    }
}

/// `DetectMitigationActionsTaskStatistics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectStatistics {
    pub actions_executed: u64,
    pub actions_skipped: u64,
    pub actions_failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectTask {
    pub task_id: String,
    pub client_request_token: String,
    pub status: TaskStatus,
    pub start_ms: i64,
    #[serde(default)]
    pub end_ms: Option<i64>,
    pub target: Value,
    #[serde(default)]
    pub range: Option<(i64, i64)>,
    pub only_active: bool,
    pub include_suppressed: bool,
    pub actions: Vec<StoredAction>,
    pub statistics: DetectStatistics,
    /// The violations to act on, (violation id, thing name), resolved at start.
    pub plan: Vec<(String, String)>,
    /// How many of them were acted on (a restart resumes after them).
    #[serde(default)]
    pub position: usize,
    #[serde(default)]
    pub cancel_requested: bool,
}

impl DetectTask {
    /// `DetectMitigationActionsTaskSummary`.
    pub fn summary(&self) -> Value {
        let mut out = json!({
            "taskId": self.task_id,
            "taskStatus": self.status.detect_str(),
            "taskStartTime": epoch_seconds(self.start_ms),
            "target": self.target,
            "onlyActiveViolationsIncluded": self.only_active,
            "suppressedAlertsIncluded": self.include_suppressed,
            "actionsDefinition": self.actions.iter().map(StoredAction::definition).collect::<Vec<_>>(),
            "taskStatistics": self.statistics,
        });
        if let Some(end) = self.end_ms {
            out["taskEndTime"] = epoch_seconds(end);
        }
        if let Some((from, to)) = self.range {
            out["violationEventOccurrenceRange"] =
                json!({"startTime": epoch_seconds(from), "endTime": epoch_seconds(to)});
        }
        out
    }
}
