//! Detect mitigation tasks over violations held in memory.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{ACCOUNT, DEACTIVATE, START_MS, caller, fixture, params};
use crate::MitigateError;
use crate::sources::{MemoryViolations, Violation};

#[tokio::test]
async fn detect_tasks_quarantine_the_things_of_selected_violations() {
    let f = fixture().await;
    let me = caller(ACCOUNT);
    f.registry
        .handle_create_thing_group(&me, &json!({"thingGroupName": "quarantine"}))
        .await
        .unwrap();
    for t in ["active", "ended", "quiet"] {
        f.registry
            .handle_create_thing(&me, &json!({"thingName": t}))
            .await
            .unwrap();
    }
    f.action(
        "quarantine",
        json!({"addThingsToThingGroupParams": {"thingGroupNames": ["quarantine"]}}),
    )
    .await;
    f.action("deactivate", params(DEACTIVATE)).await;
    let violations = Arc::new(MemoryViolations::default());
    let violation = |id: &str, thing: &str, end: Option<i64>, suppressed: bool| Violation {
        violation_id: id.into(),
        thing_name: thing.into(),
        security_profile_name: "profile".into(),
        behavior_name: "msgs".into(),
        start_ms: START_MS,
        end_ms: end,
        suppressed,
    };
    violations.add(ACCOUNT, violation("v1", "active", None, false));
    violations.add(
        ACCOUNT,
        violation("v2", "ended", Some(START_MS + 10), false),
    );
    violations.add(ACCOUNT, violation("v3", "quiet", None, true));
    let start = |id: &str, body: Value| {
        let m = f.mitigate.clone();
        let mut input = body;
        input["taskId"] = json!(id);
        input["clientRequestToken"] = json!("tok");
        async move {
            m.handle_start_detect_mitigation_actions_task(&caller(ACCOUNT), &input)
                .await
        }
    };
    let body = json!({"target": {"securityProfileName": "profile"}, "actions": ["quarantine"], "includeOnlyActiveViolations": true});
    // Detect not connected yet: a clear refusal.
    assert!(matches!(
        start("d0", body.clone()).await,
        Err(MitigateError::InvalidRequest(_))
    ));
    f.mitigate.set_violation_source(violations);
    assert!(matches!(
        start(
            "d1",
            json!({"target": {"violationIds": ["v1"]}, "actions": ["deactivate"]})
        )
        .await,
        Err(MitigateError::InvalidRequest(_))
    ));
    start("d2", body).await.unwrap();
    let mut summary = Value::Null;
    for _ in 0..500 {
        summary = f
            .mitigate
            .handle_describe_detect_mitigation_actions_task(&me, &json!({"taskId": "d2"}))
            .await
            .unwrap()["taskSummary"]
            .clone();
        if summary["taskStatus"] != "IN_PROGRESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(summary["taskStatus"], "SUCCESSFUL");
    assert_eq!(
        summary["taskStatistics"],
        json!({"actionsExecuted": 1, "actionsSkipped": 0, "actionsFailed": 0})
    );
    let in_group = f
        .registry
        .handle_list_things_in_thing_group(&me, &json!({"thingGroupName": "quarantine"}))
        .await
        .unwrap();
    assert_eq!(in_group["things"], json!(["active"]));
    let execs = f
        .mitigate
        .handle_list_detect_mitigation_actions_executions(&me, &json!({"thingName": "active"}))
        .await
        .unwrap();
    assert_eq!(execs["actionsExecutions"][0]["status"], "SUCCESSFUL");
    assert_eq!(execs["actionsExecutions"][0]["violationId"], "v1");
}
