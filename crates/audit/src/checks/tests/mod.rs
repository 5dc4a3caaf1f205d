//! One test per check: a compliant and a non-compliant resource of each reason code, with
//! certificates, CAs and CRLs made here with rcgen (`certs.rs`); connection history and IAM
//! roles in `activity.rs`.

mod activity;
mod certs;

use std::sync::Arc;

use super::*;
use crate::admin_docs::{IamRoleDoc, IdentityPoolDoc};
use crate::catalog::{self, CERT_AGE_THRESHOLD_IN_DAYS, CERT_EXPIRATION_THRESHOLD_IN_DAYS};
use crate::crl::Crl;
use crate::facts::{self, Interner};
use crate::keys;
use fleetward_registry::{
    AuditCaCertificate, AuditCertificate, AuditLogging, AuditPolicy, AuditRoleAlias, CertId,
    CertStatus,
};
use fleetward_store::ConnectionEvent;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
};

const NOW: i64 = 1_750_000_000_000;
const DAY: i64 = 86_400_000;
const ACCOUNT: &str = "123456789012";

/// SHA-256 (certificate ids) through ring, the crate's one crypto library.
fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

fn run_check(name: &str, inputs: &Inputs) -> Outcome {
    let (_, def) = catalog::find(name).unwrap();
    run(def, inputs).unwrap()
}

fn codes(outcome: &Outcome) -> Vec<&'static str> {
    outcome.findings.iter().map(|f| f.code).collect()
}

fn inputs() -> Inputs {
    Inputs {
        account_id: ACCOUNT.into(),
        now_ms: NOW,
        window_from_ms: NOW - 31 * DAY,
        window_to_ms: NOW,
        ..Inputs::default()
    }
}

// ---- policies and logging ----

fn with_policies(docs: &[(&str, serde_json::Value)]) -> Inputs {
    let mut i = inputs();
    for (name, doc) in docs {
        i.view.policies.push(AuditPolicy {
            name: name.to_string(),
            default_version: 1,
            document: doc.to_string(),
        });
    }
    i
}

#[test]
fn iot_policy_overly_permissive() {
    let arn = "arn:aws:iot:us-east-1:123456789012";
    let i = with_policies(&[
        (
            "star",
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}),
        ),
        (
            "narrow",
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect",
            "Resource": format!("{arn}:client/${{iot:Connection.Thing.ThingName}}")}]}),
        ),
    ]);
    let outcome = run_check("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(
        codes(&outcome),
        ["ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"]
    );
    let f = &outcome.findings[0];
    assert_eq!(
        f.resource.resource_identifier,
        ResourceIdentifier::policy_version("star", "1")
    );
    assert!(f.reason.starts_with(
        "Policy allows broad access to IoT data plane actions: [iot:Connect, iot:Publish"
    ));
}

#[test]
fn iot_policy_potential_misconfiguration() {
    let arn = "arn:aws:iot:us-east-1:123456789012";
    let allow = |a: &str, r: &str| serde_json::json!({"Effect": "Allow", "Action": a, "Resource": format!("{arn}:{r}")});
    let deny = |a: &str, r: &str| serde_json::json!({"Effect": "Deny", "Action": a, "Resource": format!("{arn}:{r}")});
    let doc = |sts: Vec<serde_json::Value>| serde_json::json!({"Version": "2012-10-17", "Statement": sts});
    let i = with_policies(&[
        (
            "hash-deny",
            doc(vec![
                allow("iot:Subscribe", "topicfilter/building/*"),
                deny("iot:Subscribe", "topicfilter/building/control_room/#"),
            ]),
        ),
        (
            "bypass",
            doc(vec![
                allow("iot:Subscribe", "topicfilter/building/*"),
                allow("iot:Receive", "topic/building/*"),
                deny("iot:Subscribe", "topicfilter/building/control_room/*"),
            ]),
        ),
        (
            "fine",
            doc(vec![allow("iot:Subscribe", "topicfilter/building/lobby")]),
        ),
    ]);
    let outcome = run_check("IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", &i);
    assert_eq!(outcome.total, 3);
    let by_policy: Vec<(String, &str)> = outcome
        .findings
        .iter()
        .map(|f| (f.resource.resource_identifier.path(), f.code))
        .collect();
    assert_eq!(
        by_policy,
        [
            (
                "hash-deny/1".to_string(),
                "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT"
            ),
            (
                "bypass/1".to_string(),
                "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS"
            ),
        ]
    );
}

#[test]
fn logging_disabled() {
    let mut i = inputs();
    assert_eq!(
        codes(&run_check("LOGGING_DISABLED_CHECK", &i)),
        ["LOGGING_DISABLED"]
    );
    i.view.logging = AuditLogging {
        v1_level: Some("DISABLED".into()),
        v2: Some(("INFO".into(), true)),
    };
    assert_eq!(
        codes(&run_check("LOGGING_DISABLED_CHECK", &i)),
        ["LOGGING_DISABLED"]
    );
    i.view.logging = AuditLogging {
        v1_level: None,
        v2: Some(("ERROR".into(), false)),
    };
    let outcome = run_check("LOGGING_DISABLED_CHECK", &i);
    assert!(outcome.findings.is_empty() && outcome.total == 1);
    i.view.logging = AuditLogging {
        v1_level: Some("WARN".into()),
        v2: Some(("DISABLED".into(), false)),
    };
    assert!(run_check("LOGGING_DISABLED_CHECK", &i).findings.is_empty());
}

#[test]
fn every_catalogue_check_runs() {
    let i = inputs();
    for def in catalog::CHECKS {
        assert!(run(def, &i).is_ok(), "{}", def.name);
    }
}
