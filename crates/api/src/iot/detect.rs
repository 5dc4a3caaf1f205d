//! The Device Defender detect operations of the `iot` API: their botocore routes and query
//! members, and the dispatch to the detect service's `handle_<operation>` methods.
//! (ListMetricValues stays with the registry, which reads the stored datapoints.)

use std::sync::Arc;

use fleetward_detect::{Caller, Detect};
use serde_json::Value;

use crate::error::ApiError;
use crate::route::{self, Resolved, Route, route};
use crate::wire::{QueryKind::*, q};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateSecurityProfile,
    DescribeSecurityProfile,
    UpdateSecurityProfile,
    DeleteSecurityProfile,
    ListSecurityProfiles,
    AttachSecurityProfile,
    DetachSecurityProfile,
    ListTargetsForSecurityProfile,
    ListSecurityProfilesForTarget,
    ValidateSecurityProfileBehaviors,
    CreateCustomMetric,
    DescribeCustomMetric,
    UpdateCustomMetric,
    DeleteCustomMetric,
    ListCustomMetrics,
    CreateDimension,
    DescribeDimension,
    UpdateDimension,
    DeleteDimension,
    ListDimensions,
    ListActiveViolations,
    ListViolationEvents,
    PutVerificationStateOnViolation,
    GetBehaviorModelTrainingSummaries,
}

use Operation::*;

const PAGE: [crate::wire::QueryMember; 2] = [
    q("nextToken", "nextToken", String),
    q("maxResults", "maxResults", Integer),
];

