//! IOT_POLICY_OVERLY_PERMISSIVE_CHECK and IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK, on
//! each policy's default version (the version a fix by a new default replaces, spec 1.3).

use fleetward_policy::analysis;

use super::{Inputs, NewFinding, Outcome};
use crate::model::{Resource, ResourceIdentifier};

fn policy_resource(name: &str, version: u32) -> Resource {
    Resource::new(
        "IOT_POLICY",
        ResourceIdentifier::policy_version(name, &version.to_string()),
    )
}

pub fn overly_permissive(inputs: &Inputs) -> Outcome {
    let mut outcome = Outcome {
        total: inputs.view.policies.len() as u64,
        findings: Vec::new(),
    };
    for policy in &inputs.view.policies {
        let Ok(actions) = analysis::overly_permissive(&policy.document) else {
            continue;
        };
        if actions.is_empty() {
            continue;
        }
        outcome.findings.push(NewFinding::new(
            policy_resource(&policy.name, policy.default_version),
            analysis::ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS,
            format!(
                "Policy allows broad access to IoT data plane actions: [{}].",
                actions.join(", ")
            ),
        ));
    }
    outcome
}

pub fn misconfiguration(inputs: &Inputs) -> Outcome {
    let mut outcome = Outcome {
        total: inputs.view.policies.len() as u64,
        findings: Vec::new(),
    };
    for policy in &inputs.view.policies {
        let Ok(reasons) = analysis::potential_misconfiguration(&policy.document) else {
            continue;
        };
        for code in reasons {
            let text = if code == analysis::POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT {
                "Policy contains MQTT wildcards (+ or #) in a Deny statement. IoT policies treat them as literal characters, so the statement does not deny the topics they stand for."
            } else {
                "Policy denies a topic filter subtree that devices can still reach by subscribing to an allowed MQTT wildcard filter (such as #)."
            };
            outcome.findings.push(NewFinding::new(
                policy_resource(&policy.name, policy.default_version),
                code,
                text,
            ));
        }
    }
    outcome
}
