//! StartAuditMitigationActionsTask, DescribeAuditMitigationActionsTask,
//! ListAuditMitigationActionsTasks, CancelAuditMitigationActionsTask and
//! ListAuditMitigationActionsExecutions (spec 4.3).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::actions::StoredAction;
use crate::applicability::{allowed_for_check, allowed_types};
use crate::error::{MitigateError, MitigateResult, invalid};
use crate::input::{
    check_name, client_request_token, epoch_seconds, max_results, opt_str, req_str, str_list,
};
use crate::model::{
    AuditTask, CheckStatistics, Cursor, FindingExecutions, FindingPlan, TaskStatus,
};
use crate::task_kind::{
    add_execution_error, existing_start, offset_page, offset_token, task_id, time_range,
};
use crate::{Caller, Mitigate, persist};

/// The validated target and mapping of a start request.
struct Request {
    audit_task_id: Option<String>,
    finding_ids: Option<Vec<String>>,
    reason_filter: BTreeMap<String, Vec<String>>,
    mapping: BTreeMap<String, Vec<String>>,
}

fn known_check(check: &str) -> MitigateResult<&'static fleetward_audit::catalog::CheckDef> {
    fleetward_audit::catalog::find(check)
        .map(|(_, def)| def)
        .ok_or_else(|| invalid(format!("Unknown audit check name: {check}.")))
}

fn string_map<'a>(value: &'a Value, member: &str) -> MitigateResult<&'a Map<String, Value>> {
    let map = value
        .as_object()
        .ok_or_else(|| invalid(format!("{member} must be a map.")))?;
    if map.is_empty() {
        return Err(invalid(format!("{member} must not be empty.")));
    }
    Ok(map)
}

fn parse_request(input: &Value) -> MitigateResult<Request> {
    let target = input
        .get("target")
        .filter(|v| !v.is_null())
        .ok_or_else(|| invalid("target is required."))?;
    if !target.is_object() {
        return Err(invalid("target must be a structure."));
    }
    let audit_task_id = opt_str(target, "auditTaskId")?.map(str::to_string);
    if let Some(id) = &audit_task_id
        && (id.is_empty()
            || id.len() > 40
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(invalid(
            "target.auditTaskId must be 1 to 40 characters of [a-zA-Z0-9-].",
        ));
    }
    let finding_ids = match target.get("findingIds").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let ids = str_list(v, "findingIds", 1, 25)?;
            for id in &ids {
                check_name("findingIds", id, 128, false)?;
            }
            let mut unique: Vec<String> = Vec::new();
            for id in ids {
                if !unique.iter().any(|u| u == id) {
                    unique.push(id.to_string());
                }
            }
            Some(unique)
        }
    };
    let mut reason_filter = BTreeMap::new();
    if let Some(v) = target
        .get("auditCheckToReasonCodeFilter")
        .filter(|v| !v.is_null())
    {
        for (check, codes) in string_map(v, "auditCheckToReasonCodeFilter")? {
            let def = known_check(check)?;
            let codes = str_list(codes, "auditCheckToReasonCodeFilter", 1, 25)?;
            for code in &codes {
                if !def.reasons.contains(code) {
                    return Err(invalid(format!(
                        "{code} is not a reason code of {check}; it has {}.",
                        def.reasons.join(", ")
                    )));
                }
            }
            reason_filter.insert(check.clone(), codes.iter().map(|c| c.to_string()).collect());
        }
    }
    // findingIds name the findings themselves; a reason-code filter narrows an audit's
    // findings (that audit's, or each check's latest).
    let kinds = [
        audit_task_id.is_some(),
        finding_ids.is_some(),
        !reason_filter.is_empty(),
    ];
    if finding_ids.is_some() && kinds.iter().filter(|k| **k).count() > 1 {
        return Err(invalid(
            "target.findingIds cannot be combined with auditTaskId or auditCheckToReasonCodeFilter.",
        ));
    }
    if !kinds.iter().any(|k| *k) {
        return Err(invalid(
            "target must have auditTaskId, findingIds or auditCheckToReasonCodeFilter.",
        ));
    }
    let mapping_value = input
        .get("auditCheckToActionsMapping")
        .filter(|v| !v.is_null())
        .ok_or_else(|| invalid("auditCheckToActionsMapping is required."))?;
    let mut mapping = BTreeMap::new();
    for (check, names) in string_map(mapping_value, "auditCheckToActionsMapping")? {
        known_check(check)?;
        let names = str_list(names, "auditCheckToActionsMapping", 1, 5)?;
        for name in &names {
            check_name("auditCheckToActionsMapping", name, 128, false)?;
        }
        mapping.insert(check.clone(), names.iter().map(|n| n.to_string()).collect());
    }
    for check in reason_filter.keys() {
        if !mapping.contains_key(check) {
            return Err(invalid(format!(
                "auditCheckToReasonCodeFilter names {check}, which auditCheckToActionsMapping does not map to actions."
            )));
        }
    }
    Ok(Request {
        audit_task_id,
        finding_ids,
        reason_filter,
        mapping,
    })
}