const ROUTES: &[Route<Operation>] = &[
    route!(
        ListSecurityProfiles,
        "GET",
        "/security-profiles",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer),
            q("dimensionName", "dimensionName", String),
            q("metricName", "metricName", String)
        ]
    ),
    route!(
        AttachSecurityProfile,
        "PUT",
        "/security-profiles/{securityProfileName}/targets",
        &[q(
            "securityProfileTargetArn",
            "securityProfileTargetArn",
            String
        )]
    ),
    route!(
        DetachSecurityProfile,
        "DELETE",
        "/security-profiles/{securityProfileName}/targets",
        &[q(
            "securityProfileTargetArn",
            "securityProfileTargetArn",
            String
        )]
    ),
    route!(
        ListTargetsForSecurityProfile,
        "GET",
        "/security-profiles/{securityProfileName}/targets",
        &PAGE
    ),
    route!(
        CreateSecurityProfile,
        "POST",
        "/security-profiles/{securityProfileName}"
    ),
    route!(
        DescribeSecurityProfile,
        "GET",
        "/security-profiles/{securityProfileName}"
    ),
    route!(
        UpdateSecurityProfile,
        "PATCH",
        "/security-profiles/{securityProfileName}",
        &[q("expectedVersion", "expectedVersion", Integer)]
    ),
    route!(
        DeleteSecurityProfile,
        "DELETE",
        "/security-profiles/{securityProfileName}",
        &[q("expectedVersion", "expectedVersion", Integer)]
    ),
    route!(
        ListSecurityProfilesForTarget,
        "GET",
        "/security-profiles-for-target",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer),
            q("recursive", "recursive", Boolean),
            q(
                "securityProfileTargetArn",
                "securityProfileTargetArn",
                String
            )
        ]
    ),
    route!(
        ValidateSecurityProfileBehaviors,
        "POST",
        "/security-profile-behaviors/validate"
    ),
    route!(ListCustomMetrics, "GET", "/custom-metrics", &PAGE),
    route!(CreateCustomMetric, "POST", "/custom-metric/{metricName}"),
    route!(DescribeCustomMetric, "GET", "/custom-metric/{metricName}"),
    route!(UpdateCustomMetric, "PATCH", "/custom-metric/{metricName}"),
    route!(DeleteCustomMetric, "DELETE", "/custom-metric/{metricName}"),
    route!(ListDimensions, "GET", "/dimensions", &PAGE),
    route!(CreateDimension, "POST", "/dimensions/{name}"),
    route!(DescribeDimension, "GET", "/dimensions/{name}"),
    route!(UpdateDimension, "PATCH", "/dimensions/{name}"),
    route!(DeleteDimension, "DELETE", "/dimensions/{name}"),
    route!(
        ListActiveViolations,
        "GET",
        "/active-violations",
        &[
            q("thingName", "thingName", String),
            q("securityProfileName", "securityProfileName", String),
            q("behaviorCriteriaType", "behaviorCriteriaType", String),
            q("listSuppressedAlerts", "listSuppressedAlerts", Boolean),
            q("verificationState", "verificationState", String),
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(
        ListViolationEvents,
        "GET",
        "/violation-events",
        &[
            q("startTime", "startTime", String),
            q("endTime", "endTime", String),
            q("thingName", "thingName", String),
            q("securityProfileName", "securityProfileName", String),
            q("behaviorCriteriaType", "behaviorCriteriaType", String),
            q("listSuppressedAlerts", "listSuppressedAlerts", Boolean),
            q("verificationState", "verificationState", String),
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(
        PutVerificationStateOnViolation,
        "POST",
        "/violations/verification-state/{violationId}"
    ),
    route!(
        GetBehaviorModelTrainingSummaries,
        "GET",
        "/behavior-model-training/summaries",
        &[
            q("securityProfileName", "securityProfileName", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String)
        ]
    ),
];

/// The detect operation a request addresses, if any.
pub fn resolve(method: &str, raw_path: &str) -> Option<Resolved<Operation>> {
    route::resolve(ROUTES, method, raw_path)
}

impl Operation {
    pub fn name(self) -> &'static str {
        route::name(ROUTES, self)
    }
}

/// Calls the detect service's handler for `operation`.
pub async fn dispatch(
    detect: &Arc<Detect>,
    caller: &Caller,
    operation: Operation,
    input: Value,
) -> Result<Value, ApiError> {
    let (d, c, i) = (detect, caller, &input);
    let output = match operation {
        CreateSecurityProfile => d.handle_create_security_profile(c, i).await,
        DescribeSecurityProfile => d.handle_describe_security_profile(c, i).await,
        UpdateSecurityProfile => d.handle_update_security_profile(c, i).await,
        DeleteSecurityProfile => d.handle_delete_security_profile(c, i).await,
        ListSecurityProfiles => d.handle_list_security_profiles(c, i).await,
        AttachSecurityProfile => d.handle_attach_security_profile(c, i).await,
        DetachSecurityProfile => d.handle_detach_security_profile(c, i).await,
        ListTargetsForSecurityProfile => d.handle_list_targets_for_security_profile(c, i).await,
        ListSecurityProfilesForTarget => d.handle_list_security_profiles_for_target(c, i).await,
        ValidateSecurityProfileBehaviors => {
            d.handle_validate_security_profile_behaviors(c, i).await
        }
        CreateCustomMetric => d.handle_create_custom_metric(c, i).await,
        DescribeCustomMetric => d.handle_describe_custom_metric(c, i).await,
        UpdateCustomMetric => d.handle_update_custom_metric(c, i).await,
        DeleteCustomMetric => d.handle_delete_custom_metric(c, i).await,
        ListCustomMetrics => d.handle_list_custom_metrics(c, i).await,
        CreateDimension => d.handle_create_dimension(c, i).await,
        DescribeDimension => d.handle_describe_dimension(c, i).await,
        UpdateDimension => d.handle_update_dimension(c, i).await,
        DeleteDimension => d.handle_delete_dimension(c, i).await,
        ListDimensions => d.handle_list_dimensions(c, i).await,
        ListActiveViolations => d.handle_list_active_violations(c, i).await,
        ListViolationEvents => d.handle_list_violation_events(c, i).await,
        PutVerificationStateOnViolation => d.handle_put_verification_state_on_violation(c, i).await,
        GetBehaviorModelTrainingSummaries => {
            d.handle_get_behavior_model_training_summaries(c, i).await
        }
    };
    output.map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detect_operation_has_one_route_and_resolves() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(seen.insert(r.operation), "{} twice", r.name);
        }
        assert_eq!(seen.len(), 24);
        assert_eq!(
            resolve("GET", "/security-profiles/p/targets").unwrap().0,
            ListTargetsForSecurityProfile
        );
        assert_eq!(
            resolve("PUT", "/security-profiles/p/targets").unwrap().0,
            AttachSecurityProfile
        );
        assert_eq!(
            resolve("GET", "/security-profiles/p").unwrap().0,
            DescribeSecurityProfile
        );
        assert_eq!(
            resolve("GET", "/security-profiles").unwrap().0,
            ListSecurityProfiles
        );
        assert_eq!(
            resolve("GET", "/custom-metrics").unwrap().0,
            ListCustomMetrics
        );
        assert_eq!(
            resolve("GET", "/custom-metric/m").unwrap().0,
            DescribeCustomMetric
        );
        assert!(resolve("GET", "/metric-values").is_none());
    }
}
