//! Role-alias and Cognito checks over the IAM roles an admin registered (see
//! `admin_docs.rs`). A role alias or pool whose role is not registered is not examined: with
//! nothing registered these checks complete with zero resources.

use std::collections::BTreeSet;

use fleetward_policy::analysis::{RoleAccess, role_access};

use super::{Inputs, NewFinding, Outcome};
use crate::admin_docs::IamRoleDoc;
use crate::model::{Resource, ResourceIdentifier};

fn access_of(role: &IamRoleDoc) -> Option<RoleAccess> {
    role_access(&role.policies).ok()
}

fn role_resource(arn: &str) -> Resource {
    Resource::new("IAM_ROLE", ResourceIdentifier::iam_role(arn))
}

/// (reason code, text) of an overly permissive role behind a role alias.
fn alias_reasons(access: &RoleAccess, used: Option<&[String]>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let used: BTreeSet<&str> = used
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    let admin_used: Vec<&str> = access
        .admin_services
        .iter()
        .map(String::as_str)
        .filter(|s| (*s == "*" && !used.is_empty()) || used.contains(s))
        .collect();
    if !admin_used.is_empty() {
        out.push((
            "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
            format!(
                "Role allows administrator access to services it uses: [{}].",
                admin_used.join(", ")
            ),
        ));
    }
    if access.security_auditing {
        out.push((
            "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
            "Role allows access to security auditing services (IAM, CloudTrail, GuardDuty, Inspector or Trusted Advisor).".into(),
        ));
    }
    out.extend(iot_reasons(access));
    if !access.data_plane_broad.is_empty() {
        out.push((
            "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
            format!(
                "Role allows broad access to IoT data plane actions: [{}].",
                access.data_plane_broad.join(", ")
            ),
        ));
    }
    out
}

/// The three IoT admin reasons shared by the role-alias and authenticated Cognito checks.
fn iot_reasons(access: &RoleAccess) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if access.thing_admin_read_broad {
        out.push((
            "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
            "Role allows thing admin read actions (DescribeThing, ListThingPrincipals...) on a broad set of things.".into(),
        ));
    }
    if access.non_thing_admin {
        out.push((
            "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
            "Role allows IoT admin actions other than thing administration.".into(),
        ));
    }
    if access.thing_admin_write {
        out.push((
            "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
            "Role allows thing admin write actions (CreateThing, AttachThingPrincipal...).".into(),
        ));
    }
    out
}

pub fn role_alias_permissive(inputs: &Inputs) -> Outcome {
    let mut outcome = Outcome::default();
    for alias in &inputs.view.role_aliases {
        let Some(role) = inputs.roles.get(&alias.role_arn) else {
            continue;
        };
        let Some(access) = access_of(role) else {
            continue;
        };
        outcome.total += 1;
        for (code, text) in alias_reasons(&access, role.last_accessed_services.as_deref()) {
            outcome.findings.push(
                NewFinding::new(
                    Resource::new("ROLE_ALIAS", ResourceIdentifier::role_alias(&alias.arn)),
                    code,
                    text,
                )
                .with_related(vec![role_resource(&role.role_arn)]),
            );
        }
    }
    outcome
}

pub fn role_alias_unused(inputs: &Inputs) -> Outcome {
    let mut outcome = Outcome::default();
    for alias in &inputs.view.role_aliases {
        let Some(role) = inputs.roles.get(&alias.role_arn) else {
            continue;
        };
        let (Some(access), Some(used)) = (access_of(role), &role.last_accessed_services) else {
            continue;
        };
        outcome.total += 1;
        let used: BTreeSet<String> = used.iter().map(|s| s.to_ascii_lowercase()).collect();
        let unused: Vec<&str> = access
            .services
            .iter()
            .map(String::as_str)
            .filter(|s| !used.contains(*s))
            .collect();
        if unused.is_empty() {
            continue;
        }
        outcome.findings.push(
            NewFinding::new(
                Resource::new("ROLE_ALIAS", ResourceIdentifier::role_alias(&alias.arn)),
                "ALLOWS_ACCESS_TO_UNUSED_SERVICES",
                format!(
                    "Role allows access to services not used in the last year: [{}].",
                    unused.join(", ")
                ),
            )
            .with_related(vec![role_resource(&role.role_arn)]),
        );
    }
    outcome
}

/// The authenticated or unauthenticated role of each registered identity pool.
pub fn cognito(inputs: &Inputs, authenticated: bool) -> Outcome {
    let mut outcome = Outcome::default();
    for pool in &inputs.pools {
        let arn = if authenticated {
            &pool.authenticated_role_arn
        } else {
            &pool.unauthenticated_role_arn
        };
        let Some(role) = arn.as_ref().and_then(|a| inputs.roles.get(a)) else {
            continue;
        };
        let Some(access) = access_of(role) else {
            continue;
        };
        outcome.total += 1;
        let reasons: Vec<(&'static str, String)> = if authenticated {
            iot_reasons(&access)
        } else {
            let mut r = Vec::new();
            if access.any_iot_admin() {
                r.push((
                    "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS",
                    "Unauthenticated role allows IoT admin actions.".to_string(),
                ));
            }
            if !access.data_plane_broad.is_empty() {
                r.push((
                    "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
                    format!(
                        "Unauthenticated role allows broad access to IoT data plane actions: [{}].",
                        access.data_plane_broad.join(", ")
                    ),
                ));
            }
            r
        };
        for (code, text) in reasons {
            outcome.findings.push(
                NewFinding::new(
                    Resource::new(
                        "COGNITO_IDENTITY_POOL",
                        ResourceIdentifier::cognito_pool(&pool.pool_id),
                    ),
                    code,
                    text,
                )
                .with_related(vec![role_resource(&role.role_arn)]),
            );
        }
    }
    outcome
}
