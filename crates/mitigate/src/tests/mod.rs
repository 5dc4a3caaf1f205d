//! Mitigation over a real SQLite store and registry, with findings and violations held in
//! memory and a clock the tests set: each effect and its idempotence, the task rules of spec
//! 4.3/4.4, restarts, account isolation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fleetward_ca::CertificateAuthority;
use fleetward_model::ManualClock;
use fleetward_registry::{Endpoints, Registry};
use fleetward_store::{AccountRow, Store};
use serde_json::{Value, json};

use crate::sources::{AuditTaskInfo, Finding, FindingSource, RecordingPublisher};
use crate::{Caller, Mitigate, MitigateError, MitigateOptions, MitigateResult};

mod detect;

const ACCOUNT: &str = "000000000000";
const OTHER: &str = "111111111111";
const START_MS: i64 = 1_767_225_600_000;
const AUDIT_TASK: &str = "0123456789abcdef0123456789abcdef";
const ROLE: &str = "arn:aws:iam::000000000000:role/mitigation";

/// Audit findings in memory. While `hold_after` is set, pages after that many findings wait
/// (a task "in progress" when the node stops).
#[derive(Default)]
struct MemoryFindings {
    findings: Mutex<Vec<Finding>>,
    hold_after: Mutex<Option<usize>>,
}

impl MemoryFindings {
    fn add(&self, f: Finding) {
        self.findings.lock().unwrap().push(f);
    }
}

#[async_trait::async_trait]
impl FindingSource for MemoryFindings {
    async fn audit_task(&self, _: &str, task_id: &str) -> MitigateResult<Option<AuditTaskInfo>> {
        let checks: Vec<String> = self
            .findings
            .lock()
            .unwrap()
            .iter()
            .filter(|f| f.task_id == task_id)
            .map(|f| f.check_name.clone())
            .collect();
        Ok((task_id == AUDIT_TASK).then(|| AuditTaskInfo {
            status: "COMPLETED".into(),
            start_ms: START_MS,
            checks,
        }))
    }

    async fn latest_task_with_check(&self, _: &str, _: &str) -> MitigateResult<Option<String>> {
        Ok(Some(AUDIT_TASK.into()))
    }

    async fn findings_page(
        &self,
        _: &str,
        task_id: &str,
        check: &str,
        after: Option<&str>,
        limit: usize,
    ) -> MitigateResult<(Vec<Finding>, Option<String>)> {
        let mut all: Vec<Finding> = self
            .findings
            .lock()
            .unwrap()
            .iter()
            .filter(|f| f.task_id == task_id && f.check_name == check)
            .cloned()
            .collect();
        all.sort_by(|a, b| a.finding_id.cmp(&b.finding_id));
        let skip = after.map_or(0, |a| {
            all.iter()
                .take_while(|f| f.finding_id.as_str() <= a)
                .count()
        });
        let hold = *self.hold_after.lock().unwrap();
        if hold.is_some_and(|h| skip >= h) {
            std::future::pending::<()>().await;
        }
        let page: Vec<Finding> = all.iter().skip(skip).take(limit).cloned().collect();
        let next = (skip + page.len() < all.len()).then(|| page.last().unwrap().finding_id.clone());
        Ok((page, next))
    }

    async fn finding(&self, _: &str, id: &str) -> MitigateResult<Option<Finding>> {
        Ok(self
            .findings
            .lock()
            .unwrap()
            .iter()
            .find(|f| f.finding_id == id)
            .cloned())
    }
}

fn finding(id: &str, check: &str, resource: Value, reason: &str) -> Finding {
    Finding {
        finding_id: id.into(),
        task_id: AUDIT_TASK.into(),
        check_name: check.into(),
        severity: "MEDIUM".into(),
        task_start_ms: START_MS,
        finding_ms: START_MS + 5,
        non_compliant_resource: resource,
        reason_code: reason.into(),
        reason: "r".into(),
        is_suppressed: false,
    }
}

