//! StartDetectMitigationActionsTask, DescribeDetectMitigationActionsTask,
//! ListDetectMitigationActionsTasks, CancelDetectMitigationActionsTask and
//! ListDetectMitigationActionsExecutions (spec 4.4).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::applicability::allowed_for_violations;
use crate::error::{MitigateError, MitigateResult, invalid};
use crate::input::{
    check_name, client_request_token, epoch_seconds, max_results, opt_bool, opt_str, opt_timestamp,
    req_timestamp, str_list,
};
use crate::model::{DetectStatistics, DetectTask, TaskStatus, ViolationExecutions};
use crate::sources::Violation;
use crate::task_kind::{
    add_execution_error, existing_start, offset_page, offset_token, task_id, time_range,
};
use crate::{Caller, Mitigate, persist};

/// The target: violation ids, or a security profile (and behavior) over a time range.
enum Target {
    Ids(Vec<String>),
    Profile {
        profile: String,
        behavior: Option<String>,
    },
}

fn parse_target(input: &Value) -> MitigateResult<Target> {
    let target = input
        .get("target")
        .filter(|v| v.is_object())
        .ok_or_else(|| invalid("target is required and must be a structure."))?;
    let ids = target.get("violationIds").filter(|v| !v.is_null());
    let profile = opt_str(target, "securityProfileName")?;
    let behavior = opt_str(target, "behaviorName")?;
    for (member, value) in [("securityProfileName", profile), ("behaviorName", behavior)] {
        if let Some(v) = value {
            check_name(member, v, 128, true)?;
        }
    }
    match (ids, profile) {
        (Some(ids), None) if behavior.is_none() => {
            let ids = str_list(ids, "violationIds", 1, 25)?;
            for id in &ids {
                if id.is_empty()
                    || id.len() > 128
                    || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(invalid(
                        "violationIds must be 1 to 128 characters of [a-zA-Z0-9-].",
                    ));
                }
            }
            Ok(Target::Ids(ids.iter().map(|s| s.to_string()).collect()))
        }
        (None, Some(p)) => Ok(Target::Profile {
            profile: p.to_string(),
            behavior: behavior.map(str::to_string),
        }),
        (None, None) if behavior.is_some() => Err(invalid(
            "target.behaviorName needs target.securityProfileName.",
        )),
        _ => Err(invalid(
            "target must have either violationIds or securityProfileName (with an optional behaviorName).",
        )),
    }
}

impl Mitigate {
    pub async fn handle_start_detect_mitigation_actions_task(
        self: &Arc<Self>,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let id = task_id(input)?.to_string();
        let token = client_request_token(input)?;
        let target = parse_target(input)?;
        let names = str_list(
            input
                .get("actions")
                .ok_or_else(|| invalid("actions is required."))?,
            "actions",
            1,
            5,
        )?;
        let range = match input
            .get("violationEventOccurrenceRange")
            .filter(|v| !v.is_null())
        {
            None => None,
            Some(r) => {
                let (from, to) = (req_timestamp(r, "startTime")?, req_timestamp(r, "endTime")?);
                if to < from {
                    return Err(invalid(
                        "violationEventOccurrenceRange ends before it starts.",
                    ));
                }
                Some((from, to))
            }
        };
        let only_active = opt_bool(input, "includeOnlyActiveViolations")?.unwrap_or(false);
        let include_suppressed = opt_bool(input, "includeSuppressedAlerts")?.unwrap_or(false);
        let account = &caller.account_id;
        let actions = {
            let all = self.state.lock().await;
            let state = all.get(account);
            if let Some(answer) = existing_start::<DetectTask>(state, &id, &token) {
                return answer;
            }
            let mut actions = Vec::new();
            for name in &names {
                let action = state.and_then(|s| s.actions.get(*name)).ok_or_else(|| {
                    invalid(format!("The mitigation action {name} does not exist."))
                })?;
                let t = action.action_type().ok_or_else(|| {
                    MitigateError::Internal(format!("stored action {name} is unreadable"))
                })?;
                if !allowed_for_violations(t) {
                    return Err(invalid(format!(
                        "The mitigation action {name} ({}) cannot be applied to detect violations; they accept ADD_THINGS_TO_THING_GROUP only.",
                        t.as_str()
                    )));
                }
                if !actions
                    .iter()
                    .any(|a: &crate::actions::StoredAction| a.name == *name)
                {
                    actions.push(action.clone());
                }
            }
            actions
        };
        let source = self.violation_source().ok_or_else(|| {
            invalid("Detect violations are not available on this node, so no detect mitigation task can start.")
        })?;
        let now = self.now();
        let violations: Vec<Violation> = match &target {
            Target::Ids(ids) => source.violations_by_id(account, ids).await,
            Target::Profile { profile, behavior } => {
                let (from, to) = range.unwrap_or((0, now));
                source
                    .violations_in_range(account, profile, behavior.as_deref(), from, to)
                    .await
            }
        }
        .map_err(|e| MitigateError::Internal(format!("detect: {e}")))?;
        let plan: Vec<(String, String)> = violations
            .into_iter()
            .filter(|v| !only_active || v.end_ms.is_none())
            .filter(|v| include_suppressed || !v.suppressed)
            .map(|v| (v.violation_id, v.thing_name))
            .collect();
        let task = DetectTask {
            task_id: id.clone(),
            client_request_token: token.clone(),
            status: TaskStatus::InProgress,
            start_ms: now,
            end_ms: None,
            target: input["target"].clone(),
            range,
            only_active,
            include_suppressed,
            actions,
            statistics: DetectStatistics::default(),
            plan,
            position: 0,
            cancel_requested: false,
        };
        if self.insert_new_task(account, task, &token, now).await? {
            self.spawn_detect_task(account, &id);
        }
        Ok(json!({"taskId": id}))
    }

