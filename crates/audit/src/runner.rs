//! Runs a task: gathers its inputs, runs its checks in parallel on the blocking pool, stores
//! each check's findings with its details, then completes the task and hands its results to
//! the background worker (hub delivery, notification). Resuming a task after a restart runs
//! its unfinished checks again, after removing what they had stored.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use fleetward_store::DocumentWrite;

use crate::Audit;
use crate::catalog::{self, CheckDef};
use crate::checks::{self, Inputs, Outcome};
use crate::error::AuditResult;
use crate::model::{
    CheckDetails, CheckRunStatus, Delivery, Finding, INLINE_RELATED, Resource, Suppression, Task,
    TaskStatus, check_prefix, finding_id, suppression_key,
};
use crate::persist::{self, RELATED_CHUNK};
use crate::tasks::notification_enabled;

/// Documents per store transaction when writing findings.
const WRITE_BATCH: usize = 5_000;

impl Audit {
    /// Runs (or resumes) a task in the background.
    pub(crate) fn spawn_task(self: &Arc<Self>, account: &str, task_id: &str) {
        let this = self.clone();
        let (account, task_id) = (account.to_string(), task_id.to_string());
        tokio::spawn(async move {
            if let Err(e) = this.run_task(&account, &task_id).await {
                tracing::error!(account, task_id, error = %e, "Audit task failed.");
                this.fail_task(&account, &task_id, &e.to_string()).await;
            }
            this.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&task_id);
            this.wake.notify_one();
        });
    }

    fn cancel_flag(&self, task_id: &str) -> Arc<AtomicBool> {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(task_id.to_string())
            .or_insert_with(|| Arc::new(AtomicBool::new(false)))
            .clone()
    }

    async fn run_task(&self, account: &str, task_id: &str) -> AuditResult<()> {
        let started = std::time::Instant::now();
        let cancel = self.cancel_flag(task_id);
        let (task, pending, suppressions) = {
            let all = self.state.lock().await;
            let Some(state) = all.get(account) else {
                return Ok(());
            };
            let Some(task) = state.tasks.get(task_id) else {
                return Ok(());
            };
            if task.status != TaskStatus::InProgress {
                return Ok(());
            }
            let pending: Vec<String> = task
                .check_names()
                .into_iter()
                .filter(|n| {
                    task.checks
                        .get(n)
                        .is_some_and(|d| d.check_run_status == CheckRunStatus::InProgress)
                })
                .collect();
            let suppressions: BTreeMap<String, Suppression> = state
                .suppressions
                .iter()
                .filter(|(_, s)| s.active_at(task.start_ms))
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect();
            (task.clone(), pending, suppressions)
        };
        // A resumed check starts over: remove whatever it stored before the interruption.
        for name in &pending {
            if let Some((index, _)) = catalog::find(name) {
                let prefix = check_prefix(task_id, index);
                persist::delete_prefix(self.store.as_ref(), account, persist::FINDING, &prefix)
                    .await?;
                persist::delete_prefix(self.store.as_ref(), account, persist::RELATED, &prefix)
                    .await?;
            }
        }
        let inputs = Arc::new(self.build_inputs(account, &task, &pending).await?);
        let inputs_s = started.elapsed().as_secs_f64();
        let outcomes = run_checks(inputs, pending.clone(), cancel.clone()).await;
        let checks_s = started.elapsed().as_secs_f64() - inputs_s;
        for (name, outcome) in pending.iter().zip(outcomes) {
            if cancel.load(Ordering::SeqCst) {
                return Ok(());
            }
            let Some((index, def)) = catalog::find(name) else {
                continue;
            };
            let details = match outcome {
                Ok(outcome) => {
                    self.store_findings(account, &task, index, def, outcome, &suppressions)
                        .await?
                }
                Err(message) => CheckDetails::failed("INTERNAL_FAILURE", &message),
            };
            self.update_check(account, task_id, name, details).await?;
        }
        self.complete_task(account, task_id).await?;
        metrics::histogram!("fleetward_audit_task_seconds").record(started.elapsed().as_secs_f64());
        tracing::info!(
            account,
            task_id,
            seconds = started.elapsed().as_secs_f64(),
            inputs_s,
            checks_s,
            "Audit task completed."
        );
        Ok(())
    }

    /// Stores a check's findings (ids in order, suppressions applied) and returns its details.
    async fn store_findings(
        &self,
        account: &str,
        task: &Task,
        index: usize,
        def: &CheckDef,
        outcome: Outcome,
        suppressions: &BTreeMap<String, Suppression>,
    ) -> AuditResult<CheckDetails> {
        let now = self.now();
        let mut writes: Vec<DocumentWrite> = Vec::new();
        let mut resources = std::collections::HashSet::new();
        let mut suppressed_resources = std::collections::HashSet::new();
        for (seq, found) in outcome.findings.into_iter().enumerate() {
            let id = finding_id(&task.task_id, index, seq as u32);
            let key = found.resource.resource_identifier.key();
            let suppressed = suppressions.contains_key(&suppression_key(
                def.name,
                &found.resource.resource_identifier,
            ));
            if suppressed {
                suppressed_resources.insert(key.clone());
            }
            resources.insert(key);
            let related_total = found.related.len();
            let mut related = found.related;
            let overflow: Vec<Resource> = if related.len() > INLINE_RELATED {
                related.split_off(INLINE_RELATED)
            } else {
                Vec::new()
            };
            // Overflow documents hold every related resource, so paging reads one place.
            if !overflow.is_empty() {
                let all: Vec<&Resource> = related.iter().chain(overflow.iter()).collect();
                for (n, chunk) in all.chunks(RELATED_CHUNK).enumerate() {
                    writes.push(persist::put(
                        account,
                        persist::RELATED,
                        &format!("{id}-{n:06}"),
                        &chunk,
                        now,
                    ));
                }
            }
            let finding = Finding {
                finding_id: id.clone(),
                task_id: task.task_id.clone(),
                check_name: def.name.to_string(),
                task_start_ms: task.start_ms,
                finding_ms: now,
                severity: def.severity.as_str().to_string(),
                non_compliant_resource: found.resource,
                related_resources: related,
                related_total,
                reason_for_non_compliance: found.reason,
                reason_for_non_compliance_code: found.code.to_string(),
                is_suppressed: suppressed,
            };
            writes.push(persist::put(account, persist::FINDING, &id, &finding, now));
            if writes.len() >= WRITE_BATCH {
                self.store.write_documents(&writes).await?;
                writes.clear();
            }
        }
        if !writes.is_empty() {
            self.store.write_documents(&writes).await?;
        }
        let non_compliant = resources.len() as u64;
        let suppressed = suppressed_resources.len() as u64;
        metrics::counter!("fleetward_audit_findings_total").increment(non_compliant);
        Ok(CheckDetails {
            check_run_status: if non_compliant > suppressed {
                CheckRunStatus::CompletedNonCompliant
            } else {
                CheckRunStatus::CompletedCompliant
            },
            total_resources_count: outcome.total.max(non_compliant),
            non_compliant_resources_count: non_compliant,
            suppressed_non_compliant_resources_count: suppressed,
            error_code: None,
            message: None,
        })
    }

    /// Records a check's details, unless the task was canceled meanwhile.
    async fn update_check(
        &self,
        account: &str,
        task_id: &str,
        name: &str,
        details: CheckDetails,
    ) -> AuditResult<()> {
        self.modify_task(account, task_id, |task| {
            task.checks.insert(name.to_string(), details);
            true
        })
        .await
    }

    async fn complete_task(&self, account: &str, task_id: &str) -> AuditResult<()> {
        let notify = {
            let all = self.state.lock().await;
            all.get(account).is_some_and(notification_enabled)
        };
        let end = self.now();
        self.modify_task(account, task_id, |task| {
            let all_failed = task
                .checks
                .values()
                .all(|d| d.check_run_status == CheckRunStatus::Failed);
            task.status = if all_failed {
                TaskStatus::Failed
            } else {
                TaskStatus::Completed
            };
            task.end_ms = Some(end);
            task.hub = Delivery::Pending;
            task.notify_pending = notify;
            true
        })
        .await
    }

    /// Marks every unfinished check of an in-progress task FAILED, and the task FAILED.
    async fn fail_task(&self, account: &str, task_id: &str, message: &str) {
        let end = self.now();
        let notify = {
            let all = self.state.lock().await;
            all.get(account).is_some_and(notification_enabled)
        };
        let result = self
            .modify_task(account, task_id, |task| {
                for d in task.checks.values_mut() {
                    if d.check_run_status == CheckRunStatus::InProgress {
                        *d = CheckDetails::failed("INTERNAL_FAILURE", message);
                    }
                }
                task.status = TaskStatus::Failed;
                task.end_ms = Some(end);
                task.hub = Delivery::Pending;
                task.notify_pending = notify;
                true
            })
            .await;
        if let Err(e) = result {
            tracing::error!(task_id, error = %e, "Cannot record an audit task's failure.");
        }
    }

    /// Applies `change` to an in-progress task and stores it; a task no longer in progress
    /// (canceled) is left alone.
    pub(crate) async fn modify_task(
        &self,
        account: &str,
        task_id: &str,
        change: impl FnOnce(&mut Task) -> bool,
    ) -> AuditResult<()> {
        let mut all = self.state.lock().await;
        let Some(task) = all.get_mut(account).and_then(|s| s.tasks.get_mut(task_id)) else {
            return Ok(());
        };
        if task.status != TaskStatus::InProgress {
            return Ok(());
        }
        let mut updated = task.clone();
        if !change(&mut updated) {
            return Ok(());
        }
        let write = persist::put(account, persist::TASK, task_id, &updated, self.now());
        self.store.write_documents(&[write]).await?;
        *task = updated;
        Ok(())
    }
}

/// Runs the checks on every core (each check is one unit of work), stopping early when the
/// task is canceled; results are in the order of `names`.
async fn run_checks(
    inputs: Arc<Inputs>,
    names: Vec<String>,
    cancel: Arc<AtomicBool>,
) -> Vec<Result<Outcome, String>> {
    let count = names.len();
    let joined = tokio::task::spawn_blocking(move || {
        let next = AtomicUsize::new(0);
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, count.max(1));
        let mut results: Vec<Option<Result<Outcome, String>>> = (0..count).map(|_| None).collect();
        let collected: Vec<Vec<(usize, Result<Outcome, String>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            if i >= count || cancel.load(Ordering::SeqCst) {
                                break;
                            }
                            let result = match catalog::find(&names[i]) {
                                Some((_, def)) => checks::run(def, &inputs),
                                None => Err(format!("Unknown check {}.", names[i])),
                            };
                            mine.push((i, result));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (i, r) in collected.into_iter().flatten() {
            results[i] = Some(r);
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("The check did not run.".into())))
            .collect::<Vec<_>>()
    })
    .await;
    joined.unwrap_or_else(|e| {
        (0..count)
            .map(|_| Err(format!("The checks panicked: {e}")))
            .collect()
    })
}
