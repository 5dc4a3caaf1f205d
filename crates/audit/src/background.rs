//! The audit node's background work: resuming interrupted tasks at start, starting scheduled
//! audits when due (a run missed while the node was down runs once at start), delivering
//! finished tasks to the hub and sending audit-report notifications (both retried with
//! back-off until they succeed), and removing tasks and findings older than 90 days.

use std::sync::Arc;
use std::time::Duration;

use crate::Audit;
use crate::model::{Task, TaskStatus, TaskType};
use crate::notify;
use crate::persist;
use crate::scheduled::due_after;
use crate::tasks::{HISTORY_DELAY_MS, ON_DEMAND_LOOKBACK_MS, RETENTION_MS, new_task};

/// How often due schedules are looked for.
const TICK: Duration = Duration::from_secs(1);
/// A notification is given up after this many refusals (the topic may be gone for good).
const MAX_NOTIFY_ATTEMPTS: u32 = 20;
const MAX_NOTIFY_DELAY_MS: i64 = 600_000;
const RETENTION_EVERY_MS: i64 = 3_600_000;

impl Audit {
    /// Resumes tasks that were in progress when the node stopped and starts the background
    /// loops. Call once, after [`Audit::open`].
    pub async fn start(self: &Arc<Self>) {
        let interrupted: Vec<(String, String)> = {
            let all = self.state.lock().await;
            all.iter()
                .flat_map(|(account, s)| {
                    s.tasks
                        .values()
                        .filter(|t| t.status == TaskStatus::InProgress)
                        .map(|t| (account.clone(), t.task_id.clone()))
                })
                .collect()
        };
        for (account, task_id) in interrupted {
            tracing::info!(
                account,
                task_id,
                "Resuming an audit task interrupted by a restart."
            );
            self.spawn_task(&account, &task_id);
        }
        let this = self.clone();
        tokio::spawn(async move { this.schedule_loop().await });
        let this = self.clone();
        tokio::spawn(async move { this.delivery_loop().await });
    }

    async fn schedule_loop(self: Arc<Self>) {
        let mut last_sweep: Option<i64> = None;
        loop {
            if let Err(e) = self.start_due_audits().await {
                tracing::error!(error = %e, "Cannot start a scheduled audit.");
            }
            let now = self.now();
            if last_sweep.is_none_or(|l| now.saturating_sub(l) >= RETENTION_EVERY_MS) {
                last_sweep = Some(now);
                if let Err(e) = self.sweep_retention().await {
                    tracing::error!(error = %e, "Audit retention sweep failed.");
                }
            }
            tokio::time::sleep(TICK).await;
        }
    }

