//! The `iot` (2015-05-28) rest-json surface: the operations Fleetward implements, their
//! botocore routes, and the dispatch to the registry's `handle_<operation>` methods.

pub mod audit;
pub mod detect;
pub mod mitigation;
mod routes;
pub mod rules;

use fleetward_registry::{Caller, Registry};
use serde_json::Value;

use crate::error::ApiError;
pub use routes::resolve;

/// IoT operations, named exactly as in the AWS API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    // ---- Things ----
    CreateThing,
    DescribeThing,
    UpdateThing,
    DeleteThing,
    ListThings,
    // ---- Thing types ----
    CreateThingType,
    DescribeThingType,
    ListThingTypes,
    DeprecateThingType,
    DeleteThingType,
    // ---- Thing groups ----
    CreateThingGroup,
    DescribeThingGroup,
    UpdateThingGroup,
    DeleteThingGroup,
    ListThingGroups,
    AddThingToThingGroup,
    RemoveThingFromThingGroup,
    ListThingsInThingGroup,
    ListThingGroupsForThing,
    UpdateThingGroupsForThing,
    // ---- Certificates ----
    CreateKeysAndCertificate,
    CreateCertificateFromCsr,
    RegisterCertificate,
    RegisterCertificateWithoutCA,
    DescribeCertificate,
    UpdateCertificate,
    DeleteCertificate,
    ListCertificates,
    ListCertificatesByCA,
    // ---- CA certificates ----
    GetRegistrationCode,
    RegisterCACertificate,
    DescribeCACertificate,
    UpdateCACertificate,
    DeleteCACertificate,
    ListCACertificates,
    // ---- Policies ----
    CreatePolicy,
    GetPolicy,
    DeletePolicy,
    ListPolicies,
    CreatePolicyVersion,
    GetPolicyVersion,
    ListPolicyVersions,
    SetDefaultPolicyVersion,
    DeletePolicyVersion,
    AttachPolicy,
    DetachPolicy,
    ListAttachedPolicies,
    ListTargetsForPolicy,
    GetEffectivePolicies,
    TestAuthorization,
    // ---- Principals ----
    AttachThingPrincipal,
    DetachThingPrincipal,
    ListThingPrincipals,
    ListPrincipalThings,
    // ---- Role aliases ----
    CreateRoleAlias,
    DescribeRoleAlias,
    UpdateRoleAlias,
    DeleteRoleAlias,
    ListRoleAliases,
    // ---- Logging ----
    SetV2LoggingOptions,
    GetV2LoggingOptions,
    SetV2LoggingLevel,
    ListV2LoggingLevels,
    DeleteV2LoggingLevel,
    SetLoggingOptions,
    GetLoggingOptions,
    // ---- Endpoint and tags ----
    DescribeEndpoint,
    TagResource,
    // ---- Device Defender (detect) ----
    ListMetricValues,
    UntagResource,
    ListTagsForResource,
}

impl Operation {
    pub fn name(self) -> &'static str {
        routes::name(self)
    }
}

