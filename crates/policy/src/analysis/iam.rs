//! What an IAM role's permission policies grant, in the terms of the role-alias and Cognito
//! audit checks (spec 1.3): admin access per service, security-auditing services, IoT thing
//! admin (write, read), other IoT admin actions, and broad IoT data-plane access.
//!
//! Only `Allow` statements are considered (a static reading cannot tell which Deny wins over
//! which Allow without a request), so the answer errs on the side of reporting.

use std::collections::BTreeSet;

use super::iot::{Kind, broad_data_plane, grants_broadly};
use super::iot_actions::ADMIN_ACTIONS;
use super::statements::{RawStatement, glob, statements};

/// Thing admin actions that manage or modify things (spec 1.3, Cognito checks).
pub const THING_ADMIN_WRITE: &[&str] = &[
    "AddThingToThingGroup",
    "AttachThingPrincipal",
    "CreateThing",
    "DeleteThing",
    "DetachThingPrincipal",
    "ListThings",
    "ListThingsInThingGroup",
    "RegisterThing",
    "RemoveThingFromThingGroup",
    "UpdateThing",
    "UpdateThingGroupsForThing",
];

/// Thing admin actions that read thing data.
pub const THING_ADMIN_READ: &[&str] = &[
    "DescribeThing",
    "ListJobExecutionsForThing",
    "ListThingGroupsForThing",
    "ListThingPrincipals",
];

/// Services whose access lets a holder blind or audit the account's security tooling.
pub const SECURITY_AUDITING_SERVICES: &[&str] = &[
    "iam",
    "cloudtrail",
    "guardduty",
    "inspector",
    "inspector2",
    "trustedadvisor",
];

/// What the policies of one role grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleAccess {
    /// Service prefixes some Allow statement grants actions of (`*` for every service).
    pub services: BTreeSet<String>,
    /// Services granted with `service:*` (or `*`) on every resource.
    pub admin_services: BTreeSet<String>,
    /// Some action of a security-auditing service is allowed.
    pub security_auditing: bool,
    /// Some thing admin write action is allowed (on any resource).
    pub thing_admin_write: bool,
    /// Some thing admin read action is allowed (on any resource).
    pub thing_admin_read: bool,
    /// Some thing admin read action is allowed on a broad set of things.
    pub thing_admin_read_broad: bool,
    /// Some other IoT admin action is allowed.
    pub non_thing_admin: bool,
    /// Data-plane actions allowed on a broad set of devices, as for IoT policies.
    pub data_plane_broad: Vec<&'static str>,
}

impl RoleAccess {
    /// Whether the role grants any IoT admin action (thing write, thing read or other).
    pub fn any_iot_admin(&self) -> bool {
        self.thing_admin_write || self.thing_admin_read || self.non_thing_admin
    }
}

/// Reads a role's permission policy documents (inline and attached, as JSON text).
pub fn role_access<S: AsRef<str>>(documents: &[S]) -> Result<RoleAccess, String> {
    let mut all = Vec::new();
    for document in documents {
        all.extend(statements(document.as_ref())?);
    }
    let allows: Vec<RawStatement> = all.into_iter().filter(|s| s.allow).collect();
    let mut access = RoleAccess {
        data_plane_broad: broad_data_plane(&allows),
        ..RoleAccess::default()
    };
    for statement in &allows {
        note_services(statement, &mut access);
        let covers_iot = |name: &str| statement.covers(&format!("iot:{name}"));
        if THING_ADMIN_WRITE.iter().any(|a| covers_iot(a)) {
            access.thing_admin_write = true;
        }
        if THING_ADMIN_READ.iter().any(|a| covers_iot(a)) {
            access.thing_admin_read = true;
            if grants_broadly(statement, Kind::Thing) {
                access.thing_admin_read_broad = true;
            }
        }
        let other_admin = ADMIN_ACTIONS
            .iter()
            .filter(|a| !THING_ADMIN_WRITE.contains(a) && !THING_ADMIN_READ.contains(a))
            .any(|a| covers_iot(a));
        if other_admin {
            access.non_thing_admin = true;
        }
    }
    Ok(access)
}

fn note_services(statement: &RawStatement, access: &mut RoleAccess) {
    let every_resource = statement.not_resource || statement.resources.iter().any(|r| r == "*");
    if statement.not_action {
        // "Everything except ..." reaches every service.
        access.services.insert("*".into());
        access.security_auditing = true;
        return;
    }
    for pattern in &statement.actions {
        let (service, action) = pattern.split_once(':').unwrap_or(("*", "*"));
        let service = if service.contains(['*', '?']) {
            "*".to_string()
        } else {
            service.to_ascii_lowercase()
        };
        if SECURITY_AUDITING_SERVICES
            .iter()
            .any(|s| glob(&service, s, true))
        {
            access.security_auditing = true;
        }
        if action == "*" && every_resource {
            access.admin_services.insert(service.clone());
        }
        access.services.insert(service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(statements: serde_json::Value) -> RoleAccess {
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        role_access(&[doc.to_string()]).unwrap()
    }

    #[test]
    fn admin_on_everything() {
        let a = access(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]));
        assert!(a.services.contains("*") && a.admin_services.contains("*"));
        assert!(a.security_auditing && a.thing_admin_write && a.thing_admin_read_broad);
        assert!(a.non_thing_admin && !a.data_plane_broad.is_empty());
    }

    #[test]
    fn narrow_role() {
        let a = access(serde_json::json!([
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket/*"},
            {"Effect": "Allow", "Action": "iot:DescribeThing",
             "Resource": "arn:aws:iot:us-east-1:123456789012:thing/sensor-1"}
        ]));
        assert_eq!(
            a.services.iter().map(String::as_str).collect::<Vec<_>>(),
            ["iot", "s3"]
        );
        assert!(a.admin_services.is_empty() && !a.security_auditing);
        assert!(a.thing_admin_read && !a.thing_admin_read_broad && !a.thing_admin_write);
        assert!(!a.non_thing_admin && a.data_plane_broad.is_empty());
    }

    #[test]
    fn classifies_iot_admin_actions() {
        let a = access(serde_json::json!([
            {"Effect": "Allow", "Action": "iot:CreateThing", "Resource": "*"},
            {"Effect": "Allow", "Action": "iot:Describe*", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            {"Effect": "Deny", "Action": "iot:UpdateCertificate", "Resource": "*"}
        ]));
        assert!(a.thing_admin_write && a.thing_admin_read_broad && a.non_thing_admin);
        assert!(a.security_auditing && a.admin_services.is_empty());
        let only_deny =
            access(serde_json::json!([{"Effect": "Deny", "Action": "*", "Resource": "*"}]));
        assert_eq!(only_deny, RoleAccess::default());
    }
}
