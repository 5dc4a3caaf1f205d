//! Running an audit mitigation task: batch after batch of findings, each action applied to
//! the whole batch at once (a finding's actions still run in their listed order, and a
//! failed action skips that finding's later ones, spec 4.3), then the batch's executions,
//! statistics and cursor committed in one store write.

use std::collections::BTreeMap;
use std::sync::Arc;

use fleetward_store::DocumentWrite;

use crate::actions::StoredAction;
use crate::effects::{Outcome, Subject};
use crate::error::MitigateResult;
use crate::model::{
    AuditTask, CheckStatistics, Cursor, ExecStatus, Execution, FindingExecutions, FindingPlan,
    TaskStatus,
};
use crate::sources::Finding;
use crate::{Mitigate, persist};

/// One batch: the findings (or ids that no longer resolve) and where the next one starts.
struct Batch {
    findings: Vec<Result<Finding, String>>,
    next: Cursor,
    done: bool,
}

impl Mitigate {
    pub(crate) fn spawn_audit_task(self: &Arc<Self>, account: &str, task_id: &str) {
        let me = self.clone();
        let (account, task_id) = (account.to_string(), task_id.to_string());
        tokio::spawn(async move {
            if let Err(e) = me.run_audit_task(&account, &task_id).await {
                tracing::error!(%account, %task_id, error = %e, "Audit mitigation task failed.");
                me.finish_audit_task_failed(&account, &task_id).await;
            }
        });
    }

    async fn run_audit_task(&self, account: &str, task_id: &str) -> MitigateResult<()> {
        loop {
            let Some(task) = self.current_task::<AuditTask>(account, task_id).await else {
                return Ok(());
            };
            if task.status != TaskStatus::InProgress {
                return Ok(());
            }
            let batch = self.next_batch(account, &task).await?;
            let records = self.execute(account, &task, &batch.findings).await;
            self.commit_batch(account, task_id, records, batch.next, batch.done)
                .await?;
            if batch.done {
                return Ok(());
            }
        }
    }

    async fn next_batch(&self, account: &str, task: &AuditTask) -> MitigateResult<Batch> {
        let size = self.options.batch.max(1);
        let position = task.cursor.position;
        match &task.plan {
            FindingPlan::Ids(ids) => {
                let end = (position + size).min(ids.len());
                let mut findings = Vec::new();
                for id in &ids[position.min(end)..end] {
                    findings.push(
                        self.findings
                            .finding(account, id)
                            .await?
                            .ok_or_else(|| id.clone()),
                    );
                }
                Ok(Batch {
                    findings,
                    next: Cursor {
                        position: end,
                        after: None,
                    },
                    done: end >= ids.len(),
                })
            }
            FindingPlan::Checks(pairs) => {
                let Some((check, audit_task)) = pairs.get(position) else {
                    return Ok(Batch {
                        findings: Vec::new(),
                        next: task.cursor.clone(),
                        done: true,
                    });
                };
                let (page, token) = self
                    .findings
                    .findings_page(
                        account,
                        audit_task,
                        check,
                        task.cursor.after.as_deref(),
                        size,
                    )
                    .await?;
                let codes = task.reason_filter.get(check);
                let findings = page
                    .into_iter()
                    .filter(|f| &f.check_name == check)
                    .filter(|f| codes.is_none_or(|c| c.contains(&f.reason_code)))
                    .map(Ok)
                    .collect();
                let next = match token {
                    Some(t) => Cursor {
                        position,
                        after: Some(t),
                    },
                    None => Cursor {
                        position: position + 1,
                        after: None,
                    },
                };
                let done = next.position >= pairs.len();
                Ok(Batch {
                    findings,
                    next,
                    done,
                })
            }
        }
    }