/// Every mapped action must exist and be valid for its check (spec 4.2). Returns the
/// definitions the task will use.
fn resolve_actions(
    actions: &BTreeMap<String, StoredAction>,
    mapping: &BTreeMap<String, Vec<String>>,
) -> MitigateResult<Vec<StoredAction>> {
    let mut used: Vec<StoredAction> = Vec::new();
    for (check, names) in mapping {
        for name in names {
            let action = actions
                .get(name)
                .ok_or_else(|| invalid(format!("The mitigation action {name} does not exist.")))?;
            let action_type = action.action_type().ok_or_else(|| {
                MitigateError::Internal(format!("stored action {name} is unreadable"))
            })?;
            if !allowed_for_check(check, action_type) {
                return Err(invalid(format!(
                    "The mitigation action {name} ({}) cannot be applied to findings of {check}; that check accepts {}.",
                    action_type.as_str(),
                    allowed_types(check).join(", ")
                )));
            }
            if !used.iter().any(|a| &a.name == name) {
                used.push(action.clone());
            }
        }
    }
    Ok(used)
}

impl Mitigate {
    pub async fn handle_start_audit_mitigation_actions_task(
        self: &Arc<Self>,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let id = task_id(input)?.to_string();
        let token = client_request_token(input)?;
        let request = parse_request(input)?;
        let account = &caller.account_id;
        // Checked once before the (slow) finding lookups and again before inserting.
        let actions = {
            let all = self.state.lock().await;
            let state = all.get(account);
            if let Some(answer) = existing_start::<AuditTask>(state, &id, &token) {
                return answer;
            }
            let empty = BTreeMap::new();
            resolve_actions(
                state.map(|s| &s.actions).unwrap_or(&empty),
                &request.mapping,
            )?
        };
        let (plan, audit_task_ids) = self.plan(account, &request).await?;
        let now = self.now();
        let task = AuditTask {
            task_id: id.clone(),
            client_request_token: token.clone(),
            status: TaskStatus::InProgress,
            start_ms: now,
            end_ms: None,
            target: input["target"].clone(),
            statistics: request
                .mapping
                .keys()
                .map(|c| (c.clone(), CheckStatistics::default()))
                .collect(),
            mapping: request.mapping,
            actions,
            reason_filter: request.reason_filter,
            audit_task_ids,
            plan,
            cursor: Cursor::default(),
            cancel_requested: false,
        };
        if self.insert_new_task(account, task, &token, now).await? {
            self.spawn_audit_task(account, &id);
        }
        Ok(json!({"taskId": id}))
    }

    /// Which findings the task acts on, and the audit tasks they come from.
    async fn plan(
        &self,
        account: &str,
        request: &Request,
    ) -> MitigateResult<(FindingPlan, Vec<String>)> {
        if let Some(ids) = &request.finding_ids {
            let mut audit_tasks: Vec<String> = Vec::new();
            for id in ids {
                let finding =
                    self.findings.finding(account, id).await?.ok_or_else(|| {
                        invalid(format!("The audit finding {id} does not exist."))
                    })?;
                if !request.mapping.contains_key(&finding.check_name) {
                    return Err(invalid(format!(
                        "The audit finding {id} is a finding of {}, which auditCheckToActionsMapping does not map to actions.",
                        finding.check_name
                    )));
                }
                if !audit_tasks.contains(&finding.task_id) {
                    audit_tasks.push(finding.task_id);
                }
            }
            return Ok((FindingPlan::Ids(ids.clone()), audit_tasks));
        }
        let checks: Vec<&String> = if request.reason_filter.is_empty() {
            request.mapping.keys().collect()
        } else {
            request.reason_filter.keys().collect()
        };
        let mut pairs = Vec::new();
        if let Some(audit_task) = &request.audit_task_id {
            let info = self
                .findings
                .audit_task(account, audit_task)
                .await?
                .ok_or_else(|| invalid(format!("The audit task {audit_task} does not exist.")))?;
            if info.status == "IN_PROGRESS" {
                return Err(invalid(format!(
                    "The audit task {audit_task} is still in progress; start mitigation once it has finished."
                )));
            }
            for check in checks {
                if info.checks.contains(check) {
                    pairs.push((check.clone(), audit_task.clone()));
                }
            }
            return Ok((FindingPlan::Checks(pairs), vec![audit_task.clone()]));
        }
        let mut audit_tasks: Vec<String> = Vec::new();
        for check in checks {
            let latest = self
                .findings
                .latest_task_with_check(account, check)
                .await?
                .ok_or_else(|| {
                    invalid(format!(
                        "No finished audit task has run {check} in the last 90 days."
                    ))
                })?;
            if !audit_tasks.contains(&latest) {
                audit_tasks.push(latest.clone());
            }
            pairs.push((check.clone(), latest));
        }
        Ok((FindingPlan::Checks(pairs), audit_tasks))
    }