    pub async fn handle_describe_detect_mitigation_actions_task(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        self.describe_task(
            caller,
            input,
            |t: &DetectTask| json!({"taskSummary": t.summary()}),
        )
        .await
    }

    pub async fn handle_cancel_detect_mitigation_actions_task(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        self.cancel_task::<DetectTask>(caller, input).await
    }

    /// Newest first; the token is an offset.
    pub async fn handle_list_detect_mitigation_actions_tasks(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let (start, end) = time_range(input)?;
        let limit = max_results(input)?;
        let offset = offset_token(input)?;
        let all = self.state.lock().await;
        let mut tasks: Vec<&DetectTask> = all
            .get(&caller.account_id)
            .map(|s| {
                s.detect_tasks
                    .values()
                    .filter(|t| t.start_ms >= start && t.start_ms <= end)
                    .collect()
            })
            .unwrap_or_default();
        tasks.sort_by(|a, b| (b.start_ms, &b.task_id).cmp(&(a.start_ms, &a.task_id)));
        Ok(offset_page(&tasks, offset, limit, "tasks", |t| t.summary()))
    }

    pub async fn handle_list_detect_mitigation_actions_executions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let task = opt_str(input, "taskId")?;
        if let Some(t) = task {
            check_name("taskId", t, 128, false)?;
        }
        let violation = opt_str(input, "violationId")?;
        let thing = opt_str(input, "thingName")?;
        let from = opt_timestamp(input, "startTime")?.unwrap_or(i64::MIN);
        let to = opt_timestamp(input, "endTime")?.unwrap_or(i64::MAX);
        let limit = max_results(input)?;
        let offset = offset_token(input)?;
        let account = &caller.account_id;
        let tasks: Vec<String> = match task {
            Some(t) => vec![t.to_string()],
            None => {
                let all = self.state.lock().await;
                all.get(account)
                    .map(|s| s.detect_tasks.keys().cloned().collect())
                    .unwrap_or_default()
            }
        };
        let mut rows: Vec<Value> = Vec::new();
        for t in tasks {
            let docs = match violation {
                Some(v) => self
                    .store
                    .get_document(account, persist::DETECT_EXEC, &format!("{t}/{v}"))
                    .await?
                    .into_iter()
                    .collect(),
                None => {
                    persist::prefix_page(
                        self.store.as_ref(),
                        account,
                        persist::DETECT_EXEC,
                        &format!("{t}/"),
                        None,
                        100_000,
                    )
                    .await?
                }
            };
            for doc in docs {
                let record: ViolationExecutions = persist::decode(&doc)?;
                if thing.is_some_and(|n| n != record.thing_name) {
                    continue;
                }
                for e in &record.executions {
                    if e.start_ms < from || e.start_ms > to {
                        continue;
                    }
                    let mut row = json!({
                        "taskId": t,
                        "violationId": record.violation_id,
                        "actionName": e.action_name,
                        "thingName": record.thing_name,
                        "executionStartDate": epoch_seconds(e.start_ms),
                        "executionEndDate": epoch_seconds(e.end_ms),
                        "status": e.status.detect_str(),
                    });
                    add_execution_error(&mut row, e);
                    rows.push(row);
                }
            }
        }
        Ok(offset_page(
            &rows,
            offset,
            limit,
            "actionsExecutions",
            Value::clone,
        ))
    }
}
