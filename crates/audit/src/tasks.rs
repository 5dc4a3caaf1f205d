//! StartOnDemandAuditTask, CancelAuditTask, DescribeAuditTask, ListAuditTasks (spec 1.5),
//! and the creation of scheduled tasks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

use crate::error::{AuditError, AuditResult};
use crate::input::{check_name_pattern, invalid, max_results, opt_str, opt_timestamp, req_str};
use crate::model::{
    CheckDetails, CheckRunStatus, Delivery, Task, TaskStatus, TaskType, epoch_seconds,
};
use crate::{AccountAudit, Audit, Caller, persist};

/// At most this many on-demand audits in progress per account (spec 6).
const MAX_ON_DEMAND_IN_PROGRESS: usize = 10;
/// Findings and tasks are kept 90 days (spec 1.7).
pub const RETENTION_MS: i64 = 90 * 86_400_000;
/// The connection checks look at history up to 2 h before the audit, and on demand 31 days
/// back (spec 1.3).
pub const HISTORY_DELAY_MS: i64 = 2 * 3_600_000;
pub const ON_DEMAND_LOOKBACK_MS: i64 = 31 * 86_400_000;

impl Audit {
    pub async fn handle_start_on_demand_audit_task(
        self: &Arc<Self>,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let checks = crate::input::target_check_names(input)?
            .ok_or_else(|| invalid("targetCheckNames is required."))?;
        let account = &caller.account_id;
        let task_id = {
            let mut all = self.state.lock().await;
            let state = all.entry(account.clone()).or_default();
            require_enabled(state, &checks)?;
            let running = state
                .tasks
                .values()
                .filter(|t| t.task_type == TaskType::OnDemand && t.status == TaskStatus::InProgress)
                .count();
            if running >= MAX_ON_DEMAND_IN_PROGRESS {
                return Err(AuditError::LimitExceeded(format!(
                    "At most {MAX_ON_DEMAND_IN_PROGRESS} on-demand audits can be in progress."
                )));
            }
            let now = self.now();
            let task = new_task(
                state,
                TaskType::OnDemand,
                &checks,
                now,
                None,
                None,
                now - ON_DEMAND_LOOKBACK_MS,
            );
            self.insert_task(account, state, task).await?
        };
        self.spawn_task(account, &task_id);
        Ok(json!({"taskId": task_id}))
    }

    /// Stores a new task and registers its cancellation flag.
    pub(crate) async fn insert_task(
        &self,
        account: &str,
        state: &mut AccountAudit,
        task: Task,
    ) -> AuditResult<String> {
        let write = persist::put(account, persist::TASK, &task.task_id, &task, self.now());
        self.store.write_documents(&[write]).await?;
        let id = task.task_id.clone();
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), Arc::new(AtomicBool::new(false)));
        state.tasks.insert(id.clone(), task);
        metrics::counter!("fleetward_audit_tasks_started_total").increment(1);
        Ok(id)
    }

    pub async fn handle_cancel_audit_task(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let task_id = task_id(input)?;
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        let task = state.tasks.get(task_id).ok_or_else(|| not_found(task_id))?;
        if task.status != TaskStatus::InProgress {
            return Err(invalid(format!(
                "The audit task {task_id} is {} and cannot be canceled.",
                task.status.as_str()
            )));
        }
        let mut task = task.clone();
        task.status = TaskStatus::Canceled;
        task.end_ms = Some(self.now());
        for details in task.checks.values_mut() {
            if !details.check_run_status.is_completed()
                && details.check_run_status != CheckRunStatus::Failed
            {
                details.check_run_status = CheckRunStatus::Canceled;
            }
        }
        task.hub = Delivery::Pending;
        task.notify_pending = notification_enabled(state);
        let write = persist::put(account, persist::TASK, task_id, &task, self.now());
        self.store.write_documents(&[write]).await?;
        state.tasks.insert(task_id.to_string(), task);
        if let Some(flag) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(task_id)
        {
            flag.store(true, Ordering::SeqCst);
        }
        self.wake.notify_one();
        Ok(json!({}))
    }

    pub async fn handle_describe_audit_task(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let task_id = task_id(input)?;
        let all = self.state.lock().await;
        let task = all
            .get(&caller.account_id)
            .and_then(|s| s.tasks.get(task_id))
            .ok_or_else(|| not_found(task_id))?;
        let mut details = Map::new();
        for name in task.check_names() {
            if let Some(d) = task.checks.get(&name) {
                details.insert(name, d.to_wire());
            }
        }
        let mut out = json!({
            "taskStatus": task.status.as_str(),
            "taskType": task.task_type.as_str(),
            "taskStartTime": epoch_seconds(task.start_ms),
            "taskStatistics": task.statistics(),
            "auditDetails": details,
        });
        if let Some(name) = &task.scheduled_audit_name {
            out["scheduledAuditName"] = json!(name);
        }
        Ok(out)
    }

    pub async fn handle_list_audit_tasks(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let start =
            opt_timestamp(input, "startTime")?.ok_or_else(|| invalid("startTime is required."))?;
        let end =
            opt_timestamp(input, "endTime")?.ok_or_else(|| invalid("endTime is required."))?;
        if end < start {
            return Err(invalid("endTime must not be before startTime."));
        }
        if start < self.now() - RETENTION_MS {
            return Err(invalid("startTime must be within the last 90 days."));
        }
        let task_type = opt_str(input, "taskType")?;
        if let Some(t) = task_type
            && t != "ON_DEMAND_AUDIT_TASK"
            && t != "SCHEDULED_AUDIT_TASK"
        {
            return Err(invalid(format!("Unknown taskType {t}.")));
        }
        let task_status = opt_str(input, "taskStatus")?;
        if let Some(s) = task_status
            && !["IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED"].contains(&s)
        {
            return Err(invalid(format!("Unknown taskStatus {s}.")));
        }
        let limit = max_results(input)?;
        let after = opt_str(input, "nextToken")?.map(parse_token).transpose()?;
        let all = self.state.lock().await;
        let mut tasks: Vec<&Task> = all
            .get(&caller.account_id)
            .map(|s| s.tasks.values().collect())
            .unwrap_or_default();
        // Newest first; the token is the (start, id) of the last task returned.
        tasks.sort_by(|a, b| (b.start_ms, &b.task_id).cmp(&(a.start_ms, &a.task_id)));
        let selected: Vec<&Task> = tasks
            .into_iter()
            .filter(|t| t.start_ms >= start && t.start_ms <= end)
            .filter(|t| task_type.is_none_or(|x| t.task_type.as_str() == x))
            .filter(|t| task_status.is_none_or(|x| t.status.as_str() == x))
            .filter(|t| match &after {
                Some((ms, id)) => (t.start_ms, &t.task_id) < (*ms, id),
                None => true,
            })
            .take(limit + 1)
            .collect();
        let more = selected.len() > limit;
        let page = &selected[..selected.len().min(limit)];
        let mut out = json!({
            "tasks": page.iter().map(|t| json!({
                "taskId": t.task_id,
                "taskStatus": t.status.as_str(),
                "taskType": t.task_type.as_str(),
            })).collect::<Vec<_>>(),
        });
        if more && let Some(last) = page.last() {
            out["nextToken"] = json!(format!("{}:{}", last.start_ms, last.task_id));
        }
        Ok(out)
    }
}