    async fn delivery_loop(self: Arc<Self>) {
        loop {
            // Notifications have their own per-task back-off: a refused report must not hold
            // up the hub.
            if let Err(e) = self.send_notifications().await {
                tracing::warn!(error = %e, "Cannot record an audit notification attempt.");
            }
            // Something waiting on a back-off is looked at again every second.
            let wait = if self.deliver_pending().await {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(5)
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    /// Starts every scheduled audit that is due (once, however many runs were missed).
    pub(crate) async fn start_due_audits(self: &Arc<Self>) -> crate::AuditResult<()> {
        let now = self.now();
        let mut started = Vec::new();
        {
            let mut all = self.state.lock().await;
            for (account, state) in all.iter_mut() {
                let due: Vec<String> = state
                    .scheduled
                    .values()
                    .filter(|s| s.next_run_ms <= now)
                    .map(|s| s.name.clone())
                    .collect();
                for name in due {
                    let Some(mut audit) = state.scheduled.get(&name).cloned() else {
                        continue;
                    };
                    // Checks disabled since (not possible through the API) are left out.
                    let checks: Vec<String> = audit
                        .target_check_names
                        .iter()
                        .filter(|c| state.config.as_ref().is_some_and(|cfg| cfg.enabled(c)))
                        .cloned()
                        .collect();
                    let window_from = audit
                        .last_run_ms
                        .map(|l| l - HISTORY_DELAY_MS)
                        .unwrap_or(now - ON_DEMAND_LOOKBACK_MS);
                    let phase = Some(audit.next_run_ms);
                    audit.last_run_ms = Some(now);
                    audit.next_run_ms = due_after(&audit, phase, now);
                    self.store
                        .write_documents(&[persist::put(
                            account,
                            persist::SCHEDULED,
                            &name,
                            &audit,
                            now,
                        )])
                        .await?;
                    state.scheduled.insert(name.clone(), audit.clone());
                    if checks.is_empty() {
                        continue;
                    }
                    let task = new_task(
                        state,
                        TaskType::Scheduled,
                        &checks,
                        now,
                        Some(&name),
                        Some(&audit.frequency),
                        window_from,
                    );
                    let id = self.insert_task(account, state, task).await?;
                    tracing::info!(
                        account,
                        scheduled_audit = name,
                        task_id = id,
                        "Scheduled audit started."
                    );
                    started.push((account.clone(), id));
                }
            }
        }
        for (account, id) in started {
            self.spawn_task(&account, &id);
        }
        Ok(())
    }

    /// Sends the audit reports of finished tasks that are due for an attempt.
    async fn send_notifications(&self) -> crate::AuditResult<()> {
        let now = self.now();
        let pending: Vec<(String, Task, Option<String>)> = {
            let all = self.state.lock().await;
            all.iter()
                .flat_map(|(account, s)| {
                    let target = s
                        .config
                        .as_ref()
                        .and_then(|c| c.notification_targets.get("SNS"))
                        .filter(|t| t.enabled)
                        .and_then(|t| t.target_arn.clone());
                    s.tasks
                        .values()
                        .filter(|t| t.notify_pending && t.status != TaskStatus::InProgress)
                        .filter(|t| t.notify_next_ms <= now)
                        .map(move |t| (account.clone(), t.clone(), target.clone()))
                })
                .collect()
        };
        for (account, task, topic) in pending {
            let result = match (&self.notifier, &topic) {
                (Some(notifier), Some(topic)) => {
                    let message = notify::report(&account, &task).to_string();
                    notifier
                        .publish(&account, topic, &notify::subject(&task), &message)
                        .await
                }
                // The target was disabled since, or no notification service is connected.
                (None, Some(_)) => Err("no notification service is connected".to_string()),
                (_, None) => Ok(()),
            };
            let mut all = self.state.lock().await;
            let Some(stored) = all
                .get_mut(&account)
                .and_then(|s| s.tasks.get_mut(&task.task_id))
            else {
                continue;
            };
            let mut updated = stored.clone();
            match result {
                Ok(()) => updated.notify_pending = false,
                Err(e) => {
                    updated.notify_attempts += 1;
                    let delay = 1_000i64 << updated.notify_attempts.min(10);
                    updated.notify_next_ms = now + delay.min(MAX_NOTIFY_DELAY_MS);
                    if updated.notify_attempts >= MAX_NOTIFY_ATTEMPTS {
                        tracing::error!(account, task_id = task.task_id, error = %e, "Giving up on an audit notification.");
                        updated.notify_pending = false;
                    } else {
                        tracing::warn!(account, task_id = task.task_id, error = %e, "Audit notification refused; retrying later.");
                    }
                }
            }
            let write = persist::put(&account, persist::TASK, &task.task_id, &updated, now);
            self.store.write_documents(&[write]).await?;
            *stored = updated;
        }
        Ok(())
    }

    /// Removes tasks (with their findings) that started more than 90 days ago.
    pub(crate) async fn sweep_retention(&self) -> crate::AuditResult<usize> {
        let cutoff = self.now() - RETENTION_MS;
        let old: Vec<(String, String)> = {
            let all = self.state.lock().await;
            all.iter()
                .flat_map(|(account, s)| {
                    s.tasks
                        .values()
                        .filter(|t| t.start_ms < cutoff && t.status != TaskStatus::InProgress)
                        .map(|t| (account.clone(), t.task_id.clone()))
                })
                .collect()
        };
        for (account, task_id) in &old {
            persist::delete_prefix(self.store.as_ref(), account, persist::FINDING, task_id).await?;
            persist::delete_prefix(self.store.as_ref(), account, persist::RELATED, task_id).await?;
            let mut all = self.state.lock().await;
            self.store
                .write_documents(&[persist::delete(account, persist::TASK, task_id)])
                .await?;
            if let Some(s) = all.get_mut(account) {
                s.tasks.remove(task_id);
            }
        }
        Ok(old.len())
    }
}
