//! Hub behaviour end to end over a real SQLite store, with a clock the tests move.

use std::sync::Arc;

use fleetward_model::{Clock, ManualClock};
use fleetward_store::{AccountRow, Store};
use serde_json::{Value, json};

use crate::{Caller, Hub, HubError};

const ACCOUNT: &str = "000000000000";
const OTHER: &str = "111111111111";
const DAY_MS: i64 = 24 * 3600 * 1000;
/// 2026-01-01T00:00:00Z
const START_MS: i64 = 1_767_225_600_000;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: ManualClock,
    hub: Hub,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let store = fleetward_store::open(&url).await.unwrap();
    for account in [ACCOUNT, OTHER] {
        store
            .create_account(&AccountRow {
                account_id: account.into(),
                name: account.into(),
                created_ms: 0,
            })
            .await
            .unwrap();
    }
    let clock = ManualClock::new(START_MS);
    let hub = Hub::open(store.clone(), Arc::new(clock.clone()), "us-east-1")
        .await
        .unwrap();
    hub.enable_hub(ACCOUNT, "SECURITY_CONTROL").await.unwrap();
    Fixture {
        _dir: dir,
        store,
        clock,
        hub,
    }
}

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.into(),
        identity: format!("arn:aws:iam::{account}:user/test"),
    }
}

fn product(account: &str) -> String {
    format!("arn:aws:securityhub:us-east-1:{account}:product/{account}/default")
}

fn at(ms: i64) -> String {
    fleetward_model::timestamp::format_ms(ms)
}

fn finding(account: &str, id: &str, updated_ms: i64, severity: &str) -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": id,
        "ProductArn": product(account),
        "GeneratorId": "unit-test",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/Vulnerabilities"],
        "CreatedAt": at(START_MS),
        "UpdatedAt": at(updated_ms),
        "Severity": { "Label": severity },
        "Title": format!("Finding {id}"),
        "Description": "A finding made by the hub unit tests.",
        "Resources": [{ "Type": "AwsIotPolicy", "Id": format!("policy-{id}") }]
    })
}

async fn import(hub: &Hub, account: &str, findings: Vec<Value>) -> Value {
    hub.handle_batch_import_findings(&caller(account), json!({ "Findings": findings }))
        .await
        .unwrap()
}

async fn get_one(hub: &Hub, account: &str, id: &str) -> Option<Value> {
    let output = hub
        .handle_get_findings(
            &caller(account),
            &json!({ "Filters": { "Id": [{ "Value": id, "Comparison": "EQUALS" }] } }),
        )
        .await
        .unwrap();
    output["Findings"].as_array().unwrap().first().cloned()
}

#[tokio::test]
async fn stale_imports_are_ignored_and_newer_ones_update() {
    let f = fixture().await;
    let out = import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS, "LOW")],
    )
    .await;
    assert_eq!(out["SuccessCount"], 1);
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS, "HIGH")],
    )
    .await;
    assert_eq!(
        get_one(&f.hub, ACCOUNT, "a").await.unwrap()["Severity"]["Label"],
        "LOW"
    );
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS + 1, "HIGH")],
    )
    .await;
    let stored = get_one(&f.hub, ACCOUNT, "a").await.unwrap();
    assert_eq!(stored["Severity"]["Label"], "HIGH");
    assert_eq!(f.hub.finding_count(), 1);
}

#[tokio::test]
async fn customer_workflow_survives_a_provider_reimport() {
    let f = fixture().await;
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS, "LOW")],
    )
    .await;
    let update = json!({
        "FindingIdentifiers": [{ "Id": "a", "ProductArn": product(ACCOUNT) },
                               { "Id": "a", "ProductArn": product(ACCOUNT) },
                               { "Id": "missing", "ProductArn": product(ACCOUNT) }],
        "Workflow": { "Status": "SUPPRESSED" }
    });
    let out = f
        .hub
        .handle_batch_update_findings(&caller(ACCOUNT), &update)
        .await
        .unwrap();
    assert_eq!(out["ProcessedFindings"].as_array().unwrap().len(), 1);
    let codes: Vec<&str> = out["UnprocessedFindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["ErrorCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DuplicatedFindingIdentifier", "FindingNotFound"]);
    let mut newer = finding(ACCOUNT, "a", START_MS + 5, "LOW");
    newer["Workflow"] = json!({ "Status": "NEW" });
    import(&f.hub, ACCOUNT, vec![newer]).await;
    let stored = get_one(&f.hub, ACCOUNT, "a").await.unwrap();
    assert_eq!(stored["Workflow"]["Status"], "SUPPRESSED");

    let history = f
        .hub
        .handle_get_finding_history(
            &caller(ACCOUNT),
            &json!({ "FindingIdentifier": { "Id": "a", "ProductArn": product(ACCOUNT) } }),
        )
        .await
        .unwrap();
    let records = history["Records"].as_array().unwrap();
    assert_eq!(records.len(), 3, "{records:?}");
    assert_eq!(records[0]["FindingCreated"], true);
    assert_eq!(records[1]["UpdateSource"]["Type"], "BATCH_UPDATE_FINDINGS");
    assert_eq!(records[2]["UpdateSource"]["Type"], "BATCH_IMPORT_FINDINGS");
}