fn parse_token(token: &str) -> AuditResult<(i64, String)> {
    let (ms, id) = token
        .split_once(':')
        .ok_or_else(|| invalid("The nextToken is not valid."))?;
    let ms = ms
        .parse()
        .map_err(|_| invalid("The nextToken is not valid."))?;
    Ok((ms, id.to_string()))
}

pub(crate) fn task_id(input: &Value) -> AuditResult<&str> {
    let id = req_str(input, "taskId")?;
    check_name_pattern("taskId", id, 40, true)?;
    Ok(id)
}

pub(crate) fn not_found(task_id: &str) -> AuditError {
    AuditError::not_found(format!("The audit task {task_id} does not exist."))
}

/// Every check must be enabled in the account's configuration.
pub(crate) fn require_enabled(state: &AccountAudit, checks: &[String]) -> AuditResult<()> {
    for name in checks {
        if !state.config.as_ref().is_some_and(|c| c.enabled(name)) {
            return Err(invalid(format!(
                "The audit check {name} is not enabled in the account's audit configuration."
            )));
        }
    }
    Ok(())
}

pub(crate) fn notification_enabled(state: &AccountAudit) -> bool {
    state
        .config
        .as_ref()
        .and_then(|c| c.notification_targets.get("SNS"))
        .is_some_and(|t| t.enabled && t.target_arn.is_some())
}

/// A new task, its checks in progress.
pub(crate) fn new_task(
    state: &AccountAudit,
    task_type: TaskType,
    checks: &[String],
    now: i64,
    scheduled_audit_name: Option<&str>,
    scheduled_frequency: Option<&str>,
    window_from_ms: i64,
) -> Task {
    let mut configuration = BTreeMap::new();
    if let Some(config) = &state.config {
        for name in checks {
            if let Some(c) = config.checks.get(name)
                && !c.configuration.is_empty()
            {
                configuration.insert(name.clone(), c.configuration.clone());
            }
        }
    }
    Task {
        task_id: uuid::Uuid::new_v4().simple().to_string(),
        task_type,
        status: TaskStatus::InProgress,
        start_ms: now,
        end_ms: None,
        scheduled_audit_name: scheduled_audit_name.map(str::to_string),
        scheduled_frequency: scheduled_frequency.map(str::to_string),
        window_from_ms,
        window_to_ms: now - HISTORY_DELAY_MS,
        checks: checks
            .iter()
            .map(|n| (n.clone(), CheckDetails::in_progress()))
            .collect(),
        configuration,
        hub: Delivery::NotReady,
        notify_pending: false,
        notify_attempts: 0,
        notify_next_ms: 0,
    }
}