    /// Applies the mapped actions to a batch; one record per finding.
    async fn execute(
        &self,
        account: &str,
        task: &AuditTask,
        findings: &[Result<Finding, String>],
    ) -> Vec<(FindingExecutions, ExecStatus)> {
        let definitions: BTreeMap<&str, &StoredAction> =
            task.actions.iter().map(|a| (a.name.as_str(), a)).collect();
        // Per finding: its executions so far and whether one failed.
        let mut records: Vec<(FindingExecutions, bool)> = Vec::with_capacity(findings.len());
        for f in findings {
            let (id, check) = match f {
                Ok(f) => (f.finding_id.clone(), f.check_name.clone()),
                Err(id) => (id.clone(), String::new()),
            };
            records.push((
                FindingExecutions {
                    finding_id: id,
                    check_name: check,
                    executions: Vec::new(),
                },
                false,
            ));
        }
        let now = self.now();
        for (i, f) in findings.iter().enumerate() {
            match f {
                Err(_) => {
                    records[i].0.executions.push(Execution {
                        action_name: String::new(),
                        action_id: String::new(),
                        status: ExecStatus::Failed,
                        start_ms: now,
                        end_ms: now,
                        error_code: Some("ResourceNotFoundException".into()),
                        message: Some("The audit finding no longer exists.".into()),
                    });
                    records[i].1 = true;
                }
                Ok(f) if f.is_suppressed => {
                    for name in task.mapping.get(&f.check_name).into_iter().flatten() {
                        records[i].0.executions.push(execution(
                            name,
                            definitions.get(name.as_str()).copied(),
                            now,
                            now,
                            skipped("The finding is suppressed."),
                        ));
                    }
                }
                Ok(_) => {}
            }
        }
        for step in 0..5 {
            // Findings whose `step`-th action runs now, grouped by action.
            let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, f) in findings.iter().enumerate() {
                let Ok(f) = f else { continue };
                if f.is_suppressed {
                    continue;
                }
                if let Some(name) = task.mapping.get(&f.check_name).and_then(|n| n.get(step)) {
                    groups.entry(name.as_str()).or_default().push(i);
                }
            }
            if groups.is_empty() {
                break;
            }
            for (name, members) in groups {
                let action = definitions.get(name).copied();
                let (run, skip): (Vec<usize>, Vec<usize>) =
                    members.into_iter().partition(|i| !records[*i].1);
                let start = self.now();
                for i in skip {
                    records[i].0.executions.push(execution(
                        name,
                        action,
                        start,
                        start,
                        skipped("An earlier action for this finding failed."),
                    ));
                }
                let outcomes = match action {
                    Some(action) => {
                        let subjects: Vec<Subject<'_>> = run
                            .iter()
                            .filter_map(|i| findings[*i].as_ref().ok().map(Subject::Finding))
                            .collect();
                        self.apply(account, action, &subjects).await
                    }
                    None => run
                        .iter()
                        .map(|_| {
                            Outcome::failed(
                                "ResourceNotFoundException",
                                "The action is not in the task's definitions.",
                            )
                        })
                        .collect(),
                };
                let end = self.now();
                for (i, outcome) in run.into_iter().zip(outcomes) {
                    if outcome.status == ExecStatus::Failed {
                        records[i].1 = true;
                    }
                    records[i]
                        .0
                        .executions
                        .push(execution(name, action, start, end, outcome));
                }
            }
        }
        records
            .into_iter()
            .map(|(record, failed)| {
                let status = if failed {
                    ExecStatus::Failed
                } else if record
                    .executions
                    .iter()
                    .all(|e| e.status == ExecStatus::Skipped)
                    && !record.executions.is_empty()
                {
                    ExecStatus::Skipped
                } else {
                    ExecStatus::Completed
                };
                (record, status)
            })
            .collect()
    }

    /// Stores a batch's executions with the task's new statistics and cursor, in one write;
    /// finishes the task after its last batch. A task canceled meanwhile keeps its status.
    async fn commit_batch(
        &self,
        account: &str,
        task_id: &str,
        records: Vec<(FindingExecutions, ExecStatus)>,
        next: Cursor,
        done: bool,
    ) -> MitigateResult<()> {
        let now = self.now();
        let mut all = self.state.lock().await;
        let Some(mut task) = all
            .get(account)
            .and_then(|s| s.audit_tasks.get(task_id))
            .cloned()
        else {
            return Ok(());
        };
        let mut writes: Vec<DocumentWrite> = Vec::with_capacity(records.len() + 1);
        for (record, status) in &records {
            let check = if record.check_name.is_empty() {
                "UNKNOWN".to_string()
            } else {
                record.check_name.clone()
            };
            let stats: &mut CheckStatistics = task.statistics.entry(check).or_default();
            stats.total_findings_count += 1;
            match status {
                ExecStatus::Completed => stats.succeeded_findings_count += 1,
                ExecStatus::Failed => stats.failed_findings_count += 1,
                ExecStatus::Skipped => stats.skipped_findings_count += 1,
                ExecStatus::Canceled => stats.canceled_findings_count += 1,
            }
            writes.push(persist::put(
                account,
                persist::AUDIT_EXEC,
                &format!("{task_id}/{}", record.finding_id),
                record,
                now,
            ));
        }
        task.cursor = next;
        if done && task.status == TaskStatus::InProgress {
            let failed = task
                .statistics
                .values()
                .any(|s| s.failed_findings_count > 0);
            task.status = if failed {
                TaskStatus::Failed
            } else {
                TaskStatus::Completed
            };
            task.end_ms = Some(now);
        }
        writes.push(persist::put(
            account,
            persist::AUDIT_TASK,
            task_id,
            &task,
            now,
        ));
        self.store.write_documents(&writes).await?;
        metrics::counter!("fleetward_mitigation_findings_total").increment(records.len() as u64);
        if let Some(state) = all.get_mut(account) {
            state.audit_tasks.insert(task_id.to_string(), task);
        }
        Ok(())
    }

    async fn finish_audit_task_failed(&self, account: &str, task_id: &str) {
        let now = self.now();
        let mut all = self.state.lock().await;
        let Some(task) = all
            .get_mut(account)
            .and_then(|s| s.audit_tasks.get_mut(task_id))
        else {
            return;
        };
        if task.status != TaskStatus::InProgress {
            return;
        }
        task.status = TaskStatus::Failed;
        task.end_ms = Some(now);
        let write = persist::put(account, persist::AUDIT_TASK, task_id, &*task, now);
        if let Err(e) = self.store.write_documents(&[write]).await {
            tracing::error!(%task_id, error = %e, "Could not store the failed mitigation task.");
        }
    }
}

fn skipped(message: &str) -> Outcome {
    Outcome {
        status: ExecStatus::Skipped,
        error_code: None,
        message: Some(message.to_string()),
    }
}

fn execution(
    name: &str,
    action: Option<&StoredAction>,
    start_ms: i64,
    end_ms: i64,
    outcome: Outcome,
) -> Execution {
    Execution {
        action_name: name.to_string(),
        action_id: action.map(|a| a.id.clone()).unwrap_or_default(),
        status: outcome.status,
        start_ms,
        end_ms,
        error_code: outcome.error_code,
        message: outcome.message,
    }
}