#[tokio::test]
async fn updating_only_unknown_findings_reports_each_as_not_found() {
    let f = fixture().await;
    let update = json!({
        "FindingIdentifiers": [{ "Id": "nope", "ProductArn": product(ACCOUNT) }],
        "Note": { "Text": "x", "UpdatedBy": "me" }
    });
    let out = f
        .hub
        .handle_batch_update_findings(&caller(ACCOUNT), &update)
        .await
        .unwrap();
    assert_eq!(out["ProcessedFindings"], json!([]));
    assert_eq!(
        out["UnprocessedFindings"][0]["ErrorCode"],
        "FindingNotFound"
    );
}

#[tokio::test]
async fn paging_is_stable_while_findings_arrive() {
    let f = fixture().await;
    let first: Vec<Value> = (0..150)
        .map(|i| finding(ACCOUNT, &format!("f{i:03}"), START_MS + i, "MEDIUM"))
        .collect();
    import(&f.hub, ACCOUNT, first[..100].to_vec()).await;
    import(&f.hub, ACCOUNT, first[100..].to_vec()).await;
    let request = json!({ "MaxResults": 60 });
    let page1 = f
        .hub
        .handle_get_findings(&caller(ACCOUNT), &request)
        .await
        .unwrap();
    let later: Vec<Value> = (0..20)
        .map(|i| finding(ACCOUNT, &format!("late{i}"), START_MS + 1_000 + i, "MEDIUM"))
        .collect();
    import(&f.hub, ACCOUNT, later).await;
    let mut seen: Vec<String> = Vec::new();
    let mut page = page1;
    loop {
        for finding in page["Findings"].as_array().unwrap() {
            seen.push(finding["Id"].as_str().unwrap().to_string());
        }
        let Some(token) = page["NextToken"].as_str() else {
            break;
        };
        let next = json!({ "MaxResults": 60, "NextToken": token });
        page = f
            .hub
            .handle_get_findings(&caller(ACCOUNT), &next)
            .await
            .unwrap();
    }
    assert_eq!(
        seen.len(),
        150,
        "only the findings of the first page's moment"
    );
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 150, "no duplicates");
    assert_eq!(seen[0], "f149", "most recently updated first");
    let bad = json!({ "MaxResults": 60, "NextToken": "garbage" });
    assert!(matches!(
        f.hub.handle_get_findings(&caller(ACCOUNT), &bad).await,
        Err(HubError::InvalidInput(_))
    ));
}

#[tokio::test]
async fn automation_rules_apply_in_order_and_stop_at_terminal_rules() {
    let f = fixture().await;
    let rule = |order: i64, terminal: bool, confidence: i64| {
        json!({
            "RuleName": format!("rule {order}"), "Description": "d", "RuleOrder": order,
            "IsTerminal": terminal,
            "Criteria": { "SeverityLabel": [{ "Value": "CRITICAL", "Comparison": "EQUALS" }] },
            "Actions": [{ "Type": "FINDING_FIELDS_UPDATE",
                          "FindingFieldsUpdate": { "Confidence": confidence,
                                                   "Workflow": { "Status": "NOTIFIED" } } }]
        })
    };
    for (order, terminal, confidence) in [(3, false, 30), (1, false, 10), (2, true, 20)] {
        f.hub
            .handle_create_automation_rule(&caller(ACCOUNT), &rule(order, terminal, confidence))
            .await
            .unwrap();
    }
    import(
        &f.hub,
        ACCOUNT,
        vec![
            finding(ACCOUNT, "crit", START_MS, "CRITICAL"),
            finding(ACCOUNT, "low", START_MS, "LOW"),
        ],
    )
    .await;
    let crit = get_one(&f.hub, ACCOUNT, "crit").await.unwrap();
    assert_eq!(
        crit["Confidence"], 20,
        "rule 2 is terminal, rule 3 never runs"
    );
    assert_eq!(crit["Workflow"]["Status"], "NOTIFIED");
    let low = get_one(&f.hub, ACCOUNT, "low").await.unwrap();
    assert!(low.get("Confidence").is_none());
    assert_eq!(low["Workflow"]["Status"], "NEW");
}