fn cert_finding(id: &str, cert: &str) -> Finding {
    finding(
        id,
        "DEVICE_CERTIFICATE_EXPIRING_CHECK",
        json!({"resourceType": "DEVICE_CERTIFICATE", "resourceIdentifier": {"deviceCertificateId": cert}}),
        "CERTIFICATE_APPROACHING_EXPIRATION",
    )
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: ManualClock,
    registry: Arc<Registry>,
    findings: Arc<MemoryFindings>,
    published: Arc<RecordingPublisher>,
    mitigate: Arc<Mitigate>,
}

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.into(),
        identity: "test".into(),
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = fleetward_store::open(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .unwrap();
    for id in [ACCOUNT, OTHER] {
        store
            .create_account(&AccountRow {
                account_id: id.into(),
                name: id.into(),
                created_ms: 0,
            })
            .await
            .unwrap();
    }
    let clock = ManualClock::new(START_MS);
    let ca = CertificateAuthority::load_or_create(&dir.path().join("ca"), &[], START_MS).unwrap();
    let registry = Arc::new(
        Registry::open(
            store.clone(),
            Arc::new(clock.clone()),
            "us-east-1",
            Arc::new(ca),
            Endpoints {
                data: "localhost".into(),
                credential_provider: "x".into(),
            },
        )
        .await
        .unwrap(),
    );
    let findings = Arc::new(MemoryFindings::default());
    let published = Arc::new(RecordingPublisher::default());
    let mitigate = open(&store, &clock, &registry, &findings, &published).await;
    Fixture {
        dir,
        store,
        clock,
        registry,
        findings,
        published,
        mitigate,
    }
}

async fn open(
    store: &Arc<dyn Store>,
    clock: &ManualClock,
    registry: &Arc<Registry>,
    findings: &Arc<MemoryFindings>,
    published: &Arc<RecordingPublisher>,
) -> Arc<Mitigate> {
    let m = Mitigate::open(
        store.clone(),
        Arc::new(clock.clone()),
        "us-east-1",
        registry.clone(),
        findings.clone(),
        Some(published.clone()),
        MitigateOptions { batch: 2 },
    )
    .await
    .unwrap();
    m.start().await;
    m
}

impl Fixture {
    async fn action(&self, name: &str, params: Value) {
        self.mitigate
            .handle_create_mitigation_action(
                &caller(ACCOUNT),
                &json!({"actionName": name, "roleArn": ROLE, "actionParams": params}),
            )
            .await
            .unwrap();
    }

    async fn device(&self, thing: Option<&str>) -> String {
        let me = caller(ACCOUNT);
        let out = self
            .registry
            .handle_create_keys_and_certificate(&me, &json!({"setAsActive": true}))
            .await
            .unwrap();
        if let Some(thing) = thing {
            self.registry
                .handle_create_thing(&me, &json!({"thingName": thing}))
                .await
                .unwrap();
            self.registry
                .handle_attach_thing_principal(
                    &me,
                    &json!({"thingName": thing, "principal": out["certificateArn"]}),
                )
                .await
                .unwrap();
        }
        out["certificateId"].as_str().unwrap().to_string()
    }

