//! Static analyses of policy documents for Device Defender audit (pure, no I/O): IoT
//! policies ([`overly_permissive`], [`potential_misconfiguration`]) and the IAM policies of
//! roles behind role aliases and Cognito identity pools ([`role_access`]).
//!
//! Choices where AWS documents only examples: see each function; variables are never
//! resolved (the analysis judges the policy, not one device), and a document that does not
//! read as a policy is an error, not a verdict.

mod iam;
mod iot;
mod iot_actions;
mod statements;

pub use iam::{
    RoleAccess, SECURITY_AUDITING_SERVICES, THING_ADMIN_READ, THING_ADMIN_WRITE, role_access,
};
pub use iot::{
    ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS,
    POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT,
    TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS, overly_permissive,
    potential_misconfiguration,
};
