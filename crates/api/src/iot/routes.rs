//! The botocore routes (method and `requestUri`) and the query-string and header members of
//! each operation. Templates with fewer labels come first so that a literal segment such as
//! `/thing-groups/addThingToThingGroup` wins over a label.

use super::Operation::{self, *};
use crate::route::{self, Resolved, Route, route};
use crate::wire::{QueryKind::*, q};

const ROUTES: &[Route<Operation>] = &[
    route!(
        ListMetricValues,
        "GET",
        "/metric-values",
        &[
            q("thingName", "thingName", String),
            q("metricName", "metricName", String),
            q("dimensionName", "dimensionName", String),
            q("dimensionValueOperator", "dimensionValueOperator", String),
            q("startTime", "startTime", String),
            q("endTime", "endTime", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String)
        ]
    ),
    route!(
        ListThings,
        "GET",
        "/things",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer),
            q("attributeName", "attributeName", String),
            q("attributeValue", "attributeValue", String),
            q("thingTypeName", "thingTypeName", String),
            q(
                "usePrefixAttributeValue",
                "usePrefixAttributeValue",
                Boolean
            )
        ]
    ),
    route!(
        ListThingTypes,
        "GET",
        "/thing-types",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer),
            q("thingTypeName", "thingTypeName", String)
        ]
    ),
    route!(
        ListThingGroups,
        "GET",
        "/thing-groups",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer),
            q("parentGroup", "parentGroup", String),
            q("namePrefixFilter", "namePrefixFilter", String),
            q("recursive", "recursive", Boolean)
        ]
    ),
    route!(
        AddThingToThingGroup,
        "PUT",
        "/thing-groups/addThingToThingGroup"
    ),
    route!(
        RemoveThingFromThingGroup,
        "PUT",
        "/thing-groups/removeThingFromThingGroup"
    ),
    route!(
        UpdateThingGroupsForThing,
        "PUT",
        "/thing-groups/updateThingGroupsForThing"
    ),
    route!(
        CreateKeysAndCertificate,
        "POST",
        "/keys-and-certificate",
        &[q("setAsActive", "setAsActive", Boolean)]
    ),
    route!(
        CreateCertificateFromCsr,
        "POST",
        "/certificates",
        &[q("setAsActive", "setAsActive", Boolean)]
    ),
    route!(
        RegisterCertificate,
        "POST",
        "/certificate/register",
        &[q("setAsActive", "setAsActive", Boolean)]
    ),
    route!(
        RegisterCertificateWithoutCA,
        "POST",
        "/certificate/register-no-ca"
    ),
    route!(
        ListCertificates,
        "GET",
        "/certificates",
        &[
            q("pageSize", "pageSize", Integer),
            q("marker", "marker", String),
            q("isAscendingOrder", "ascendingOrder", Boolean)
        ]
    ),
    route!(GetRegistrationCode, "GET", "/registrationcode"),
    route!(
        RegisterCACertificate,
        "POST",
        "/cacertificate",
        &[
            q("setAsActive", "setAsActive", Boolean),
            q("allowAutoRegistration", "allowAutoRegistration", Boolean)
        ]
    ),
    route!(
        ListCACertificates,
        "GET",
        "/cacertificates",
        &[
            q("pageSize", "pageSize", Integer),
            q("marker", "marker", String),
            q("isAscendingOrder", "ascendingOrder", Boolean),
            q("templateName", "templateName", String)
        ]
    ),
    route!(
        ListPolicies,
        "GET",
        "/policies",
        &[
            q("marker", "marker", String),
            q("pageSize", "pageSize", Integer),
            q("isAscendingOrder", "ascendingOrder", Boolean)
        ]
    ),
    route!(
        GetEffectivePolicies,
        "POST",
        "/effective-policies",
        &[q("thingName", "thingName", String)]
    ),
    route!(
        TestAuthorization,
        "POST",
        "/test-authorization",
        &[q("clientId", "clientId", String)]
    ),
    route!(
        ListPrincipalThings,
        "GET",
        "/principals/things",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer),
            q("x-amzn-principal", "principal", Header)
        ]
    ),
    route!(
        ListRoleAliases,
        "GET",
        "/role-aliases",
        &[
            q("pageSize", "pageSize", Integer),
            q("marker", "marker", String),
            q("isAscendingOrder", "ascendingOrder", Boolean)
        ]
    ),
    route!(SetV2LoggingOptions, "POST", "/v2LoggingOptions"),
    route!(
        GetV2LoggingOptions,
        "GET",
        "/v2LoggingOptions",
        &[q("verbose", "verbose", Boolean)]
    ),
    route!(SetV2LoggingLevel, "POST", "/v2LoggingLevel"),
    route!(
        ListV2LoggingLevels,
        "GET",
        "/v2LoggingLevel",
        &[
            q("targetType", "targetType", String),
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(
        DeleteV2LoggingLevel,
        "DELETE",
        "/v2LoggingLevel",
        &[
            q("targetType", "targetType", String),
            q("targetName", "targetName", String)
        ]
    ),
    route!(SetLoggingOptions, "POST", "/loggingOptions"),
    route!(GetLoggingOptions, "GET", "/loggingOptions"),
    route!(
        DescribeEndpoint,
        "GET",
        "/endpoint",
        &[q("endpointType", "endpointType", String)]
    ),
    route!(TagResource, "POST", "/tags"),
    route!(UntagResource, "POST", "/untag"),
    route!(
        ListTagsForResource,
        "GET",
        "/tags",
        &[
            q("resourceArn", "resourceArn", String),
            q("nextToken", "nextToken", String)
        ]
    ),
    route!(CreateThing, "POST", "/things/{thingName}"),
    route!(DescribeThing, "GET", "/things/{thingName}"),
    route!(UpdateThing, "PATCH", "/things/{thingName}"),
    route!(
        DeleteThing,
        "DELETE",
        "/things/{thingName}",
        &[q("expectedVersion", "expectedVersion", Integer)]
    ),
    route!(CreateThingType, "POST", "/thing-types/{thingTypeName}"),
    route!(DescribeThingType, "GET", "/thing-types/{thingTypeName}"),
    route!(
        DeprecateThingType,
        "POST",
        "/thing-types/{thingTypeName}/deprecate"
    ),
    route!(DeleteThingType, "DELETE", "/thing-types/{thingTypeName}"),
    route!(CreateThingGroup, "POST", "/thing-groups/{thingGroupName}"),
    route!(DescribeThingGroup, "GET", "/thing-groups/{thingGroupName}"),
    route!(UpdateThingGroup, "PATCH", "/thing-groups/{thingGroupName}"),
    route!(
        DeleteThingGroup,
        "DELETE",
        "/thing-groups/{thingGroupName}",
        &[q("expectedVersion", "expectedVersion", Integer)]
    ),
    route!(
        ListThingsInThingGroup,
        "GET",
        "/thing-groups/{thingGroupName}/things",
        &[
            q("recursive", "recursive", Boolean),
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(
        ListThingGroupsForThing,
        "GET",
        "/things/{thingName}/thing-groups",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(DescribeCertificate, "GET", "/certificates/{certificateId}"),
    route!(
        UpdateCertificate,
        "PUT",
        "/certificates/{certificateId}",
        &[q("newStatus", "newStatus", String)]
    ),
    route!(
        DeleteCertificate,
        "DELETE",
        "/certificates/{certificateId}",
        &[q("forceDelete", "forceDelete", Boolean)]
    ),
    route!(
        ListCertificatesByCA,
        "GET",
        "/certificates-by-ca/{caCertificateId}",
        &[
            q("pageSize", "pageSize", Integer),
            q("marker", "marker", String),
            q("isAscendingOrder", "ascendingOrder", Boolean)
        ]
    ),
    route!(
        DescribeCACertificate,
        "GET",
        "/cacertificate/{caCertificateId}"
    ),
    route!(
        UpdateCACertificate,
        "PUT",
        "/cacertificate/{caCertificateId}",
        &[
            q("newStatus", "newStatus", String),
            q(
                "newAutoRegistrationStatus",
                "newAutoRegistrationStatus",
                String
            )
        ]
    ),
    route!(
        DeleteCACertificate,
        "DELETE",
        "/cacertificate/{caCertificateId}"
    ),
    route!(CreatePolicy, "POST", "/policies/{policyName}"),
    route!(GetPolicy, "GET", "/policies/{policyName}"),
    route!(DeletePolicy, "DELETE", "/policies/{policyName}"),
    route!(
        CreatePolicyVersion,
        "POST",
        "/policies/{policyName}/version",
        &[q("setAsDefault", "setAsDefault", Boolean)]
    ),
    route!(ListPolicyVersions, "GET", "/policies/{policyName}/version"),
    route!(AttachPolicy, "PUT", "/target-policies/{policyName}"),
    route!(DetachPolicy, "POST", "/target-policies/{policyName}"),
    route!(
        ListAttachedPolicies,
        "POST",
        "/attached-policies/{target}",
        &[
            q("recursive", "recursive", Boolean),
            q("marker", "marker", String),
            q("pageSize", "pageSize", Integer)
        ]
    ),
    route!(
        ListTargetsForPolicy,
        "POST",
        "/policy-targets/{policyName}",
        &[
            q("marker", "marker", String),
            q("pageSize", "pageSize", Integer)
        ]
    ),
    route!(
        AttachThingPrincipal,
        "PUT",
        "/things/{thingName}/principals",
        &[
            q("x-amzn-principal", "principal", Header),
            q("thingPrincipalType", "thingPrincipalType", String)
        ]
    ),
    route!(
        DetachThingPrincipal,
        "DELETE",
        "/things/{thingName}/principals",
        &[q("x-amzn-principal", "principal", Header)]
    ),
    route!(
        ListThingPrincipals,
        "GET",
        "/things/{thingName}/principals",
        &[
            q("nextToken", "nextToken", String),
            q("maxResults", "maxResults", Integer)
        ]
    ),
    route!(CreateRoleAlias, "POST", "/role-aliases/{roleAlias}"),
    route!(DescribeRoleAlias, "GET", "/role-aliases/{roleAlias}"),
    route!(UpdateRoleAlias, "PUT", "/role-aliases/{roleAlias}"),
    route!(DeleteRoleAlias, "DELETE", "/role-aliases/{roleAlias}"),
    route!(
        GetPolicyVersion,
        "GET",
        "/policies/{policyName}/version/{policyVersionId}"
    ),
    route!(
        SetDefaultPolicyVersion,
        "PATCH",
        "/policies/{policyName}/version/{policyVersionId}"
    ),
    route!(
        DeletePolicyVersion,
        "DELETE",
        "/policies/{policyName}/version/{policyVersionId}"
    ),
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
        assert_eq!(seen.len(), 71);
    }

    #[test]
    fn literal_segments_win_over_labels() {
        assert_eq!(
            resolve("PUT", "/thing-groups/addThingToThingGroup")
                .unwrap()
                .0,
            AddThingToThingGroup
        );
        assert_eq!(
            resolve("POST", "/thing-groups/g1").unwrap().0,
            CreateThingGroup
        );
        assert_eq!(
            resolve("GET", "/things/t1/principals").unwrap().0,
            ListThingPrincipals
        );
        assert_eq!(resolve("GET", "/things/t1").unwrap().0, DescribeThing);
        assert_eq!(
            resolve("GET", "/principals/things").unwrap().0,
            ListPrincipalThings
        );
        assert_eq!(
            resolve("PATCH", "/policies/p/version/3").unwrap().0,
            SetDefaultPolicyVersion
        );
        assert!(resolve("GET", "/nothing").is_none());
    }
}
