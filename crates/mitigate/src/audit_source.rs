//! The audit service as a [`FindingSource`]: through its own operations, so mitigation sees
//! exactly what ListAuditFindings and DescribeAuditTask show.

use std::sync::Arc;

use fleetward_audit::{Audit, AuditError, Caller};
use serde_json::{Value, json};

use crate::error::{MitigateError, MitigateResult};
use crate::sources::{AuditTaskInfo, Finding, FindingSource};

/// Audit tasks are kept 90 days; the latest task of a check is looked for in that window.
const RETENTION_MS: i64 = 90 * 86_400_000;

pub struct AuditFindings {
    pub audit: Arc<Audit>,
    pub clock: Arc<dyn fleetward_model::Clock>,
}

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.to_string(),
        identity: "mitigation".to_string(),
    }
}

fn internal(e: AuditError) -> MitigateError {
    match e {
        AuditError::InvalidRequest(m) => MitigateError::InvalidRequest(m),
        other => MitigateError::Internal(format!("audit: {other}")),
    }
}

#[async_trait::async_trait]
impl FindingSource for AuditFindings {
    async fn audit_task(
        &self,
        account: &str,
        task_id: &str,
    ) -> MitigateResult<Option<AuditTaskInfo>> {
        let described = match self
            .audit
            .handle_describe_audit_task(&caller(account), &json!({"taskId": task_id}))
            .await
        {
            Ok(d) => d,
            Err(AuditError::ResourceNotFound(_)) => return Ok(None),
            Err(e) => return Err(internal(e)),
        };
        Ok(Some(AuditTaskInfo {
            status: described["taskStatus"].as_str().unwrap_or("").to_string(),
            start_ms: described["taskStartTime"]
                .as_f64()
                .map(|s| (s * 1000.0).round() as i64)
                .unwrap_or(0),
            checks: described["auditDetails"]
                .as_object()
                .map(|d| d.keys().cloned().collect())
                .unwrap_or_default(),
        }))
    }

    async fn latest_task_with_check(
        &self,
        account: &str,
        check: &str,
    ) -> MitigateResult<Option<String>> {
        let now = self.clock.now_ms();
        let mut token: Option<String> = None;
        loop {
            let mut input = json!({
                "startTime": (now - RETENTION_MS + 60_000) as f64 / 1000.0,
                "endTime": now as f64 / 1000.0,
                "maxResults": 250,
            });
            if let Some(t) = &token {
                input["nextToken"] = json!(t);
            }
            let page = self
                .audit
                .handle_list_audit_tasks(&caller(account), &input)
                .await
                .map_err(internal)?;
            // Newest first.
            for task in page["tasks"].as_array().into_iter().flatten() {
                if task["taskStatus"] == "IN_PROGRESS" {
                    continue;
                }
                let Some(id) = task["taskId"].as_str() else {
                    continue;
                };
                if let Some(info) = self.audit_task(account, id).await?
                    && info.checks.iter().any(|c| c == check)
                {
                    return Ok(Some(id.to_string()));
                }
            }
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(None),
            }
        }
    }

    async fn findings_page(
        &self,
        account: &str,
        task_id: &str,
        check: &str,
        after: Option<&str>,
        limit: usize,
    ) -> MitigateResult<(Vec<Finding>, Option<String>)> {
        let mut input =
            json!({"taskId": task_id, "checkName": check, "maxResults": limit.clamp(1, 250)});
        if let Some(a) = after {
            input["nextToken"] = json!(a);
        }
        let page = self
            .audit
            .handle_list_audit_findings(&caller(account), &input)
            .await
            .map_err(internal)?;
        let findings = page["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Finding::from_wire)
            .collect();
        Ok((findings, page["nextToken"].as_str().map(str::to_string)))
    }

    async fn finding(&self, account: &str, finding_id: &str) -> MitigateResult<Option<Finding>> {
        match self
            .audit
            .handle_describe_audit_finding(&caller(account), &json!({"findingId": finding_id}))
            .await
        {
            Ok(out) => Ok(Finding::from_wire(
                out.get("finding").unwrap_or(&Value::Null),
            )),
            Err(AuditError::ResourceNotFound(_)) => Ok(None),
            Err(e) => Err(internal(e)),
        }
    }
}