#[tokio::test]
async fn accounts_are_kept_apart() {
    let f = fixture().await;
    assert!(matches!(
        f.hub.handle_describe_hub(&caller(OTHER), &json!({})).await,
        Err(HubError::InvalidAccess(_))
    ));
    f.hub.enable_hub(OTHER, "SECURITY_CONTROL").await.unwrap();
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "mine", START_MS, "LOW")],
    )
    .await;
    assert!(get_one(&f.hub, OTHER, "mine").await.is_none());
    let foreign = f
        .hub
        .handle_batch_import_findings(
            &caller(OTHER),
            json!({ "Findings": [finding(ACCOUNT, "x", START_MS, "LOW")] }),
        )
        .await;
    assert!(matches!(foreign, Err(HubError::AccessDenied(_))));
}

#[tokio::test]
async fn retention_deletes_by_record_state_and_age() {
    let f = fixture().await;
    let mut archived = finding(ACCOUNT, "old-archived", START_MS, "LOW");
    archived["RecordState"] = json!("ARCHIVED");
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "old-active", START_MS, "LOW"), archived],
    )
    .await;
    f.clock.advance(31 * DAY_MS);
    let report = f.hub.sweep_retention().await.unwrap();
    assert_eq!(report.findings_deleted, 1);
    assert!(get_one(&f.hub, ACCOUNT, "old-archived").await.is_none());
    assert!(get_one(&f.hub, ACCOUNT, "old-active").await.is_some());
    f.clock.advance(60 * DAY_MS);
    assert_eq!(f.hub.sweep_retention().await.unwrap().findings_deleted, 1);
    assert_eq!(f.hub.finding_count(), 0);
}

#[tokio::test]
async fn a_reopened_hub_rebuilds_its_index_and_keeps_counting() {
    let f = fixture().await;
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS, "LOW")],
    )
    .await;
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let reopened = Hub::open(f.store.clone(), clock, "us-east-1")
        .await
        .unwrap();
    assert_eq!(reopened.finding_count(), 1);
    import(
        &reopened,
        ACCOUNT,
        vec![finding(ACCOUNT, "b", START_MS, "LOW")],
    )
    .await;
    import(
        &reopened,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS + 1, "HIGH")],
    )
    .await;
    assert_eq!(reopened.finding_count(), 2);
    assert_eq!(
        get_one(&reopened, ACCOUNT, "a").await.unwrap()["Severity"]["Label"],
        "HIGH"
    );
}

#[tokio::test]
async fn insight_results_count_each_value() {
    let f = fixture().await;
    import(
        &f.hub,
        ACCOUNT,
        vec![
            finding(ACCOUNT, "a", START_MS, "LOW"),
            finding(ACCOUNT, "b", START_MS, "LOW"),
            finding(ACCOUNT, "c", START_MS, "HIGH"),
        ],
    )
    .await;
    let created = f
        .hub
        .handle_create_insight(
            &caller(ACCOUNT),
            &json!({ "Name": "sev", "Filters": {}, "GroupByAttribute": "SeverityLabel" }),
        )
        .await
        .unwrap();
    let results = f
        .hub
        .handle_get_insight_results(
            &caller(ACCOUNT),
            &json!({ "InsightArn": created["InsightArn"] }),
        )
        .await
        .unwrap();
    assert_eq!(
        results["InsightResults"]["ResultValues"],
        json!([{ "GroupByAttributeValue": "LOW", "Count": 2 },
               { "GroupByAttributeValue": "HIGH", "Count": 1 }])
    );
}

/// Records what the hub announces (finding_events.rs); wants only ACCOUNT's findings.
#[derive(Default)]
struct Announced(std::sync::Mutex<Vec<(String, Vec<Value>)>>);

impl crate::FindingEvents for Announced {
    fn wants(&self, account_id: &str) -> bool {
        account_id == ACCOUNT
    }

    fn written(&self, account_id: &str, findings: Vec<Value>) {
        self.0.lock().unwrap().push((account_id.into(), findings));
    }
}

