//! Running a detect mitigation task: each violation's thing gets the task's actions in
//! order (a failed action skips the later ones for that violation); progress is committed
//! with each violation's executions, so a restart resumes after the last one done.

use std::sync::Arc;

use crate::effects::{Outcome, Subject};
use crate::error::MitigateResult;
use crate::model::{DetectTask, ExecStatus, Execution, TaskStatus, ViolationExecutions};
use crate::{Mitigate, persist};

impl Mitigate {
    pub(crate) fn spawn_detect_task(self: &Arc<Self>, account: &str, task_id: &str) {
        let me = self.clone();
        let (account, task_id) = (account.to_string(), task_id.to_string());
        tokio::spawn(async move {
            if let Err(e) = me.run_detect_task(&account, &task_id).await {
                tracing::error!(%account, %task_id, error = %e, "Detect mitigation task failed.");
            }
        });
    }

    async fn run_detect_task(&self, account: &str, task_id: &str) -> MitigateResult<()> {
        loop {
            let Some(task) = self.current_task::<DetectTask>(account, task_id).await else {
                return Ok(());
            };
            if task.status != TaskStatus::InProgress {
                return Ok(());
            }
            let Some((violation, thing)) = task.plan.get(task.position).cloned() else {
                return self.commit_violation(account, task_id, None).await;
            };
            let mut record = ViolationExecutions {
                violation_id: violation,
                thing_name: thing,
                executions: Vec::new(),
            };
            let mut failed = false;
            for action in &task.actions {
                let start = self.now();
                let outcome = if failed {
                    Outcome {
                        status: ExecStatus::Skipped,
                        error_code: None,
                        message: Some("An earlier action for this violation failed.".into()),
                    }
                } else {
                    let subject = [Subject::Thing(&record.thing_name)];
                    self.apply(account, action, &subject)
                        .await
                        .pop()
                        .unwrap_or_else(|| {
                            Outcome::failed("InternalFailureException", "No outcome.")
                        })
                };
                failed |= outcome.status == ExecStatus::Failed;
                record.executions.push(Execution {
                    action_name: action.name.clone(),
                    action_id: action.id.clone(),
                    status: outcome.status,
                    start_ms: start,
                    end_ms: self.now(),
                    error_code: outcome.error_code,
                    message: outcome.message,
                });
            }
            self.commit_violation(account, task_id, Some(record))
                .await?;
        }
    }

    /// Stores one violation's executions with the task's progress (or, with `None`,
    /// finishes the task).
    async fn commit_violation(
        &self,
        account: &str,
        task_id: &str,
        record: Option<ViolationExecutions>,
    ) -> MitigateResult<()> {
        let now = self.now();
        let mut all = self.state.lock().await;
        let Some(mut task) = all
            .get(account)
            .and_then(|s| s.detect_tasks.get(task_id))
            .cloned()
        else {
            return Ok(());
        };
        let mut writes = Vec::new();
        match &record {
            Some(record) => {
                for e in &record.executions {
                    match e.status {
                        ExecStatus::Completed => task.statistics.actions_executed += 1,
                        ExecStatus::Failed => task.statistics.actions_failed += 1,
                        ExecStatus::Skipped | ExecStatus::Canceled => {
                            task.statistics.actions_skipped += 1;
                        }
                    }
                }
                task.position += 1;
                writes.push(persist::put(
                    account,
                    persist::DETECT_EXEC,
                    &format!("{task_id}/{}", record.violation_id),
                    record,
                    now,
                ));
            }
            None if task.status == TaskStatus::InProgress => {
                task.status = if task.statistics.actions_failed > 0 {
                    TaskStatus::Failed
                } else {
                    TaskStatus::Completed
                };
                task.end_ms = Some(now);
            }
            None => {}
        }
        writes.push(persist::put(
            account,
            persist::DETECT_TASK,
            task_id,
            &task,
            now,
        ));
        self.store.write_documents(&writes).await?;
        if let Some(state) = all.get_mut(account) {
            state.detect_tasks.insert(task_id.to_string(), task);
        }
        Ok(())
    }
}
