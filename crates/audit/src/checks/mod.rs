//! The checks: each is a pure function from the audit's inputs (a registry snapshot,
//! certificate facts, CRLs, connection history, admin-registered IAM documents) to the
//! resources it examined and the non-compliant ones.

mod certificates;
mod connections;
mod iam;
mod policies;
mod revocation;
#[cfg(test)]
mod tests;

pub use certificates::in_use;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use fleetward_registry::{AuditView, CertId};
use fleetward_store::ConnectionEvent;

use crate::admin_docs::{IamRoleDoc, IdentityPoolDoc};
use crate::catalog::CheckDef;
use crate::crl::CrlSet;
use crate::facts::CertFacts;
use crate::keys::Blocklist;
use crate::model::{Resource, ResourceIdentifier};

/// Everything the checks of one task read.
#[derive(Default)]
pub struct Inputs {
    pub account_id: String,
    /// The task's start: "now" for expiry and age.
    pub now_ms: i64,
    /// The connection-history window of the connection checks.
    pub window_from_ms: i64,
    pub window_to_ms: i64,
    pub view: AuditView,
    /// Facts of device certificates (when a check needs them).
    pub cert_facts: HashMap<CertId, Arc<CertFacts>>,
    /// Facts of CA certificates.
    pub ca_facts: HashMap<CertId, CertFacts>,
    pub crls: CrlSet,
    pub blocklist: Arc<Blocklist>,
    /// Connection events of the window, in time order.
    pub connections: Vec<ConnectionEvent>,
    pub roles: HashMap<String, IamRoleDoc>,
    pub pools: Vec<IdentityPoolDoc>,
    /// Check configuration (thresholds), by check name.
    pub configuration: BTreeMap<String, BTreeMap<String, String>>,
}

impl Inputs {
    /// A configured threshold in days, else the catalogue's default.
    pub fn threshold_days(&self, check: &CheckDef, name: &str) -> i64 {
        let default = check
            .config
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, d, ..)| *d)
            .unwrap_or(0);
        self.configuration
            .get(check.name)
            .and_then(|c| c.get(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

/// One non-compliant resource of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFinding {
    pub resource: Resource,
    pub related: Vec<Resource>,
    pub reason: String,
    pub code: &'static str,
}

impl NewFinding {
    pub fn new(resource: Resource, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            resource,
            related: Vec::new(),
            reason: reason.into(),
            code,
        }
    }

    pub fn with_related(mut self, related: Vec<Resource>) -> Self {
        self.related = related;
        self
    }
}

/// What a check found: how many resources it examined and the non-compliant ones.
#[derive(Debug, Default)]
pub struct Outcome {
    pub total: u64,
    pub findings: Vec<NewFinding>,
}

/// Runs one check. An `Err` fails the check (FAILED with the message).
pub fn run(check: &CheckDef, inputs: &Inputs) -> Result<Outcome, String> {
    Ok(match check.name {
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK" => policies::overly_permissive(inputs),
        "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK" => policies::misconfiguration(inputs),
        "LOGGING_DISABLED_CHECK" => logging_disabled(inputs),
        "CA_CERTIFICATE_EXPIRING_CHECK" => certificates::ca_expiring(check, inputs),
        "DEVICE_CERTIFICATE_EXPIRING_CHECK" => certificates::device_expiring(check, inputs),
        "DEVICE_CERTIFICATE_AGE_CHECK" => certificates::device_age(check, inputs),
        "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK" => certificates::device_key_quality(inputs),
        "CA_CERTIFICATE_KEY_QUALITY_CHECK" => certificates::ca_key_quality(inputs),
        "FLEETWARD_DEVICE_CERTIFICATE_KEY_SIZE_CHECK" => certificates::device_key_size(inputs),
        "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK" => revocation::revoked_devices(inputs),
        "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK" => revocation::revoked_cas(inputs),
        "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK" => {
            revocation::revoked_intermediates(inputs)
        }
        "DEVICE_CERTIFICATE_SHARED_CHECK" => connections::shared_certificates(inputs),
        "CONFLICTING_CLIENT_IDS_CHECK" => connections::conflicting_client_ids(inputs),
        "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK" => iam::role_alias_permissive(inputs),
        "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK" => iam::role_alias_unused(inputs),
        "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK" => iam::cognito(inputs, true),
        "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK" => iam::cognito(inputs, false),
        other => return Err(format!("Fleetward has no implementation of {other}.")),
    })
}

/// LOGGING_DISABLED_CHECK: neither v2 logging (a default level other than DISABLED, and not
/// `disableAllLogs`) nor v1 logging (a level other than DISABLED) is on.
fn logging_disabled(inputs: &Inputs) -> Outcome {
    let logging = &inputs.view.logging;
    let v2_on = logging
        .v2
        .as_ref()
        .is_some_and(|(level, disable_all)| !disable_all && level != "DISABLED");
    let v1_on = logging.v1_level.as_deref().is_some_and(|l| l != "DISABLED");
    let mut outcome = Outcome {
        total: 1,
        findings: Vec::new(),
    };
    if !v2_on && !v1_on {
        outcome.findings.push(NewFinding::new(
            Resource::new(
                "ACCOUNT_SETTINGS",
                ResourceIdentifier::account(&inputs.account_id),
            ),
            "LOGGING_DISABLED",
            "Logging to CloudWatch is disabled for AWS IoT (neither v1 nor v2 logging options enable it).",
        ));
    }
    outcome
}

/// Epoch milliseconds as the string `additionalInfo` carries.
pub fn ms_text(ms: i64) -> String {
    ms.to_string()
}
