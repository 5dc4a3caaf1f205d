//! The Device Defender audit operations of the `iot` API: their botocore routes and query
//! members, and the dispatch to the audit service's `handle_<operation>` methods.

use std::sync::Arc;

use fleetward_audit::{Audit, Caller};
use serde_json::Value;

use crate::error::ApiError;
use crate::route::{self, Resolved, Route, route};
use crate::wire::{QueryKind::*, q};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    UpdateAccountAuditConfiguration,
    DescribeAccountAuditConfiguration,
    DeleteAccountAuditConfiguration,
    StartOnDemandAuditTask,
    CancelAuditTask,
    DescribeAuditTask,
    ListAuditTasks,
    ListAuditFindings,
    DescribeAuditFinding,
    ListRelatedResourcesForAuditFinding,
    CreateScheduledAudit,
    DescribeScheduledAudit,
    UpdateScheduledAudit,
    DeleteScheduledAudit,
    ListScheduledAudits,
    CreateAuditSuppression,
    DescribeAuditSuppression,
    UpdateAuditSuppression,
    DeleteAuditSuppression,
    ListAuditSuppressions,
}

use Operation::*;

const ROUTES: &[Route<Operation>] = &[
    route!(
        UpdateAccountAuditConfiguration,
        "PATCH",
        "/audit/configuration"
    ),
    route!(
        DescribeAccountAuditConfiguration,
        "GET",
        "/audit/configuration"
    ),
    route!(
        DeleteAccountAuditConfiguration,
        "DELETE",
        "/audit/configuration",
        &[q("deleteScheduledAudits", "deleteScheduledAudits", Boolean)]
    ),
    route!(StartOnDemandAuditTask, "POST", "/audit/tasks"),
    route!(
        ListAuditTasks,
        "GET",
        "/audit/tasks",
        &[
            q("startTime", "startTime", String),
            q("endTime", "endTime", String),
            q("taskType", "taskType", String),
            q("taskStatus", "taskStatus", String),
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(ListAuditFindings, "POST", "/audit/findings"),
    route!(
        ListRelatedResourcesForAuditFinding,
        "GET",
        "/audit/relatedResources",
        &[
            q("findingId", "findingId", String),
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(
        ListScheduledAudits,
        "GET",
        "/audit/scheduledaudits",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(CreateAuditSuppression, "POST", "/audit/suppressions/create"),
    route!(
        DescribeAuditSuppression,
        "POST",
        "/audit/suppressions/describe"
    ),
    route!(
        UpdateAuditSuppression,
        "PATCH",
        "/audit/suppressions/update"
    ),
    route!(DeleteAuditSuppression, "POST", "/audit/suppressions/delete"),
    route!(ListAuditSuppressions, "POST", "/audit/suppressions/list"),
    route!(DescribeAuditTask, "GET", "/audit/tasks/{taskId}"),
    route!(CancelAuditTask, "PUT", "/audit/tasks/{taskId}/cancel"),
    route!(DescribeAuditFinding, "GET", "/audit/findings/{findingId}"),
    route!(
        CreateScheduledAudit,
        "POST",
        "/audit/scheduledaudits/{scheduledAuditName}"
    ),
    route!(
        DescribeScheduledAudit,
        "GET",
        "/audit/scheduledaudits/{scheduledAuditName}"
    ),
    route!(
        UpdateScheduledAudit,
        "PATCH",
        "/audit/scheduledaudits/{scheduledAuditName}"
    ),
    route!(
        DeleteScheduledAudit,
        "DELETE",
        "/audit/scheduledaudits/{scheduledAuditName}"
    ),
];

/// The audit operation a request addresses, if any.
pub fn resolve(method: &str, raw_path: &str) -> Option<Resolved<Operation>> {
    route::resolve(ROUTES, method, raw_path)
}

impl Operation {
    pub fn name(self) -> &'static str {
        route::name(ROUTES, self)
    }
}

/// Calls the audit service's handler for `operation`.
pub async fn dispatch(
    audit: &Arc<Audit>,
    caller: &Caller,
    operation: Operation,
    input: Value,
) -> Result<Value, ApiError> {
    let input = &input;
    let output = match operation {
        UpdateAccountAuditConfiguration => {
            audit
                .handle_update_account_audit_configuration(caller, input)
                .await
        }
        DescribeAccountAuditConfiguration => {
            audit
                .handle_describe_account_audit_configuration(caller, input)
                .await
        }
        DeleteAccountAuditConfiguration => {
            audit
                .handle_delete_account_audit_configuration(caller, input)
                .await
        }
        StartOnDemandAuditTask => audit.handle_start_on_demand_audit_task(caller, input).await,
        CancelAuditTask => audit.handle_cancel_audit_task(caller, input).await,
        DescribeAuditTask => audit.handle_describe_audit_task(caller, input).await,
        ListAuditTasks => audit.handle_list_audit_tasks(caller, input).await,
        ListAuditFindings => audit.handle_list_audit_findings(caller, input).await,
        DescribeAuditFinding => audit.handle_describe_audit_finding(caller, input).await,
        ListRelatedResourcesForAuditFinding => {
            audit
                .handle_list_related_resources_for_audit_finding(caller, input)
                .await
        }
        CreateScheduledAudit => audit.handle_create_scheduled_audit(caller, input).await,
        DescribeScheduledAudit => audit.handle_describe_scheduled_audit(caller, input).await,
        UpdateScheduledAudit => audit.handle_update_scheduled_audit(caller, input).await,
        DeleteScheduledAudit => audit.handle_delete_scheduled_audit(caller, input).await,
        ListScheduledAudits => audit.handle_list_scheduled_audits(caller, input).await,
        CreateAuditSuppression => audit.handle_create_audit_suppression(caller, input).await,
        DescribeAuditSuppression => audit.handle_describe_audit_suppression(caller, input).await,
        UpdateAuditSuppression => audit.handle_update_audit_suppression(caller, input).await,
        DeleteAuditSuppression => audit.handle_delete_audit_suppression(caller, input).await,
        ListAuditSuppressions => audit.handle_list_audit_suppressions(caller, input).await,
    };
    output.map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_operation_has_one_route() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert(r.operation), "{} twice", r.name);
        }
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn routes_resolve() {
        assert_eq!(
            resolve("POST", "/audit/tasks").unwrap().0,
            StartOnDemandAuditTask
        );
        assert_eq!(resolve("GET", "/audit/tasks").unwrap().0, ListAuditTasks);
        assert_eq!(
            resolve("GET", "/audit/tasks/abc").unwrap().0,
            DescribeAuditTask
        );
        assert_eq!(
            resolve("PUT", "/audit/tasks/abc/cancel").unwrap().0,
            CancelAuditTask
        );
        assert_eq!(
            resolve("POST", "/audit/suppressions/list").unwrap().0,
            ListAuditSuppressions
        );
        assert_eq!(
            resolve("PATCH", "/audit/scheduledaudits/daily").unwrap().0,
            UpdateScheduledAudit
        );
        assert!(resolve("GET", "/audit/nothing").is_none());
        assert!(resolve("GET", "/things").is_none());
    }
}
