//! Finding retention (spec 1.6): active findings are deleted 90 days after their last update,
//! archived ones after 30 days; finding history is kept for 90 days.

use crate::Hub;
use crate::error::HubResult;

const DAY_MS: i64 = 24 * 3600 * 1000;
pub const ACTIVE_RETENTION_MS: i64 = 90 * DAY_MS;
pub const ARCHIVED_RETENTION_MS: i64 = 30 * DAY_MS;

/// What one retention sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetentionReport {
    pub findings_deleted: u64,
    pub history_deleted: u64,
}

impl Hub {
    /// Deletes findings and history past their retention at the clock's now.
    pub async fn sweep_retention(&self) -> HubResult<RetentionReport> {
        let _guard = self.write_lock.lock().await;
        let now = self.clock.now_ms();
        let expired = self
            .read_index()
            .expired(now, ACTIVE_RETENTION_MS, ARCHIVED_RETENTION_MS);
        let seqs: Vec<i64> = expired.iter().map(|(_, seq)| *seq).collect();
        let mut report = RetentionReport::default();
        for chunk in seqs.chunks(1_000) {
            report.findings_deleted += self.store.delete_findings(chunk).await?;
            report.history_deleted += self.store.delete_history_of(chunk).await?;
        }
        {
            let mut index = self.write_index();
            for (account_id, seq) in &expired {
                index.remove(account_id, *seq);
            }
            metrics::gauge!("fleetward_hub_findings_stored").set(index.len() as f64);
        }
        report.history_deleted = self
            .store
            .delete_history_before(now - ACTIVE_RETENTION_MS)
            .await?;
        if report.findings_deleted > 0 {
            tracing::info!(
                findings = report.findings_deleted,
                history = report.history_deleted,
                "Retention sweep deleted expired findings."
            );
        }
        Ok(report)
    }
}
