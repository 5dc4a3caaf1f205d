//! Delivers finished tasks to the hub, in the order they finished, as the audit product:
//! each finding (archived when suppressed), each previously delivered finding of the same
//! check that this task no longer reports (archived: the resource became compliant), and a
//! summary per check (archived when compliant or when the task was canceled). A canceled
//! task sends only archived summaries: it gives no verdict on its resources.
//!
//! Delivery is idempotent (every record carries the task's end time as `UpdatedAt`, and the
//! hub ignores a re-import that is not newer), so a delivery interrupted by a refusal or a
//! restart is simply done again until the hub accepts all of it; only then is the task marked
//! delivered and the check's "last delivered task" pointer moved.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use fleetward_hub::Hub;
use serde_json::{Value, json};

use crate::asff::{self, Context};
use crate::catalog;
use crate::error::{AuditError, AuditResult};
use crate::model::{CheckRunStatus, Delivery, Finding, Task, TaskStatus, check_prefix};
use crate::{Audit, Caller, persist};

/// Findings per BatchImportFindings call (the API's limit).
const IMPORT_BATCH: usize = 100;
/// Import calls in flight at once.
const IMPORT_CONCURRENCY: usize = 4;
/// The identity recorded in the hub's finding history.
const IDENTITY: &str = "iot-device-defender-audit";

impl Audit {
    /// Delivers every finished, undelivered task, oldest first per account. An account whose
    /// task the hub does not fully accept waits (later tasks too: archiving depends on order)
    /// with its own back-off, so one account's disabled hub holds up no other. Returns
    /// whether something is still waiting.
    pub(crate) async fn deliver_pending(&self) -> bool {
        let pending: Vec<(String, Task)> = {
            let all = self.state.lock().await;
            let mut list: Vec<(String, Task)> = all
                .iter()
                .flat_map(|(account, s)| {
                    s.tasks
                        .values()
                        .filter(|t| {
                            t.hub == Delivery::Pending && t.status != TaskStatus::InProgress
                        })
                        .map(|t| (account.clone(), t.clone()))
                })
                .collect();
            list.sort_by_key(|(_, t)| (t.end_ms.unwrap_or(t.start_ms), t.start_ms));
            list
        };
        let mut waiting = false;
        let mut blocked: HashSet<String> = HashSet::new();
        for (account, task) in pending {
            if blocked.contains(&account) || !self.backoff.due(&account) {
                blocked.insert(account);
                waiting = true;
                continue;
            }
            match self.deliver_task(&account, &task).await {
                Ok(()) => self.backoff.succeeded(&account),
                Err(e) => {
                    let retry_in = self.backoff.failed(&account);
                    tracing::warn!(account, task_id = task.task_id, error = %e, ?retry_in,
                        "Audit results not delivered to the hub; retrying.");
                    blocked.insert(account);
                    waiting = true;
                }
            }
        }
        waiting
    }

    async fn deliver_task(&self, account: &str, task: &Task) -> AuditResult<()> {
        let updated = task.end_ms.unwrap_or(task.start_ms);
        let ctx = Context {
            account_id: account,
            region: &self.region,
            console_base_url: &self.options.console_base_url,
            task,
        };
        let (pointers, tasks): (BTreeMap<String, String>, BTreeMap<String, Task>) = {
            let all = self.state.lock().await;
            all.get(account)
                .map(|s| (s.hub_pointer.clone(), s.tasks.clone()))
                .unwrap_or_default()
        };
        let mut moved = Vec::new();
        for name in task.check_names() {
            let (Some((index, def)), Some(details)) =
                (catalog::find(&name), task.checks.get(&name))
            else {
                continue;
            };
            let mut records: Vec<Value> = Vec::new();
            let completed =
                task.status != TaskStatus::Canceled && details.check_run_status.is_completed();
            if completed {
                let current = self.findings_of(account, &task.task_id, index).await?;
                let ids: HashSet<String> = current
                    .iter()
                    .map(|f| asff::finding_id(account, f))
                    .collect();
                for f in &current {
                    records.push(asff::finding(&ctx, def, f, updated, f.is_suppressed));
                }
                if let Some(previous) = pointers.get(&name).filter(|p| *p != &task.task_id) {
                    let before = self.findings_of(account, previous, index).await?;
                    for f in before.iter().filter(|f| !f.is_suppressed) {
                        if ids.contains(&asff::finding_id(account, f)) {
                            continue;
                        }
                        // Shown as the earlier task reported it, now archived.
                        let earlier = tasks.get(previous).unwrap_or(task);
                        let earlier_ctx = Context {
                            task: earlier,
                            ..ctx
                        };
                        records.push(asff::finding(&earlier_ctx, def, f, updated, true));
                    }
                }
                moved.push(name.clone());
            }
            let active = task.status != TaskStatus::Canceled
                && matches!(
                    details.check_run_status,
                    CheckRunStatus::CompletedNonCompliant | CheckRunStatus::Failed
                );
            records.push(asff::summary(&ctx, def, details, updated, !active));
            import_all(&self.hub, account, records).await?;
        }
        let mut all = self.state.lock().await;
        let state = all.entry(account.to_string()).or_default();
        let mut writes = Vec::new();
        for name in &moved {
            writes.push(persist::put(
                account,
                persist::HUB_POINTER,
                name,
                &task.task_id,
                self.now(),
            ));
        }
        let mut done = state
            .tasks
            .get(&task.task_id)
            .cloned()
            .unwrap_or_else(|| task.clone());
        done.hub = Delivery::Delivered;
        writes.push(persist::put(
            account,
            persist::TASK,
            &task.task_id,
            &done,
            self.now(),
        ));
        self.store.write_documents(&writes).await?;
        for name in moved {
            state.hub_pointer.insert(name, task.task_id.clone());
        }
        state.tasks.insert(task.task_id.clone(), done);
        metrics::counter!("fleetward_audit_tasks_delivered_total").increment(1);
        Ok(())
    }

