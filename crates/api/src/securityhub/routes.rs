//! The botocore routes (method and `requestUri`) and query-string members of each operation.

use std::collections::HashMap;

use super::Operation::{self, *};
use crate::route::match_template;
use crate::wire::{QueryKind::*, QueryMember, q};

struct Route {
    operation: Operation,
    name: &'static str,
    method: &'static str,
    template: &'static str,
    query: &'static [QueryMember],
}

const PAGING: &[QueryMember] = &[
    q("NextToken", "NextToken", String),
    q("MaxResults", "MaxResults", Integer),
];

macro_rules! route {
    ($op:ident, $method:literal, $template:literal) => {
        route!($op, $method, $template, &[])
    };
    ($op:ident, $method:literal, $template:literal, $query:expr) => {
        Route {
            operation: $op,
            name: stringify!($op),
            method: $method,
            template: $template,
            query: $query,
        }
    };
}

const ROUTES: &[Route] = &[
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

/// The operation a request addresses, its decoded URI labels and its query members.
pub fn resolve(
    method: &str,
    raw_path: &str,
) -> Option<(
    Operation,
    HashMap<&'static str, std::string::String>,
    &'static [QueryMember],
)> {
    ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| match_template(r.template, raw_path).map(|l| (r.operation, l, r.query)))
}

pub fn name(operation: Operation) -> &'static str {
    ROUTES
        .iter()
        .find(|r| r.operation == operation)
        .map(|r| r.name)
        .unwrap_or("Unknown")
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
