//! The audit service end to end over a real SQLite store, registry and hub, with a clock the
//! tests move: configuration, on-demand and scheduled tasks, suppressions, hub delivery and
//! archiving, notifications, restarts.

use std::sync::Arc;
use std::time::Duration;

use fleetward_ca::CertificateAuthority;
use fleetward_hub::Hub;
use fleetward_model::{Clock, ManualClock};
use fleetward_registry::{Endpoints, Registry};
use fleetward_store::{AccountRow, Store};
use serde_json::{Value, json};

use crate::model::{Delivery, TaskStatus};
use crate::{Audit, AuditError, AuditOptions, Caller, RecordingNotifier};

const ACCOUNT: &str = "000000000000";
/// 2026-01-01T00:00:00Z, a Thursday.
const START_MS: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;
const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/aws/iot-device-defender-audit";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: ManualClock,
    registry: Arc<Registry>,
    hub: Arc<Hub>,
    notifier: Arc<RecordingNotifier>,
    audit: Arc<Audit>,
}

fn caller() -> Caller {
    Caller {
        account_id: ACCOUNT.into(),
        identity: "test".into(),
    }
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = fleetward_store::open(&format!("sqlite://{}", dir.path().join("a.db").display()))
        .await
        .unwrap();
    store
        .create_account(&AccountRow {
            account_id: ACCOUNT.into(),
            name: "a".into(),
            created_ms: 0,
        })
        .await
        .unwrap();
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
    let hub = Arc::new(
        Hub::open(store.clone(), Arc::new(clock.clone()), "us-east-1")
            .await
            .unwrap(),
    );
    hub.enable_hub(ACCOUNT, "SECURITY_CONTROL").await.unwrap();
    hub.subscribe_product(ACCOUNT, fleetward_hub::DEVICE_DEFENDER_AUDIT)
        .await
        .unwrap();
    let notifier = Arc::new(RecordingNotifier::default());
    let audit = open_audit(&store, &clock, &registry, &hub, &notifier).await;
    Fixture {
        _dir: dir,
        store,
        clock,
        registry,
        hub,
        notifier,
        audit,
    }
}

async fn open_audit(
    store: &Arc<dyn Store>,
    clock: &ManualClock,
    registry: &Arc<Registry>,
    hub: &Arc<Hub>,
    notifier: &Arc<RecordingNotifier>,
) -> Arc<Audit> {
    let audit = Audit::open(
        store.clone(),
        Arc::new(clock.clone()),
        "us-east-1",
        registry.clone(),
        hub.clone(),
        Some(notifier.clone()),
        AuditOptions {
            fetch_crls: false,
            ..AuditOptions::default()
        },
    )
    .await
    .unwrap();
    audit.start().await;
    audit
}

const STAR: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}"#;
const NARROW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"}]}"#;

impl Fixture {
    async fn policy(&self, name: &str, doc: &str) {
        self.registry
            .handle_create_policy(
                &caller(),
                &json!({"policyName": name, "policyDocument": doc}),
            )
            .await
            .unwrap();
    }

    async fn configure(&self, checks: &[&str]) {
        let checks: serde_json::Map<String, Value> = checks
            .iter()
            .map(|c| (c.to_string(), json!({"enabled": true})))
            .collect();
        self.audit
            .handle_update_account_audit_configuration(
                &caller(),
                &json!({
                    "roleArn": "arn:aws:iam::000000000000:role/audit",
                    "auditCheckConfigurations": checks,
                    "auditNotificationTargetConfigurations": {"SNS": {
                        "targetArn": "arn:aws:sns:us-east-1:000000000000:audit", "enabled": true}},
                }),
            )
            .await
            .unwrap();
    }

    async fn start(&self, checks: &[&str]) -> String {
        let out = self
            .audit
            .handle_start_on_demand_audit_task(&caller(), &json!({"targetCheckNames": checks}))
            .await
            .unwrap();
        out["taskId"].as_str().unwrap().to_string()
    }

