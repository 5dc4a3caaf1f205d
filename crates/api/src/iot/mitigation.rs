//! The Device Defender mitigation operations of the `iot` API: their botocore routes and
//! query members, and the dispatch to the mitigation service's `handle_<operation>` methods.

use std::sync::Arc;

use fleetward_mitigate::{Caller, Mitigate};
use serde_json::Value;

use crate::error::ApiError;
use crate::route::{self, Resolved, Route, route};
use crate::wire::{QueryKind::*, q};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateMitigationAction,
    DescribeMitigationAction,
    UpdateMitigationAction,
    DeleteMitigationAction,
    ListMitigationActions,
    StartAuditMitigationActionsTask,
    DescribeAuditMitigationActionsTask,
    ListAuditMitigationActionsTasks,
    CancelAuditMitigationActionsTask,
    ListAuditMitigationActionsExecutions,
    StartDetectMitigationActionsTask,
    DescribeDetectMitigationActionsTask,
    ListDetectMitigationActionsTasks,
    CancelDetectMitigationActionsTask,
    ListDetectMitigationActionsExecutions,
}

use Operation::*;

const ROUTES: &[Route<Operation>] = &[
    route!(
        ListMitigationActions,
        "GET",
        "/mitigationactions/actions",
        &[
            q("actionType", "actionType", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String)
        ]
    ),
    route!(
        CreateMitigationAction,
        "POST",
        "/mitigationactions/actions/{actionName}"
    ),
    route!(
        DescribeMitigationAction,
        "GET",
        "/mitigationactions/actions/{actionName}"
    ),
    route!(
        UpdateMitigationAction,
        "PATCH",
        "/mitigationactions/actions/{actionName}"
    ),
    route!(
        DeleteMitigationAction,
        "DELETE",
        "/mitigationactions/actions/{actionName}"
    ),
    route!(
        ListAuditMitigationActionsTasks,
        "GET",
        "/audit/mitigationactions/tasks",
        &[
            q("auditTaskId", "auditTaskId", String),
            q("findingId", "findingId", String),
            q("taskStatus", "taskStatus", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String),
            q("startTime", "startTime", String),
            q("endTime", "endTime", String)
        ]
    ),
    route!(
        ListAuditMitigationActionsExecutions,
        "GET",
        "/audit/mitigationactions/executions",
        &[
            q("taskId", "taskId", String),
            q("actionStatus", "actionStatus", String),
            q("findingId", "findingId", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String)
        ]
    ),
    route!(
        StartAuditMitigationActionsTask,
        "POST",
        "/audit/mitigationactions/tasks/{taskId}"
    ),
    route!(
        DescribeAuditMitigationActionsTask,
        "GET",
        "/audit/mitigationactions/tasks/{taskId}"
    ),
    route!(
        CancelAuditMitigationActionsTask,
        "PUT",
        "/audit/mitigationactions/tasks/{taskId}/cancel"
    ),
    route!(
        ListDetectMitigationActionsTasks,
        "GET",
        "/detect/mitigationactions/tasks",
        &[
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String),
            q("startTime", "startTime", String),
            q("endTime", "endTime", String)
        ]
    ),
    route!(
        ListDetectMitigationActionsExecutions,
        "GET",
        "/detect/mitigationactions/executions",
        &[
            q("taskId", "taskId", String),
            q("violationId", "violationId", String),
            q("thingName", "thingName", String),
            q("startTime", "startTime", String),
            q("endTime", "endTime", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String)
        ]
    ),
    route!(
        StartDetectMitigationActionsTask,
        "PUT",
        "/detect/mitigationactions/tasks/{taskId}"
    ),
    route!(
        DescribeDetectMitigationActionsTask,
        "GET",
        "/detect/mitigationactions/tasks/{taskId}"
    ),
    route!(
        CancelDetectMitigationActionsTask,
        "PUT",
        "/detect/mitigationactions/tasks/{taskId}/cancel"
    ),
];