/// Calls the registry's handler for `operation`.
pub async fn dispatch(
    registry: &Registry,
    caller: &Caller,
    operation: Operation,
    input: Value,
) -> Result<Value, ApiError> {
    use Operation::*;
    let output = match operation {
        CreateThing => registry.handle_create_thing(caller, &input).await,
        DescribeThing => registry.handle_describe_thing(caller, &input).await,
        UpdateThing => registry.handle_update_thing(caller, &input).await,
        DeleteThing => registry.handle_delete_thing(caller, &input).await,
        ListThings => registry.handle_list_things(caller, &input).await,
        CreateThingType => registry.handle_create_thing_type(caller, &input).await,
        DescribeThingType => registry.handle_describe_thing_type(caller, &input).await,
        ListThingTypes => registry.handle_list_thing_types(caller, &input).await,
        DeprecateThingType => registry.handle_deprecate_thing_type(caller, &input).await,
        DeleteThingType => registry.handle_delete_thing_type(caller, &input).await,
        CreateThingGroup => registry.handle_create_thing_group(caller, &input).await,
        DescribeThingGroup => registry.handle_describe_thing_group(caller, &input).await,
        UpdateThingGroup => registry.handle_update_thing_group(caller, &input).await,
        DeleteThingGroup => registry.handle_delete_thing_group(caller, &input).await,
        ListThingGroups => registry.handle_list_thing_groups(caller, &input).await,
        AddThingToThingGroup => {
            registry
                .handle_add_thing_to_thing_group(caller, &input)
                .await
        }
        RemoveThingFromThingGroup => {
            registry
                .handle_remove_thing_from_thing_group(caller, &input)
                .await
        }
        ListThingsInThingGroup => {
            registry
                .handle_list_things_in_thing_group(caller, &input)
                .await
        }
        ListThingGroupsForThing => {
            registry
                .handle_list_thing_groups_for_thing(caller, &input)
                .await
        }
        UpdateThingGroupsForThing => {
            registry
                .handle_update_thing_groups_for_thing(caller, &input)
                .await
        }
        CreateKeysAndCertificate => {
            registry
                .handle_create_keys_and_certificate(caller, &input)
                .await
        }
        CreateCertificateFromCsr => {
            registry
                .handle_create_certificate_from_csr(caller, &input)
                .await
        }
        RegisterCertificate => registry.handle_register_certificate(caller, &input).await,
        RegisterCertificateWithoutCA => {
            registry
                .handle_register_certificate_without_ca(caller, &input)
                .await
        }
        DescribeCertificate => registry.handle_describe_certificate(caller, &input).await,
        UpdateCertificate => registry.handle_update_certificate(caller, &input).await,
        DeleteCertificate => registry.handle_delete_certificate(caller, &input).await,
        ListCertificates => registry.handle_list_certificates(caller, &input).await,
        ListCertificatesByCA => {
            registry
                .handle_list_certificates_by_ca(caller, &input)
                .await
        }
        GetRegistrationCode => registry.handle_get_registration_code(caller, &input).await,
        RegisterCACertificate => {
            registry
                .handle_register_ca_certificate(caller, &input)
                .await
        }
        DescribeCACertificate => {
            registry
                .handle_describe_ca_certificate(caller, &input)
                .await
        }
        UpdateCACertificate => registry.handle_update_ca_certificate(caller, &input).await,
        DeleteCACertificate => registry.handle_delete_ca_certificate(caller, &input).await,
        ListCACertificates => registry.handle_list_ca_certificates(caller, &input).await,
        CreatePolicy => registry.handle_create_policy(caller, &input).await,
        GetPolicy => registry.handle_get_policy(caller, &input).await,
        DeletePolicy => registry.handle_delete_policy(caller, &input).await,
        ListPolicies => registry.handle_list_policies(caller, &input).await,
        CreatePolicyVersion => registry.handle_create_policy_version(caller, &input).await,
        GetPolicyVersion => registry.handle_get_policy_version(caller, &input).await,
        ListPolicyVersions => registry.handle_list_policy_versions(caller, &input).await,
        SetDefaultPolicyVersion => {
            registry
                .handle_set_default_policy_version(caller, &input)
                .await
        }
        DeletePolicyVersion => registry.handle_delete_policy_version(caller, &input).await,
        AttachPolicy => registry.handle_attach_policy(caller, &input).await,
        DetachPolicy => registry.handle_detach_policy(caller, &input).await,
        ListAttachedPolicies => registry.handle_list_attached_policies(caller, &input).await,
        ListTargetsForPolicy => {
            registry
                .handle_list_targets_for_policy(caller, &input)
                .await
        }
        GetEffectivePolicies => registry.handle_get_effective_policies(caller, &input).await,
        TestAuthorization => registry.handle_test_authorization(caller, &input).await,
        AttachThingPrincipal => registry.handle_attach_thing_principal(caller, &input).await,
        DetachThingPrincipal => registry.handle_detach_thing_principal(caller, &input).await,
        ListThingPrincipals => registry.handle_list_thing_principals(caller, &input).await,
        ListPrincipalThings => registry.handle_list_principal_things(caller, &input).await,
        CreateRoleAlias => registry.handle_create_role_alias(caller, &input).await,
        DescribeRoleAlias => registry.handle_describe_role_alias(caller, &input).await,
        UpdateRoleAlias => registry.handle_update_role_alias(caller, &input).await,
        DeleteRoleAlias => registry.handle_delete_role_alias(caller, &input).await,
        ListRoleAliases => registry.handle_list_role_aliases(caller, &input).await,
        SetV2LoggingOptions => registry.handle_set_v2_logging_options(caller, &input).await,
        GetV2LoggingOptions => registry.handle_get_v2_logging_options(caller, &input).await,
        SetV2LoggingLevel => registry.handle_set_v2_logging_level(caller, &input).await,
        ListV2LoggingLevels => registry.handle_list_v2_logging_levels(caller, &input).await,
        DeleteV2LoggingLevel => {
            registry
                .handle_delete_v2_logging_level(caller, &input)
                .await
        }
        SetLoggingOptions => registry.handle_set_logging_options(caller, &input).await,
        GetLoggingOptions => registry.handle_get_logging_options(caller, &input).await,
        DescribeEndpoint => registry.handle_describe_endpoint(caller, &input).await,
        TagResource => registry.handle_tag_resource(caller, &input).await,
        ListMetricValues => registry.handle_list_metric_values(caller, &input).await,
        UntagResource => registry.handle_untag_resource(caller, &input).await,
        ListTagsForResource => registry.handle_list_tags_for_resource(caller, &input).await,
    };
    output.map_err(ApiError::from)
}
