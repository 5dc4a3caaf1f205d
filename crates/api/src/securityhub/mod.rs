//! The `securityhub` (2018-10-26) rest-json surface: the operations Fleetward implements,
//! their botocore routes, and the dispatch to the hub's `handle_<operation>` methods.

mod routes;

use fleetward_hub::{Caller, Hub};
use serde_json::Value;

use crate::error::ApiError;
pub use routes::resolve;

/// Security Hub operations, named exactly as in the AWS API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    // ---- Hub ----
    EnableSecurityHub,
    DisableSecurityHub,
    DescribeHub,
    UpdateSecurityHubConfiguration,
    // ---- Products ----
    DescribeProducts,
    EnableImportFindingsForProduct,
    DisableImportFindingsForProduct,
    ListEnabledProductsForImport,
    // ---- Findings ----
    BatchImportFindings,
    GetFindings,
    BatchUpdateFindings,
    UpdateFindings,
    GetFindingHistory,
    // ---- Insights ----
    CreateInsight,
    GetInsights,
    GetInsightResults,
    UpdateInsight,
    DeleteInsight,
    // ---- Action targets ----
    CreateActionTarget,
    DescribeActionTargets,
    UpdateActionTarget,
    DeleteActionTarget,
    // ---- Automation rules ----
    CreateAutomationRule,
    BatchGetAutomationRules,
    ListAutomationRules,
    BatchUpdateAutomationRules,
    BatchDeleteAutomationRules,
    // ---- Tags ----
    TagResource,
    UntagResource,
    ListTagsForResource,
}

impl Operation {
    pub fn name(self) -> &'static str {
        routes::name(self)
    }
}

/// Calls the hub's handler for `operation`.
pub async fn dispatch(
    hub: &Hub,
    caller: &Caller,
    operation: Operation,
    input: Value,
) -> Result<Value, ApiError> {
    use Operation::*;
    let output = match operation {
        EnableSecurityHub => hub.handle_enable_security_hub(caller, &input).await,
        DisableSecurityHub => hub.handle_disable_security_hub(caller).await,
        DescribeHub => hub.handle_describe_hub(caller, &input).await,
        UpdateSecurityHubConfiguration => {
            hub.handle_update_security_hub_configuration(caller, &input)
                .await
        }
        DescribeProducts => hub.handle_describe_products(caller, &input).await,
        EnableImportFindingsForProduct => {
            hub.handle_enable_import_findings_for_product(caller, &input)
                .await
        }
        DisableImportFindingsForProduct => {
            hub.handle_disable_import_findings_for_product(caller, &input)
                .await
        }
        ListEnabledProductsForImport => {
            hub.handle_list_enabled_products_for_import(caller, &input)
                .await
        }
        BatchImportFindings => hub.handle_batch_import_findings(caller, input).await,
        GetFindings => hub.handle_get_findings(caller, &input).await,
        BatchUpdateFindings => hub.handle_batch_update_findings(caller, &input).await,
        UpdateFindings => hub.handle_update_findings(caller, &input).await,
        GetFindingHistory => hub.handle_get_finding_history(caller, &input).await,
        CreateInsight => hub.handle_create_insight(caller, &input).await,
        GetInsights => hub.handle_get_insights(caller, &input).await,
        GetInsightResults => hub.handle_get_insight_results(caller, &input).await,
        UpdateInsight => hub.handle_update_insight(caller, &input).await,
        DeleteInsight => hub.handle_delete_insight(caller, &input).await,
        CreateActionTarget => hub.handle_create_action_target(caller, &input).await,
        DescribeActionTargets => hub.handle_describe_action_targets(caller, &input).await,
        UpdateActionTarget => hub.handle_update_action_target(caller, &input).await,
        DeleteActionTarget => hub.handle_delete_action_target(caller, &input).await,
        CreateAutomationRule => hub.handle_create_automation_rule(caller, &input).await,
        BatchGetAutomationRules => hub.handle_batch_get_automation_rules(caller, &input).await,
        ListAutomationRules => hub.handle_list_automation_rules(caller, &input).await,
        BatchUpdateAutomationRules => {
            hub.handle_batch_update_automation_rules(caller, &input)
                .await
        }
        BatchDeleteAutomationRules => {
            hub.handle_batch_delete_automation_rules(caller, &input)
                .await
        }
        TagResource => hub.handle_tag_resource(caller, &input).await,
        UntagResource => hub.handle_untag_resource(caller, &input).await,
        ListTagsForResource => hub.handle_list_tags_for_resource(caller, &input).await,
    };
    output.map_err(ApiError::from)
}