    pub async fn handle_describe_audit_mitigation_actions_task(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        self.describe_task(caller, input, AuditTask::describe).await
    }

    pub async fn handle_cancel_audit_mitigation_actions_task(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        self.cancel_task::<AuditTask>(caller, input).await
    }

    /// Newest first; the token is the (start, id) of the last task returned.
    pub async fn handle_list_audit_mitigation_actions_tasks(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let (start, end) = time_range(input)?;
        let audit_task = opt_str(input, "auditTaskId")?;
        let finding = opt_str(input, "findingId")?;
        let status = opt_str(input, "taskStatus")?;
        if let Some(s) = status
            && !["IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED"].contains(&s)
        {
            return Err(invalid(format!("Unknown taskStatus {s}.")));
        }
        let limit = max_results(input)?;
        let after = opt_str(input, "nextToken")?.map(parse_token).transpose()?;
        let mut candidates: Vec<(i64, String, &'static str)> = {
            let all = self.state.lock().await;
            all.get(&caller.account_id)
                .map(|s| {
                    s.audit_tasks
                        .values()
                        .filter(|t| t.start_ms >= start && t.start_ms <= end)
                        .filter(|t| status.is_none_or(|x| t.status.audit_str() == x))
                        .filter(|t| {
                            audit_task.is_none_or(|a| t.audit_task_ids.iter().any(|x| x == a))
                        })
                        .filter(|t| match &after {
                            Some((ms, id)) => (t.start_ms, &t.task_id) < (*ms, id),
                            None => true,
                        })
                        .map(|t| (t.start_ms, t.task_id.clone(), t.status.audit_str()))
                        .collect()
                })
                .unwrap_or_default()
        };
        candidates.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
        let mut page = Vec::new();
        let mut more = false;
        for (ms, id, st) in candidates {
            if let Some(f) = finding
                && self
                    .store
                    .get_document(
                        &caller.account_id,
                        persist::AUDIT_EXEC,
                        &format!("{id}/{f}"),
                    )
                    .await?
                    .is_none()
            {
                continue;
            }
            if page.len() == limit {
                more = true;
                break;
            }
            page.push((ms, id, st));
        }
        let mut out = json!({"tasks": page.iter().map(|(ms, id, st)| json!({
            "taskId": id, "startTime": epoch_seconds(*ms), "taskStatus": st,
        })).collect::<Vec<_>>()});
        if more && let Some((ms, id, _)) = page.last() {
            out["nextToken"] = json!(format!("{ms}:{id}"));
        }
        Ok(out)
    }

    pub async fn handle_list_audit_mitigation_actions_executions(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> MitigateResult<Value> {
        let id = task_id(input)?;
        let finding = req_str(input, "findingId")?;
        check_name("findingId", finding, 128, false)?;
        let status = opt_str(input, "actionStatus")?;
        if let Some(s) = status
            && ![
                "IN_PROGRESS",
                "COMPLETED",
                "FAILED",
                "CANCELED",
                "SKIPPED",
                "PENDING",
            ]
            .contains(&s)
        {
            return Err(invalid(format!("Unknown actionStatus {s}.")));
        }
        let limit = max_results(input)?;
        let offset = offset_token(input)?;
        let doc = self
            .store
            .get_document(
                &caller.account_id,
                persist::AUDIT_EXEC,
                &format!("{id}/{finding}"),
            )
            .await?;
        let executions: Vec<Value> = match doc {
            Some(doc) => {
                let record: FindingExecutions = persist::decode(&doc)?;
                record
                    .executions
                    .iter()
                    .filter(|e| status.is_none_or(|s| e.status.audit_str() == s))
                    .map(|e| {
                        let mut out = json!({
                            "taskId": id,
                            "findingId": finding,
                            "actionName": e.action_name,
                            "actionId": e.action_id,
                            "status": e.status.audit_str(),
                            "startTime": epoch_seconds(e.start_ms),
                            "endTime": epoch_seconds(e.end_ms),
                        });
                        add_execution_error(&mut out, e);
                        out
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        Ok(offset_page(
            &executions,
            offset,
            limit,
            "actionsExecutions",
            Value::clone,
        ))
    }
}

pub(crate) fn parse_token(token: &str) -> MitigateResult<(i64, String)> {
    let (ms, id) = token
        .split_once(':')
        .ok_or_else(|| invalid("The nextToken is not valid."))?;
    let ms = ms
        .parse()
        .map_err(|_| invalid("The nextToken is not valid."))?;
    Ok((ms, id.to_string()))
}
