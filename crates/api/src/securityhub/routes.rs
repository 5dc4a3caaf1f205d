//! The botocore routes (method and `requestUri`) and query-string members of each operation.

use super::Operation::{self, *};
use crate::route::{self, Resolved, Route, route};
use crate::wire::{QueryKind::*, QueryMember, q};

const PAGING: &[QueryMember] = &[
    q("NextToken", "NextToken", String),
    q("MaxResults", "MaxResults", Integer),
];

const ROUTES: &[Route<Operation>] = &[
    route!(EnableSecurityHub, "POST", "/accounts"),
    route!(DisableSecurityHub, "DELETE", "/accounts"),
    route!(
        DescribeHub,
        "GET",
        "/accounts",
        &[q("HubArn", "HubArn", String)]
    ),
    route!(UpdateSecurityHubConfiguration, "PATCH", "/accounts"),
    route!(
        DescribeProducts,
        "GET",
        "/products",
        &[
            q("NextToken", "NextToken", String),
            q("MaxResults", "MaxResults", Integer),
            q("ProductArn", "ProductArn", String),
        ]
    ),
    route!(
        EnableImportFindingsForProduct,
        "POST",
        "/productSubscriptions"
    ),
    route!(
        DisableImportFindingsForProduct,
        "DELETE",
        "/productSubscriptions/{ProductSubscriptionArn+}"
    ),
    route!(
        ListEnabledProductsForImport,
        "GET",
        "/productSubscriptions",
        PAGING
    ),
    route!(BatchImportFindings, "POST", "/findings/import"),
    route!(GetFindings, "POST", "/findings"),
    route!(BatchUpdateFindings, "PATCH", "/findings/batchupdate"),
    route!(UpdateFindings, "PATCH", "/findings"),
    route!(GetFindingHistory, "POST", "/findingHistory/get"),
    route!(CreateInsight, "POST", "/insights"),
    route!(GetInsights, "POST", "/insights/get"),
    route!(GetInsightResults, "GET", "/insights/results/{InsightArn+}"),
    route!(UpdateInsight, "PATCH", "/insights/{InsightArn+}"),
    route!(DeleteInsight, "DELETE", "/insights/{InsightArn+}"),
    route!(CreateActionTarget, "POST", "/actionTargets"),
    route!(DescribeActionTargets, "POST", "/actionTargets/get"),
    route!(
        UpdateActionTarget,
        "PATCH",
        "/actionTargets/{ActionTargetArn+}"
    ),
    route!(
        DeleteActionTarget,
        "DELETE",
        "/actionTargets/{ActionTargetArn+}"
    ),
    route!(CreateAutomationRule, "POST", "/automationrules/create"),
    route!(BatchGetAutomationRules, "POST", "/automationrules/get"),
    route!(ListAutomationRules, "GET", "/automationrules/list", PAGING),
    route!(
        BatchUpdateAutomationRules,
        "PATCH",
        "/automationrules/update"
    ),
    route!(
        BatchDeleteAutomationRules,
        "POST",
        "/automationrules/delete"
    ),
    route!(TagResource, "POST", "/tags/{ResourceArn}"),
    route!(
        UntagResource,
        "DELETE",
        "/tags/{ResourceArn}",
        &[q("tagKeys", "TagKeys", StringList)]
    ),
    route!(ListTagsForResource, "GET", "/tags/{ResourceArn}"),
];

/// The operation a request addresses, its decoded URI labels and its query/header members.
pub fn resolve(method: &str, raw_path: &str) -> Option<Resolved<Operation>> {
    route::resolve(ROUTES, method, raw_path)
}

pub fn name(operation: Operation) -> &'static str {
    route::name(ROUTES, operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_one_route() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert(r.operation), "{} twice", r.name);
        }
        assert_eq!(seen.len(), 30);
    }

    #[test]
    fn resolves_by_method_and_path() {
        assert_eq!(resolve("POST", "/findings").unwrap().0, GetFindings);
        assert_eq!(
            resolve("POST", "/findings/import").unwrap().0,
            BatchImportFindings
        );
        assert_eq!(resolve("PATCH", "/findings").unwrap().0, UpdateFindings);
        assert_eq!(
            resolve("GET", "/insights/results/arn%3Aaws%3Ax/y")
                .unwrap()
                .0,
            GetInsightResults
        );
        assert_eq!(
            resolve("DELETE", "/insights/arn%3Aaws%3Ax/y").unwrap().0,
            DeleteInsight
        );
        assert!(resolve("PUT", "/findings").is_none());
        assert!(resolve("GET", "/nothing").is_none());
    }
}