    /// Waits until the task is finished and delivered to the hub.
    async fn settled(&self, task_id: &str) -> Value {
        for _ in 0..400 {
            let delivered = {
                let all = self.audit.state.lock().await;
                all.get(ACCOUNT)
                    .and_then(|s| s.tasks.get(task_id))
                    .is_some_and(|t| {
                        t.status != TaskStatus::InProgress && t.hub == Delivery::Delivered
                    })
            };
            if delivered {
                return self
                    .audit
                    .handle_describe_audit_task(&caller(), &json!({"taskId": task_id}))
                    .await
                    .unwrap();
            }
            self.audit.wake.notify_one();
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("task {task_id} did not settle");
    }

    async fn findings(&self, task_id: &str) -> Vec<Value> {
        let out = self
            .audit
            .handle_list_audit_findings(&caller(), &json!({"taskId": task_id}))
            .await
            .unwrap();
        out["findings"].as_array().unwrap().clone()
    }

    async fn hub_finding(&self, id: &str) -> Option<Value> {
        let out = self
            .hub
            .handle_get_findings(
                &caller(),
                &json!({"Filters": {"Id": [{"Value": id, "Comparison": "EQUALS"}],
                    "ProductArn": [{"Value": PRODUCT, "Comparison": "EQUALS"}]}}),
            )
            .await
            .unwrap();
        out["Findings"].as_array().unwrap().first().cloned()
    }
}

fn code(e: AuditError) -> &'static str {
    e.code()
}

#[tokio::test]
async fn configuration_rules() {
    let f = fixture().await;
    let described = f
        .audit
        .handle_describe_account_audit_configuration(&caller(), &json!({}))
        .await
        .unwrap();
    let checks = described["auditCheckConfigurations"].as_object().unwrap();
    assert_eq!(
        checks.len(),
        17,
        "AWS's checks; Fleetward's own only once configured"
    );
    assert!(checks.values().all(|c| c["enabled"] == false));
    assert!(described.get("roleArn").is_none());

    let update = |input: Value| {
        let audit = f.audit.clone();
        async move {
            audit
                .handle_update_account_audit_configuration(&caller(), &input)
                .await
        }
    };
    // The first call needs a role and an enabled check.
    let e =
        update(json!({"auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": true}}}))
            .await;
    assert_eq!(code(e.unwrap_err()), "InvalidRequestException");
    let e = update(json!({"roleArn": "arn:aws:iam::000000000000:role/audit"})).await;
    assert_eq!(code(e.unwrap_err()), "InvalidRequestException");
    for bad in [
        json!({"roleArn": "short", "auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": true}}}),
        json!({"roleArn": "arn:aws:iam::000000000000:role/audit", "auditCheckConfigurations": {"NOPE": {"enabled": true}}}),
        json!({"roleArn": "arn:aws:iam::000000000000:role/audit", "auditCheckConfigurations": {
            "DEVICE_CERTIFICATE_AGE_CHECK": {"enabled": true, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "10"}}}}),
        json!({"roleArn": "arn:aws:iam::000000000000:role/audit", "auditCheckConfigurations": {
            "LOGGING_DISABLED_CHECK": {"enabled": true, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "100"}}}}),
        json!({"roleArn": "arn:aws:iam::000000000000:role/audit", "auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": true}},
            "auditNotificationTargetConfigurations": {"EMAIL": {"enabled": false}}}),
    ] {
        assert_eq!(
            code(update(bad.clone()).await.unwrap_err()),
            "InvalidRequestException",
            "{bad}"
        );
    }
    f.configure(&["LOGGING_DISABLED_CHECK", "DEVICE_CERTIFICATE_AGE_CHECK"])
        .await;
    update(json!({"auditCheckConfigurations": {
        "DEVICE_CERTIFICATE_AGE_CHECK": {"enabled": true, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "400"}}}}))
    .await
    .unwrap();
    let described = f
        .audit
        .handle_describe_account_audit_configuration(&caller(), &json!({}))
        .await
        .unwrap();
    assert_eq!(described["roleArn"], "arn:aws:iam::000000000000:role/audit");
    assert_eq!(
        described["auditCheckConfigurations"]["DEVICE_CERTIFICATE_AGE_CHECK"],
        json!({"enabled": true, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "400"}})
    );
    assert_eq!(
        described["auditNotificationTargetConfigurations"]["SNS"]["enabled"],
        true
    );

    // A check a scheduled audit runs cannot be disabled; the configuration cannot be deleted
    // while scheduled audits exist unless they go with it.
    f.audit
        .handle_create_scheduled_audit(
            &caller(),
            &json!({"scheduledAuditName": "daily", "frequency": "DAILY",
            "targetCheckNames": ["LOGGING_DISABLED_CHECK"]}),
        )
        .await
        .unwrap();
    let e =
        update(json!({"auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": false}}}))
            .await;
    assert_eq!(code(e.unwrap_err()), "InvalidRequestException");
    let delete = |input: Value| {
        let audit = f.audit.clone();
        async move {
            audit
                .handle_delete_account_audit_configuration(&caller(), &input)
                .await
        }
    };
    assert_eq!(
        code(delete(json!({})).await.unwrap_err()),
        "InvalidRequestException"
    );
    delete(json!({"deleteScheduledAudits": true}))
        .await
        .unwrap();
    assert_eq!(
        code(delete(json!({})).await.unwrap_err()),
        "ResourceNotFoundException"
    );
    let e = f
        .audit
        .handle_describe_scheduled_audit(&caller(), &json!({"scheduledAuditName": "daily"}))
        .await;
    assert_eq!(code(e.unwrap_err()), "ResourceNotFoundException");
}