    /// Every finding of one check of a task, in id order.
    async fn findings_of(
        &self,
        account: &str,
        task_id: &str,
        check_index: usize,
    ) -> AuditResult<Vec<Finding>> {
        let prefix = check_prefix(task_id, check_index);
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = persist::prefix_page(
                self.store.as_ref(),
                account,
                persist::FINDING,
                &prefix,
                after.as_deref(),
                5_000,
            )
            .await?;
            let done = page.len() < 5_000;
            for doc in &page {
                out.push(persist::decode(doc)?);
            }
            match page.last() {
                Some(last) if !done => after = Some(last.key.clone()),
                _ => return Ok(out),
            }
        }
    }
}

/// Imports records in batches, several at once; any refusal fails the whole delivery.
async fn import_all(hub: &Arc<Hub>, account: &str, records: Vec<Value>) -> AuditResult<()> {
    let mut batches: Vec<Vec<Value>> = Vec::new();
    let mut iter = records.into_iter().peekable();
    while iter.peek().is_some() {
        batches.push(iter.by_ref().take(IMPORT_BATCH).collect());
    }
    let mut running = tokio::task::JoinSet::new();
    let caller = Caller {
        account_id: account.to_string(),
        identity: IDENTITY.to_string(),
    };
    let mut first_error: Option<String> = None;
    for batch in batches {
        while running.len() >= IMPORT_CONCURRENCY {
            if let Some(Err(e)) = running.join_next().await.map(flatten) {
                first_error.get_or_insert(e);
            }
        }
        if first_error.is_some() {
            break;
        }
        let (hub, caller) = (hub.clone(), caller.clone());
        running.spawn(async move { import_batch(&hub, &caller, batch).await });
    }
    while let Some(result) = running.join_next().await {
        if let Err(e) = flatten(result) {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(AuditError::Internal(format!(
            "the hub did not accept the audit findings: {e}"
        ))),
        None => Ok(()),
    }
}

fn flatten(result: Result<Result<(), String>, tokio::task::JoinError>) -> Result<(), String> {
    result.map_err(|e| e.to_string()).and_then(|r| r)
}

async fn import_batch(hub: &Hub, caller: &Caller, batch: Vec<Value>) -> Result<(), String> {
    let output = hub
        .handle_batch_import_findings(caller, json!({"Findings": batch}))
        .await
        .map_err(|e| e.to_string())?;
    let failed = output
        .get("FailedCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if failed > 0 {
        let first = output
            .get("FailedFindings")
            .and_then(|f| f.get(0))
            .map(Value::to_string)
            .unwrap_or_default();
        return Err(format!("{failed} findings refused, e.g. {first}"));
    }
    Ok(())
}

/// Per-account delivery back-off: 1 s after a refusal, doubling up to a minute.
#[derive(Default)]
pub(crate) struct Backoff {
    accounts: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, std::time::Duration)>,
    >,
}

impl Backoff {
    const MAX: std::time::Duration = std::time::Duration::from_secs(60);

    fn due(&self, account: &str) -> bool {
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts
            .get(account)
            .is_none_or(|(next, _)| std::time::Instant::now() >= *next)
    }

    fn succeeded(&self, account: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }

    fn failed(&self, account: &str) -> std::time::Duration {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        let delay = accounts
            .get(account)
            .map_or(std::time::Duration::from_secs(1), |(_, d)| {
                (*d * 2).min(Self::MAX)
            });
        accounts.insert(
            account.to_string(),
            (std::time::Instant::now() + delay, delay),
        );
        delay
    }
}