/// The mitigation operation a request addresses, if any.
pub fn resolve(method: &str, raw_path: &str) -> Option<Resolved<Operation>> {
    route::resolve(ROUTES, method, raw_path)
}

impl Operation {
    pub fn name(self) -> &'static str {
        route::name(ROUTES, self)
    }
}

/// Calls the mitigation service's handler for `operation`.
pub async fn dispatch(
    mitigate: &Arc<Mitigate>,
    caller: &Caller,
    operation: Operation,
    input: Value,
) -> Result<Value, ApiError> {
    let m = mitigate;
    let input = &input;
    let output = match operation {
        CreateMitigationAction => m.handle_create_mitigation_action(caller, input).await,
        DescribeMitigationAction => m.handle_describe_mitigation_action(caller, input).await,
        UpdateMitigationAction => m.handle_update_mitigation_action(caller, input).await,
        DeleteMitigationAction => m.handle_delete_mitigation_action(caller, input).await,
        ListMitigationActions => m.handle_list_mitigation_actions(caller, input).await,
        StartAuditMitigationActionsTask => {
            m.handle_start_audit_mitigation_actions_task(caller, input)
                .await
        }
        DescribeAuditMitigationActionsTask => {
            m.handle_describe_audit_mitigation_actions_task(caller, input)
                .await
        }
        ListAuditMitigationActionsTasks => {
            m.handle_list_audit_mitigation_actions_tasks(caller, input)
                .await
        }
        CancelAuditMitigationActionsTask => {
            m.handle_cancel_audit_mitigation_actions_task(caller, input)
                .await
        }
        ListAuditMitigationActionsExecutions => {
            m.handle_list_audit_mitigation_actions_executions(caller, input)
                .await
        }
        StartDetectMitigationActionsTask => {
            m.handle_start_detect_mitigation_actions_task(caller, input)
                .await
        }
        DescribeDetectMitigationActionsTask => {
            m.handle_describe_detect_mitigation_actions_task(caller, input)
                .await
        }
        ListDetectMitigationActionsTasks => {
            m.handle_list_detect_mitigation_actions_tasks(caller, input)
                .await
        }
        CancelDetectMitigationActionsTask => {
            m.handle_cancel_detect_mitigation_actions_task(caller, input)
                .await
        }
        ListDetectMitigationActionsExecutions => {
            m.handle_list_detect_mitigation_actions_executions(caller, input)
                .await
        }
    };
    output.map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mitigation_operation_has_one_route() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert(r.operation), "{} twice", r.name);
        }
        assert_eq!(seen.len(), 15);
    }

    #[test]
    fn routes_resolve() {
        let op = |m: &str, p: &str| resolve(m, p).map(|r| r.0);
        assert_eq!(
            op("GET", "/mitigationactions/actions"),
            Some(ListMitigationActions)
        );
        assert_eq!(
            op("POST", "/mitigationactions/actions/a"),
            Some(CreateMitigationAction)
        );
        assert_eq!(
            op("PATCH", "/mitigationactions/actions/a"),
            Some(UpdateMitigationAction)
        );
        assert_eq!(
            op("POST", "/audit/mitigationactions/tasks/t1"),
            Some(StartAuditMitigationActionsTask)
        );
        assert_eq!(
            op("GET", "/audit/mitigationactions/tasks"),
            Some(ListAuditMitigationActionsTasks)
        );
        assert_eq!(
            op("PUT", "/audit/mitigationactions/tasks/t1/cancel"),
            Some(CancelAuditMitigationActionsTask)
        );
        assert_eq!(
            op("PUT", "/detect/mitigationactions/tasks/t1"),
            Some(StartDetectMitigationActionsTask)
        );
        assert_eq!(
            op("GET", "/detect/mitigationactions/executions"),
            Some(ListDetectMitigationActionsExecutions)
        );
        assert!(resolve("GET", "/audit/tasks").is_none());
        assert!(resolve("POST", "/detect/mitigationactions/tasks/t1").is_none());
    }
}