#[tokio::test]
async fn written_findings_are_announced_once_per_call() {
    let f = fixture().await;
    let announced = Arc::new(Announced::default());
    f.hub.set_finding_events(announced.clone());
    let ids = |i: usize| -> Vec<String> {
        let calls = announced.0.lock().unwrap();
        calls[i]
            .1
            .iter()
            .map(|f| f["Id"].as_str().unwrap().to_string())
            .collect()
    };
    import(
        &f.hub,
        ACCOUNT,
        vec![
            finding(ACCOUNT, "a", START_MS, "LOW"),
            finding(ACCOUNT, "b", START_MS, "LOW"),
        ],
    )
    .await;
    let mut first = ids(0);
    first.sort();
    assert_eq!(first, ["a", "b"]);
    // A stale re-import writes nothing and announces nothing.
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS, "HIGH")],
    )
    .await;
    assert_eq!(announced.0.lock().unwrap().len(), 1);
    import(
        &f.hub,
        ACCOUNT,
        vec![finding(ACCOUNT, "a", START_MS + 1, "HIGH")],
    )
    .await;
    assert_eq!(ids(1), ["a"]);
    assert_eq!(
        announced.0.lock().unwrap()[1].1[0]["Severity"]["Label"],
        "HIGH"
    );
    f.hub
        .handle_batch_update_findings(
            &caller(ACCOUNT),
            &json!({"FindingIdentifiers": [{"Id": "b", "ProductArn": product(ACCOUNT)}],
                    "Workflow": {"Status": "NOTIFIED"}}),
        )
        .await
        .unwrap();
    assert_eq!(ids(2), ["b"]);
    assert_eq!(
        announced.0.lock().unwrap()[2].1[0]["Workflow"]["Status"],
        "NOTIFIED"
    );
    // Not wanted: OTHER's findings are not even gathered.
    f.hub.enable_hub(OTHER, "SECURITY_CONTROL").await.unwrap();
    import(&f.hub, OTHER, vec![finding(OTHER, "c", START_MS, "LOW")]).await;
    assert_eq!(announced.0.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_id_filter_finds_the_id_under_every_product_and_pages() {
    let f = fixture().await;
    let prowler = "arn:aws:securityhub:us-east-1::product/prowler/prowler";
    f.hub
        .handle_enable_import_findings_for_product(
            &caller(ACCOUNT),
            &json!({ "ProductArn": prowler }),
        )
        .await
        .unwrap();
    let mut from_prowler = finding(ACCOUNT, "shared", START_MS + 2, "HIGH");
    from_prowler["ProductArn"] = json!(prowler);
    import(
        &f.hub,
        ACCOUNT,
        vec![
            finding(ACCOUNT, "shared", START_MS + 1, "LOW"),
            from_prowler,
            finding(ACCOUNT, "other", START_MS + 3, "HIGH"),
        ],
    )
    .await;
    let get = |input: Value| {
        let hub = &f.hub;
        async move {
            hub.handle_get_findings(&caller(ACCOUNT), &input)
                .await
                .unwrap()
        }
    };
    let labels = |out: &Value| -> Vec<String> {
        out["Findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["Severity"]["Label"].as_str().unwrap().to_string())
            .collect()
    };
    let id = json!([{ "Value": "shared", "Comparison": "EQUALS" }]);

    // Both products' findings with that Id, newest first; nothing else.
    let out = get(json!({ "Filters": { "Id": id } })).await;
    assert_eq!(labels(&out), ["HIGH", "LOW"]);

    // One page at a time, in either UpdatedAt order and by another sort key.
    let first = get(json!({ "Filters": { "Id": id }, "MaxResults": 1 })).await;
    assert_eq!(labels(&first), ["HIGH"]);
    let token = first["NextToken"].as_str().unwrap();
    let second = get(json!({ "Filters": { "Id": id }, "MaxResults": 1, "NextToken": token })).await;
    assert_eq!(labels(&second), ["LOW"]);
    assert!(second.get("NextToken").is_none());
    let ascending = json!([{ "Field": "UpdatedAt", "SortOrder": "asc" }]);
    let out = get(json!({ "Filters": { "Id": id }, "SortCriteria": ascending })).await;
    assert_eq!(labels(&out), ["LOW", "HIGH"]);
    let by_title = json!([{ "Field": "Title", "SortOrder": "asc" }]);
    let out = get(json!({ "Filters": { "Id": id }, "SortCriteria": by_title })).await;
    assert_eq!(labels(&out).len(), 2);

    // The ProductArn filter narrows the lookup; other filters still apply.
    let out = get(json!({ "Filters": {
        "Id": id,
        "ProductArn": [{ "Value": prowler, "Comparison": "EQUALS" }]
    } }))
    .await;
    assert_eq!(labels(&out), ["HIGH"]);
    let out = get(json!({ "Filters": {
        "Id": id,
        "SeverityLabel": [{ "Value": "LOW", "Comparison": "EQUALS" }]
    } }))
    .await;
    assert_eq!(labels(&out), ["LOW"]);

    // Several Ids are OR-ed; an unknown one finds nothing; other accounts see nothing.
    let two = json!([
        { "Value": "shared", "Comparison": "EQUALS" },
        { "Value": "other", "Comparison": "EQUALS" },
        { "Value": "missing", "Comparison": "EQUALS" }
    ]);
    assert_eq!(
        labels(&get(json!({ "Filters": { "Id": two } })).await).len(),
        3
    );
    let none = json!([{ "Value": "missing", "Comparison": "EQUALS" }]);
    assert!(labels(&get(json!({ "Filters": { "Id": none } })).await).is_empty());
    f.hub.enable_hub(OTHER, "SECURITY_CONTROL").await.unwrap();
    let out = f
        .hub
        .handle_get_findings(&caller(OTHER), &json!({ "Filters": { "Id": id } }))
        .await
        .unwrap();
    assert!(labels(&out).is_empty());

    // After a restart the products are known again from the stored findings.
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let reopened = Hub::open(f.store.clone(), clock, "us-east-1")
        .await
        .unwrap();
    let out = reopened
        .handle_get_findings(&caller(ACCOUNT), &json!({ "Filters": { "Id": id } }))
        .await
        .unwrap();
    assert_eq!(labels(&out), ["HIGH", "LOW"]);
}

/// Every page of `input`, following NextToken, as (Id, UpdatedAt) in the order returned.
async fn all_pages(hub: &Hub, input: Value, walk_before_scan: usize) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut request = input.clone();
    for _ in 0..1_000 {
        let page = hub
            .get_findings_walking(&caller(ACCOUNT), &request, walk_before_scan)
            .await
            .unwrap();
        for finding in page["Findings"].as_array().unwrap() {
            let field = |name: &str| finding[name].as_str().unwrap().to_string();
            seen.push((field("Id"), field("UpdatedAt")));
        }
        let Some(token) = page["NextToken"].as_str() else {
            return seen;
        };
        request = input.clone();
        request["NextToken"] = json!(token);
    }
    panic!("paging {input} does not end");
}

#[tokio::test]
async fn the_updated_at_scan_pages_exactly_like_the_walk() {
    let f = fixture().await;
    // Ties in UpdatedAt (every third pair shares one), three severities, 90 findings.
    let findings: Vec<Value> = (0..90)
        .map(|i| {
            let severity = ["LOW", "MEDIUM", "CRITICAL"][(i * 7 % 3) as usize];
            finding(ACCOUNT, &format!("f{i:02}"), START_MS + i / 2, severity)
        })
        .collect();
    import(&f.hub, ACCOUNT, findings).await;
    let severity =
        |label: &str| json!({ "SeverityLabel": [{ "Value": label, "Comparison": "EQUALS" }] });
    let filters = [json!({}), severity("CRITICAL"), severity("INFORMATIONAL")];
    for filter in filters {
        for order in ["desc", "asc"] {
            for max in [1, 7, 100] {
                let input = json!({
                    "Filters": filter,
                    "SortCriteria": [{ "Field": "UpdatedAt", "SortOrder": order }],
                    "MaxResults": max
                });
                let walked = all_pages(&f.hub, input.clone(), usize::MAX).await;
                for limit in [0, 1, 5] {
                    let scanned = all_pages(&f.hub, input.clone(), limit).await;
                    assert_eq!(scanned, walked, "{input} scanning after {limit}");
                }
                let expected = match filter.get("SeverityLabel") {
                    None => 90,
                    Some(_) if filter.to_string().contains("CRITICAL") => 30,
                    Some(_) => 0,
                };
                assert_eq!(walked.len(), expected, "{input}");
                let mut times: Vec<&String> = walked.iter().map(|(_, t)| t).collect();
                if order == "desc" {
                    times.reverse();
                }
                assert!(times.is_sorted(), "{input}");
            }
        }
    }
}