    async fn cert_status(&self, id: &str) -> String {
        let out = self
            .registry
            .handle_describe_certificate(&caller(ACCOUNT), &json!({"certificateId": id}))
            .await
            .unwrap();
        out["certificateDescription"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn start(&self, task: &str, target: Value, mapping: Value) -> MitigateResult<Value> {
        self.mitigate
            .handle_start_audit_mitigation_actions_task(
                &caller(ACCOUNT),
                &json!({"taskId": task, "target": target, "auditCheckToActionsMapping": mapping, "clientRequestToken": "tok"}),
            )
            .await
    }

    async fn wait(&self, task: &str) -> Value {
        for _ in 0..500 {
            let d = self
                .mitigate
                .handle_describe_audit_mitigation_actions_task(
                    &caller(ACCOUNT),
                    &json!({"taskId": task}),
                )
                .await
                .unwrap();
            if d["taskStatus"] != "IN_PROGRESS" {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("task {task} did not finish");
    }

    async fn executions(&self, task: &str, finding: &str) -> Vec<(String, String, Option<String>)> {
        let out = self
            .mitigate
            .handle_list_audit_mitigation_actions_executions(
                &caller(ACCOUNT),
                &json!({"taskId": task, "findingId": finding}),
            )
            .await
            .unwrap();
        out["actionsExecutions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["actionName"].as_str().unwrap().to_string(),
                    e["status"].as_str().unwrap().to_string(),
                    e["errorCode"].as_str().map(str::to_string),
                )
            })
            .collect()
    }
}

const DEACTIVATE: &str = r#"{"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}"#;

fn params(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn deactivation_in_batches_is_idempotent_and_skips_suppressed_findings() {
    let f = fixture().await;
    f.action("deactivate", params(DEACTIVATE)).await;
    let mut certs = Vec::new();
    for i in 0..5 {
        let cert = f.device(None).await;
        let mut finding = cert_finding(&format!("f{i}"), &cert);
        finding.is_suppressed = i == 4;
        f.findings.add(finding);
        certs.push(cert);
    }
    let mapping = json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]});
    f.start("t1", json!({"auditTaskId": AUDIT_TASK}), mapping.clone())
        .await
        .unwrap();
    let d = f.wait("t1").await;
    assert_eq!(d["taskStatus"], "COMPLETED");
    assert_eq!(
        d["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"],
        json!({"totalFindingsCount": 5, "failedFindingsCount": 0, "succeededFindingsCount": 4, "skippedFindingsCount": 1, "canceledFindingsCount": 0})
    );
    for cert in &certs[..4] {
        assert_eq!(f.cert_status(cert).await, "INACTIVE");
    }
    assert_eq!(f.cert_status(&certs[4]).await, "ACTIVE");
    assert_eq!(
        f.executions("t1", "f4").await,
        [("deactivate".into(), "SKIPPED".into(), None)]
    );
    // Again: already inactive certificates succeed unchanged.
    let generation = f.registry.generation();
    f.start("t2", json!({"auditTaskId": AUDIT_TASK}), mapping)
        .await
        .unwrap();
    assert_eq!(f.wait("t2").await["taskStatus"], "COMPLETED");
    assert_eq!(
        f.executions("t2", "f0").await,
        [("deactivate".into(), "COMPLETED".into(), None)]
    );
    let cert = f
        .registry
        .handle_describe_certificate(&caller(ACCOUNT), &json!({"certificateId": certs[0]}))
        .await
        .unwrap();
    assert_eq!(cert["certificateDescription"]["customerVersion"], 2);
    assert!(f.registry.generation() >= generation);
}

#[tokio::test]
async fn a_failed_action_skips_the_rest_and_fails_the_task() {
    let f = fixture().await;
    f.action(
        "quarantine",
        json!({"addThingsToThingGroupParams": {"thingGroupNames": ["missing-group"]}}),
    )
    .await;
    f.action("deactivate", params(DEACTIVATE)).await;
    let cert = f.device(Some("dev-1")).await;
    f.findings.add(cert_finding("f1", &cert));
    f.start(
        "t",
        json!({"findingIds": ["f1"]}),
        json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["quarantine", "deactivate"]}),
    )
    .await
    .unwrap();
    let d = f.wait("t").await;
    assert_eq!(d["taskStatus"], "FAILED");
    assert_eq!(
        f.executions("t", "f1").await,
        [
            (
                "quarantine".into(),
                "FAILED".into(),
                Some("ResourceNotFoundException".into())
            ),
            ("deactivate".into(), "SKIPPED".into(), None)
        ]
    );
    assert_eq!(f.cert_status(&cert).await, "ACTIVE");
}