#[tokio::test]
async fn on_demand_audit_reaches_the_hub_and_archives_when_fixed() {
    let f = fixture().await;
    f.policy("star", STAR).await;
    f.configure(&[
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        "LOGGING_DISABLED_CHECK",
    ])
    .await;
    let e = f
        .audit
        .handle_start_on_demand_audit_task(
            &caller(),
            &json!({"targetCheckNames": ["DEVICE_CERTIFICATE_AGE_CHECK"]}),
        )
        .await;
    assert_eq!(
        code(e.unwrap_err()),
        "InvalidRequestException",
        "the check is not enabled"
    );

    let task = f
        .start(&[
            "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "LOGGING_DISABLED_CHECK",
        ])
        .await;
    let described = f.settled(&task).await;
    assert_eq!(described["taskStatus"], "COMPLETED");
    assert_eq!(described["taskStatistics"]["nonCompliantChecks"], 2);
    let findings = f.findings(&task).await;
    assert_eq!(findings.len(), 2);
    let hub_id = format!(
        "{ACCOUNT}/IOT_POLICY/star/1/IOT_POLICY_OVERLY_PERMISSIVE_CHECK/ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
    );
    let asff = f.hub_finding(&hub_id).await.expect("in the hub");
    assert_eq!(asff["RecordState"], "ACTIVE");
    assert_eq!(asff["Severity"]["Label"], "CRITICAL");

    // The audit report went to the notification target.
    let published = f.notifier.published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    let report: Value = serde_json::from_str(&published[0].3).unwrap();
    assert_eq!(report["taskId"], task.as_str());
    assert_eq!(report["nonCompliantChecksCount"], 2);
    assert_eq!(report["totalChecksCount"], 2);
    assert_eq!(report["auditDetails"].as_array().unwrap().len(), 2);

    f.registry
        .handle_create_policy_version(
            &caller(),
            &json!({"policyName": "star", "policyDocument": NARROW, "setAsDefault": true}),
        )
        .await
        .unwrap();
    f.clock.advance(60_000);
    let second = f.start(&["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]).await;
    let described = f.settled(&second).await;
    assert_eq!(
        described["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["checkRunStatus"],
        "COMPLETED_COMPLIANT"
    );
    assert_eq!(
        f.hub_finding(&hub_id).await.unwrap()["RecordState"],
        "ARCHIVED"
    );
    // The logging finding was not re-evaluated by the second task: it stays active.
    let logging =
        format!("{ACCOUNT}/ACCOUNT_SETTINGS/{ACCOUNT}/LOGGING_DISABLED_CHECK/LOGGING_DISABLED");
    assert_eq!(
        f.hub_finding(&logging).await.unwrap()["RecordState"],
        "ACTIVE"
    );
}

#[tokio::test]
async fn suppressed_findings_are_marked_counted_and_archived() {
    let f = fixture().await;
    f.policy("star", STAR).await;
    f.configure(&["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]).await;
    let resource =
        json!({"policyVersionIdentifier": {"policyName": "star", "policyVersionId": "1"}});
    let create = json!({"checkName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "resourceIdentifier": resource,
        "suppressIndefinitely": true, "description": "accepted risk", "clientRequestToken": "t1"});
    f.audit
        .handle_create_audit_suppression(&caller(), &create)
        .await
        .unwrap();
    // A retry with the same token succeeds; another token is a duplicate.
    f.audit
        .handle_create_audit_suppression(&caller(), &create)
        .await
        .unwrap();
    let mut other = create.clone();
    other["clientRequestToken"] = json!("t2");
    let e = f
        .audit
        .handle_create_audit_suppression(&caller(), &other)
        .await;
    assert_eq!(code(e.unwrap_err()), "ResourceAlreadyExistsException");

    let task = f.start(&["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]).await;
    let described = f.settled(&task).await;
    let details = &described["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"];
    assert_eq!(details["checkRunStatus"], "COMPLETED_COMPLIANT");
    assert_eq!(details["nonCompliantResourcesCount"], 1);
    assert_eq!(details["suppressedNonCompliantResourcesCount"], 1);
    let findings = f.findings(&task).await;
    assert_eq!(findings[0]["isSuppressed"], true);
    let only_unsuppressed = f
        .audit
        .handle_list_audit_findings(
            &caller(),
            &json!({"taskId": task, "listSuppressedFindings": false}),
        )
        .await
        .unwrap();
    assert_eq!(only_unsuppressed["findings"], json!([]));
    let hub_id = format!(
        "{ACCOUNT}/IOT_POLICY/star/1/IOT_POLICY_OVERLY_PERMISSIVE_CHECK/ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
    );
    let asff = f.hub_finding(&hub_id).await.unwrap();
    assert_eq!(asff["RecordState"], "ARCHIVED");
    assert_eq!(asff["ProductFields"]["IsSuppressed"], "true");

    let listed = f
        .audit
        .handle_list_audit_suppressions(&caller(), &json!({}))
        .await
        .unwrap();
    assert_eq!(listed["suppressions"][0]["description"], "accepted risk");
    f.audit
        .handle_delete_audit_suppression(&caller(), &json!({"checkName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "resourceIdentifier": resource}))
        .await
        .unwrap();
    f.clock.advance(1_000);
    let again = f.start(&["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]).await;
    f.settled(&again).await;
    assert_eq!(
        f.hub_finding(&hub_id).await.unwrap()["RecordState"],
        "ACTIVE"
    );
}

#[tokio::test]
async fn scheduled_audit_fires_when_due_and_a_missed_run_runs_once_at_start() {
    let f = fixture().await;
    f.configure(&["LOGGING_DISABLED_CHECK"]).await;
    let out = f
        .audit
        .handle_create_scheduled_audit(&caller(), &json!({"scheduledAuditName": "weekly", "frequency": "WEEKLY",
            "dayOfWeek": "SAT", "targetCheckNames": ["LOGGING_DISABLED_CHECK"], "tags": [{"Key": "team", "Value": "a"}]}))
        .await
        .unwrap();
    assert_eq!(
        out["scheduledAuditArn"],
        "arn:aws:iot:us-east-1:000000000000:scheduledaudit/weekly"
    );
    let scheduled_tasks = |audit: Arc<Audit>| async move {
        let all = audit.state.lock().await;
        all.get(ACCOUNT)
            .map(|s| {
                s.tasks
                    .values()
                    .filter(|t| t.scheduled_audit_name.is_some())
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(
        scheduled_tasks(f.audit.clone()).await.is_empty(),
        "not due before Saturday"
    );
    // Saturday 2026-01-03 00:00 UTC.
    f.clock.set(START_MS + 2 * DAY + 1);
    let mut fired = Vec::new();
    for _ in 0..100 {
        fired = scheduled_tasks(f.audit.clone()).await;
        if !fired.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fired.len(), 1);
    let described = f.settled(&fired[0].task_id).await;
    assert_eq!(described["taskType"], "SCHEDULED_AUDIT_TASK");
    assert_eq!(described["scheduledAuditName"], "weekly");
    let summary = f
        .hub_finding(&format!(
            "{ACCOUNT}/SCHEDULED_AUDIT_TASK/weekly/LOGGING_DISABLED_CHECK"
        ))
        .await
        .unwrap();
    assert_eq!(summary["ProductFields"]["ScheduledAuditName"], "weekly");
    assert!(
        summary["Description"]
            .as_str()
            .unwrap()
            .contains("of weekly scheduled Audit weekly completes")
    );

    // Three weeks pass while the node is down: one run at start, not three.
    f.clock.advance(21 * DAY);
    let reopened = open_audit(&f.store, &f.clock, &f.registry, &f.hub, &f.notifier).await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        tasks = scheduled_tasks(reopened.clone()).await;
        if tasks.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(scheduled_tasks(reopened.clone()).await.len(), 2);
    let audit = reopened
        .handle_describe_scheduled_audit(&caller(), &json!({"scheduledAuditName": "weekly"}))
        .await
        .unwrap();
    assert_eq!(audit["dayOfWeek"], "SAT");
    drop(tasks);
}

#[tokio::test]
async fn interrupted_task_resumes_after_restart_and_cancel_rules() {
    let f = fixture().await;
    f.policy("star", STAR).await;
    f.configure(&["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]).await;
    // A task left in progress by a node that stopped.
    let task = {
        let mut all = f.audit.state.lock().await;
        let state = all.get_mut(ACCOUNT).unwrap();
        let task = crate::tasks::new_task(
            state,
            crate::model::TaskType::OnDemand,
            &["IOT_POLICY_OVERLY_PERMISSIVE_CHECK".to_string()],
            f.clock.now_ms(),
            None,
            None,
            0,
        );
        f.audit.insert_task(ACCOUNT, state, task).await.unwrap()
    };
    let e = f
        .audit
        .handle_cancel_audit_task(
            &caller(),
            &json!({"taskId": "0123456789abcdef0123456789abcdef"}),
        )
        .await;
    assert_eq!(code(e.unwrap_err()), "ResourceNotFoundException");
    let reopened = open_audit(&f.store, &f.clock, &f.registry, &f.hub, &f.notifier).await;
    let g = Fixture {
        audit: reopened,
        ..f
    };
    let described = g.settled(&task).await;
    assert_eq!(described["taskStatus"], "COMPLETED");
    assert_eq!(g.findings(&task).await.len(), 1);
    let e = g
        .audit
        .handle_cancel_audit_task(&caller(), &json!({"taskId": task}))
        .await;
    assert_eq!(
        code(e.unwrap_err()),
        "InvalidRequestException",
        "only in-progress tasks can be canceled"
    );
}

#[tokio::test]
async fn list_tasks_and_findings_validation() {
    let f = fixture().await;
    f.configure(&["LOGGING_DISABLED_CHECK"]).await;
    let a = f.start(&["LOGGING_DISABLED_CHECK"]).await;
    f.settled(&a).await;
    f.clock.advance(1_000);
    let b = f.start(&["LOGGING_DISABLED_CHECK"]).await;
    f.settled(&b).await;
    let now_s = f.clock.now_ms() as f64 / 1000.0;
    let page = f
        .audit
        .handle_list_audit_tasks(
            &caller(),
            &json!({"startTime": now_s - 60.0, "endTime": now_s, "maxResults": 1}),
        )
        .await
        .unwrap();
    assert_eq!(page["tasks"][0]["taskId"], b.as_str(), "newest first");
    let next = f
        .audit
        .handle_list_audit_tasks(
            &caller(),
            &json!({"startTime": now_s - 60.0, "endTime": now_s, "nextToken": page["nextToken"]}),
        )
        .await
        .unwrap();
    assert_eq!(next["tasks"][0]["taskId"], a.as_str());
    assert!(next.get("nextToken").is_none());
    let old = f
        .audit
        .handle_list_audit_tasks(
            &caller(),
            &json!({"startTime": now_s - 91.0 * 86400.0, "endTime": now_s}),
        )
        .await;
    assert_eq!(code(old.unwrap_err()), "InvalidRequestException");
    for bad in [
        json!({}),
        json!({"taskId": a, "startTime": now_s - 60.0, "endTime": now_s}),
        json!({"startTime": now_s}),
    ] {
        let e = f.audit.handle_list_audit_findings(&caller(), &bad).await;
        assert_eq!(code(e.unwrap_err()), "InvalidRequestException", "{bad}");
    }
    let by_time = f
        .audit
        .handle_list_audit_findings(
            &caller(),
            &json!({"startTime": now_s - 60.0, "endTime": now_s + 1.0,
            "checkName": "LOGGING_DISABLED_CHECK", "maxResults": 1}),
        )
        .await
        .unwrap();
    assert_eq!(by_time["findings"].as_array().unwrap().len(), 1);
    let rest = f
        .audit
        .handle_list_audit_findings(
            &caller(),
            &json!({"startTime": now_s - 60.0, "endTime": now_s + 1.0,
            "checkName": "LOGGING_DISABLED_CHECK", "nextToken": by_time["nextToken"]}),
        )
        .await
        .unwrap();
    assert_eq!(rest["findings"].as_array().unwrap().len(), 1);
    assert_ne!(
        rest["findings"][0]["findingId"],
        by_time["findings"][0]["findingId"]
    );
    let e = f
        .audit
        .handle_describe_audit_finding(&caller(), &json!({"findingId": "nope"}))
        .await;
    assert_eq!(code(e.unwrap_err()), "ResourceNotFoundException");
    let e = f
        .audit
        .handle_describe_audit_finding(&caller(), &json!({"findingId": "bad id!"}))
        .await;
    assert_eq!(code(e.unwrap_err()), "InvalidRequestException");
}

#[tokio::test]
async fn related_resources_page_past_ten() {
    let f = fixture().await;
    f.configure(&[
        "CONFLICTING_CLIENT_IDS_CHECK",
        "DEVICE_CERTIFICATE_SHARED_CHECK",
    ])
    .await;
    let t = START_MS - 10 * DAY;
    let mut events = Vec::new();
    for n in 0..25 {
        let base = fleetward_store::ConnectionEvent {
            account_id: ACCOUNT.into(),
            time_ms: t + n,
            kind: "CONNECTED".into(),
            client_id: format!("client-{n}"),
            certificate_id: "ab".repeat(32),
            thing_name: String::new(),
            source_ip: "10.0.0.1".into(),
            source_port: n,
            reason: String::new(),
        };
        events.push(base);
    }
    f.store.append_connection_events(&events).await.unwrap();
    let task = f.start(&["DEVICE_CERTIFICATE_SHARED_CHECK"]).await;
    f.settled(&task).await;
    let finding = &f.findings(&task).await[0];
    assert_eq!(finding["relatedResources"].as_array().unwrap().len(), 10);
    let id = finding["findingId"].clone();
    let first = f
        .audit
        .handle_list_related_resources_for_audit_finding(
            &caller(),
            &json!({"findingId": id, "maxResults": 20}),
        )
        .await
        .unwrap();
    assert_eq!(first["relatedResources"].as_array().unwrap().len(), 20);
    let rest = f
        .audit
        .handle_list_related_resources_for_audit_finding(
            &caller(),
            &json!({"findingId": id, "nextToken": first["nextToken"]}),
        )
        .await
        .unwrap();
    assert_eq!(rest["relatedResources"].as_array().unwrap().len(), 5);
    assert!(rest.get("nextToken").is_none());
}

#[tokio::test]
async fn hub_refusals_are_retried_per_account_until_accepted() {
    let f = fixture().await;
    let other = Caller {
        account_id: "111111111111".into(),
        identity: "test".into(),
    };
    f.store
        .create_account(&AccountRow {
            account_id: other.account_id.clone(),
            name: "b".into(),
            created_ms: 0,
        })
        .await
        .unwrap();
    // The other account's hub is on but does not accept the audit product yet.
    f.hub
        .enable_hub(&other.account_id, "SECURITY_CONTROL")
        .await
        .unwrap();
    let config = json!({"roleArn": "arn:aws:iam::111111111111:role/audit",
        "auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": true}}});
    f.audit
        .handle_update_account_audit_configuration(&other, &config)
        .await
        .unwrap();
    let refused = f
        .audit
        .handle_start_on_demand_audit_task(
            &other,
            &json!({"targetCheckNames": ["LOGGING_DISABLED_CHECK"]}),
        )
        .await
        .unwrap()["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let delivery = |task: String| {
        let audit = f.audit.clone();
        let account = other.account_id.clone();
        async move {
            let all = audit.state.lock().await;
            all.get(&account)
                .and_then(|s| s.tasks.get(&task))
                .map(|t| (t.status, t.hub))
        }
    };
    for _ in 0..100 {
        if delivery(refused.clone())
            .await
            .is_some_and(|(s, _)| s != TaskStatus::InProgress)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Meanwhile the first account's results still go through.
    f.configure(&["LOGGING_DISABLED_CHECK"]).await;
    let accepted = f.start(&["LOGGING_DISABLED_CHECK"]).await;
    f.settled(&accepted).await;
    assert_eq!(
        delivery(refused.clone()).await.unwrap().1,
        Delivery::Pending
    );

    f.hub
        .subscribe_product(&other.account_id, fleetward_hub::DEVICE_DEFENDER_AUDIT)
        .await
        .unwrap();
    for _ in 0..400 {
        if delivery(refused.clone()).await.unwrap().1 == Delivery::Delivered {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the refused delivery was not retried");
}
