//! Finished mitigation tasks and their executions are kept 90 days (spec 4.3, 4.4).

use std::sync::Arc;
use std::time::Duration;

use crate::model::TaskStatus;
use crate::{Mitigate, persist};

pub const RETENTION_MS: i64 = 90 * 86_400_000;
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

impl Mitigate {
    /// Deletes tasks that finished more than 90 days ago, with their executions.
    pub async fn sweep_retention(&self) -> crate::MitigateResult<usize> {
        let cutoff = self.now() - RETENTION_MS;
        let expired = |status: TaskStatus, end: Option<i64>| {
            status != TaskStatus::InProgress && end.is_some_and(|e| e < cutoff)
        };
        let victims: Vec<(String, &'static str, &'static str, String)> = {
            let all = self.state.lock().await;
            let mut out = Vec::new();
            for (account, state) in all.iter() {
                for t in state
                    .audit_tasks
                    .values()
                    .filter(|t| expired(t.status, t.end_ms))
                {
                    out.push((
                        account.clone(),
                        persist::AUDIT_TASK,
                        persist::AUDIT_EXEC,
                        t.task_id.clone(),
                    ));
                }
                for t in state
                    .detect_tasks
                    .values()
                    .filter(|t| expired(t.status, t.end_ms))
                {
                    out.push((
                        account.clone(),
                        persist::DETECT_TASK,
                        persist::DETECT_EXEC,
                        t.task_id.clone(),
                    ));
                }
            }
            out
        };
        for (account, task_kind, exec_kind, id) in &victims {
            persist::delete_prefix(self.store.as_ref(), account, exec_kind, &format!("{id}/"))
                .await?;
            let mut all = self.state.lock().await;
            self.store
                .write_documents(&[persist::delete(account, task_kind, id)])
                .await?;
            if let Some(state) = all.get_mut(account) {
                if *task_kind == persist::AUDIT_TASK {
                    state.audit_tasks.remove(id);
                } else {
                    state.detect_tasks.remove(id);
                }
            }
        }
        Ok(victims.len())
    }

    pub(crate) fn spawn_retention(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = me.sweep_retention().await {
                    tracing::error!(error = %e, "Mitigation retention sweep failed.");
                }
            }
        });
    }
}