#[tokio::test]
async fn each_effect_applies_once_however_often_it_runs() {
    let f = fixture().await;
    let me = caller(ACCOUNT);
    // ADD_THINGS_TO_THING_GROUP: the things of the finding's certificate join the group.
    f.registry
        .handle_create_thing_group(&me, &json!({"thingGroupName": "quarantine"}))
        .await
        .unwrap();
    f.action("quarantine", json!({"addThingsToThingGroupParams": {"thingGroupNames": ["quarantine"], "overrideDynamicGroups": true}})).await;
    let cert = f.device(Some("dev-q")).await;
    f.findings.add(cert_finding("fq", &cert));
    // REPLACE_DEFAULT_POLICY_VERSION: a blank default, old versions kept.
    let permissive = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;
    f.registry
        .handle_create_policy(
            &me,
            &json!({"policyName": "p", "policyDocument": permissive}),
        )
        .await
        .unwrap();
    f.action(
        "blank",
        json!({"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}}),
    )
    .await;
    f.findings.add(finding(
        "fp",
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        json!({"resourceType": "IOT_POLICY", "resourceIdentifier": {"policyVersionIdentifier": {"policyName": "p", "policyVersionId": "1"}}}),
        "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
    ));
    // ENABLE_IOT_LOGGING and PUBLISH_FINDING_TO_SNS.
    f.action(
        "logs",
        json!({"enableIoTLoggingParams": {"roleArnForLogging": ROLE, "logLevel": "ERROR"}}),
    )
    .await;
    f.action(
        "sns",
        json!({"publishFindingToSnsParams": {"topicArn": "arn:aws:sns:us-east-1:000000000000:t"}}),
    )
    .await;
    f.findings.add(finding(
        "fl",
        "LOGGING_DISABLED_CHECK",
        json!({"resourceType": "ACCOUNT_SETTINGS", "resourceIdentifier": {"account": ACCOUNT}}),
        "LOGGING_DISABLED",
    ));
    let mapping = json!({
        "DEVICE_CERTIFICATE_EXPIRING_CHECK": ["quarantine"],
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["blank"],
        "LOGGING_DISABLED_CHECK": ["logs", "sns"],
    });
    for task in ["once", "twice"] {
        f.start(task, json!({"auditTaskId": AUDIT_TASK}), mapping.clone())
            .await
            .unwrap();
        assert_eq!(f.wait(task).await["taskStatus"], "COMPLETED", "{task}");
    }
    let groups = f
        .registry
        .handle_list_thing_groups_for_thing(&me, &json!({"thingName": "dev-q"}))
        .await
        .unwrap();
    assert_eq!(groups["thingGroups"].as_array().unwrap().len(), 1);
    let versions = f
        .registry
        .handle_list_policy_versions(&me, &json!({"policyName": "p"}))
        .await
        .unwrap();
    assert_eq!(versions["policyVersions"].as_array().unwrap().len(), 2);
    let policy = f
        .registry
        .handle_get_policy(&me, &json!({"policyName": "p"}))
        .await
        .unwrap();
    assert_eq!(policy["policyDocument"], crate::BLANK_POLICY);
    assert_eq!(policy["defaultVersionId"], "2");
    let logging = f
        .registry
        .handle_get_v2_logging_options(&me, &json!({}))
        .await
        .unwrap();
    assert_eq!(
        logging,
        json!({"defaultLogLevel": "ERROR", "disableAllLogs": false, "roleArn": ROLE})
    );
    let published = f.published.published.lock().unwrap().clone();
    assert_eq!(published.len(), 2, "one message per run");
    let message: Value = serde_json::from_str(&published[0].2).unwrap();
    assert_eq!(message["findingId"], "fl");
    assert_eq!(message["findingTime"], START_MS + 5);
}

#[tokio::test]
async fn ca_deactivation_is_idempotent() {
    let f = fixture().await;
    let me = caller(ACCOUNT);
    let ca = fleetward_ca::testing::self_signed_ca("Mitigation CA");
    let code = f
        .registry
        .handle_get_registration_code(&me, &json!({}))
        .await
        .unwrap();
    let verification =
        fleetward_ca::testing::verification_cert(&ca, code["registrationCode"].as_str().unwrap());
    let out = f
        .registry
        .handle_register_ca_certificate(
            &me,
            &json!({"caCertificate": ca.cert_pem, "verificationCertificate": verification.cert_pem, "setAsActive": true}),
        )
        .await
        .unwrap();
    let id = out["certificateId"].as_str().unwrap().to_string();
    f.action(
        "ca",
        json!({"updateCACertificateParams": {"action": "DEACTIVATE"}}),
    )
    .await;
    f.findings.add(finding(
        "fc",
        "CA_CERTIFICATE_EXPIRING_CHECK",
        json!({"resourceType": "CA_CERTIFICATE", "resourceIdentifier": {"caCertificateId": id}}),
        "CERTIFICATE_APPROACHING_EXPIRATION",
    ));
    let mut versions = Vec::new();
    for task in ["a", "b"] {
        f.start(
            task,
            json!({"findingIds": ["fc"]}),
            json!({"CA_CERTIFICATE_EXPIRING_CHECK": ["ca"]}),
        )
        .await
        .unwrap();
        assert_eq!(f.wait(task).await["taskStatus"], "COMPLETED");
        let d = f
            .registry
            .handle_describe_ca_certificate(&me, &json!({"caCertificateId": id}))
            .await
            .unwrap();
        assert_eq!(d["certificateDescription"]["status"], "INACTIVE");
        versions.push(d["certificateDescription"]["customerVersion"].clone());
    }
    assert_eq!(versions[0], versions[1], "the second run changed nothing");
}

#[tokio::test]
async fn invalid_starts_are_refused_and_nothing_starts() {
    let f = fixture().await;
    f.action(
        "logs",
        json!({"enableIoTLoggingParams": {"roleArnForLogging": ROLE, "logLevel": "ERROR"}}),
    )
    .await;
    f.action("deactivate", params(DEACTIVATE)).await;
    f.findings.add(cert_finding("f1", &"a".repeat(64)));
    let invalid = |r: MitigateResult<Value>| match r {
        Err(MitigateError::InvalidRequest(m)) => m,
        other => panic!("{other:?}"),
    };
    let m = invalid(
        f.start(
            "x",
            json!({"auditTaskId": AUDIT_TASK}),
            json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["logs"]}),
        )
        .await,
    );
    assert!(m.contains("logs (ENABLE_IOT_LOGGING) cannot be applied to findings of DEVICE_CERTIFICATE_EXPIRING_CHECK"), "{m}");
    invalid(
        f.start(
            "x",
            json!({"auditTaskId": AUDIT_TASK}),
            json!({"NOT_A_CHECK": ["logs"]}),
        )
        .await,
    );
    invalid(
        f.start(
            "x",
            json!({"findingIds": ["nope"]}),
            json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}),
        )
        .await,
    );
    invalid(
        f.start(
            "x",
            json!({"findingIds": ["f1"], "auditTaskId": AUDIT_TASK}),
            json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}),
        )
        .await,
    );
    invalid(
        f.start(
            "x",
            json!({}),
            json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}),
        )
        .await,
    );
    invalid(
        f.start(
            "x",
            json!({"findingIds": ["f1"]}),
            json!({"LOGGING_DISABLED_CHECK": ["logs"]}),
        )
        .await,
    );
    invalid(f.start("x", json!({"auditCheckToReasonCodeFilter": {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["WRONG"]}}), json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]})).await);
    invalid(
        f.start(
            "x",
            json!({"auditTaskId": AUDIT_TASK}),
            json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["a", "b", "c", "d", "e", "f"]}),
        )
        .await,
    );
    let listed = f
        .mitigate
        .handle_list_audit_mitigation_actions_tasks(
            &caller(ACCOUNT),
            &json!({"startTime": 0, "endTime": 4_102_444_800u64}),
        )
        .await
        .unwrap();
    assert_eq!(listed["tasks"], json!([]));
    // The same id with another token is a different task.
    f.start(
        "t",
        json!({"findingIds": ["f1"]}),
        json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}),
    )
    .await
    .unwrap();
    let again = f
        .mitigate
        .handle_start_audit_mitigation_actions_task(
            &caller(ACCOUNT),
            &json!({"taskId": "t", "target": {"findingIds": ["f1"]}, "auditCheckToActionsMapping": {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}, "clientRequestToken": "other"}),
        )
        .await;
    assert!(matches!(again, Err(MitigateError::TaskAlreadyExists(_))));
}

#[tokio::test]
async fn a_task_in_progress_resumes_after_a_restart_without_redoing_batches() {
    let f = fixture().await;
    f.action("deactivate", params(DEACTIVATE)).await;
    let mut certs = Vec::new();
    for i in 0..5 {
        let cert = f.device(None).await;
        f.findings.add(cert_finding(&format!("f{i}"), &cert));
        certs.push(cert);
    }
    // The first node does one batch (2 findings) and then waits forever on the next page.
    *f.findings.hold_after.lock().unwrap() = Some(2);
    f.start(
        "t",
        json!({"auditTaskId": AUDIT_TASK}),
        json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}),
    )
    .await
    .unwrap();
    for _ in 0..500 {
        if f.cert_status(&certs[1]).await == "INACTIVE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(f.cert_status(&certs[2]).await, "ACTIVE");
    // A new node over the same store resumes it; the first batch's executions are not redone.
    *f.findings.hold_after.lock().unwrap() = None;
    f.clock.advance(60_000);
    let second = open(&f.store, &f.clock, &f.registry, &f.findings, &f.published).await;
    let mut described = Value::Null;
    for _ in 0..500 {
        described = second
            .handle_describe_audit_mitigation_actions_task(
                &caller(ACCOUNT),
                &json!({"taskId": "t"}),
            )
            .await
            .unwrap();
        if described["taskStatus"] != "IN_PROGRESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(described["taskStatus"], "COMPLETED");
    assert_eq!(
        described["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["totalFindingsCount"],
        5
    );
    for cert in &certs {
        assert_eq!(f.cert_status(cert).await, "INACTIVE");
    }
    let first = second
        .handle_list_audit_mitigation_actions_executions(
            &caller(ACCOUNT),
            &json!({"taskId": "t", "findingId": "f0"}),
        )
        .await
        .unwrap();
    assert_eq!(
        first["actionsExecutions"][0]["startTime"],
        json!(START_MS as f64 / 1000.0)
    );
    drop(f.dir);
}

#[tokio::test]
async fn accounts_see_only_their_own_actions_and_tasks() {
    let f = fixture().await;
    f.action("deactivate", params(DEACTIVATE)).await;
    f.findings.add(cert_finding("f1", &f.device(None).await));
    f.start(
        "t",
        json!({"findingIds": ["f1"]}),
        json!({"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}),
    )
    .await
    .unwrap();
    f.wait("t").await;
    let other = caller(OTHER);
    let listed = f
        .mitigate
        .handle_list_mitigation_actions(&other, &json!({}))
        .await
        .unwrap();
    assert_eq!(listed["actionIdentifiers"], json!([]));
    assert!(matches!(
        f.mitigate
            .handle_describe_mitigation_action(&other, &json!({"actionName": "deactivate"}))
            .await,
        Err(MitigateError::ResourceNotFound(_))
    ));
    assert!(matches!(
        f.mitigate
            .handle_describe_audit_mitigation_actions_task(&other, &json!({"taskId": "t"}))
            .await,
        Err(MitigateError::ResourceNotFound(_))
    ));
    let execs = f
        .mitigate
        .handle_list_audit_mitigation_actions_executions(
            &other,
            &json!({"taskId": "t", "findingId": "f1"}),
        )
        .await
        .unwrap();
    assert_eq!(execs["actionsExecutions"], json!([]));
    // The other account's start cannot use this account's action.
    let refused = f
        .mitigate
        .handle_start_audit_mitigation_actions_task(
            &other,
            &json!({"taskId": "t2", "target": {"findingIds": ["f1"]}, "auditCheckToActionsMapping": {"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["deactivate"]}, "clientRequestToken": "x"}),
        )
        .await;
    assert!(matches!(refused, Err(MitigateError::InvalidRequest(_))));
}
