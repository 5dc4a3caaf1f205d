//! `fleetward-bench audit`: enables every audit check, runs an on-demand audit over the
//! generated fleet (`audit-fleet`, after `things` and `certs`) and measures how long until the
//! task is COMPLETED and until all its findings and check summaries are in the hub.

pub mod fleet;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Target;
use crate::client::Client;

/// Every check, AWS's 17 and Fleetward's own.
const CHECKS: &[&str] = &[
    "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
    "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
    "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
    "CA_CERTIFICATE_EXPIRING_CHECK",
    "CA_CERTIFICATE_KEY_QUALITY_CHECK",
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
    "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
    "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "DEVICE_CERTIFICATE_AGE_CHECK",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
    "CONFLICTING_CLIENT_IDS_CHECK",
    "LOGGING_DISABLED_CHECK",
    "FLEETWARD_DEVICE_CERTIFICATE_KEY_SIZE_CHECK",
];

const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/aws/iot-device-defender-audit";

pub async fn run(target: &Target) -> Result<(), String> {
    let client = Client::new(target)?;
    let checks: serde_json::Map<String, Value> = CHECKS
        .iter()
        .map(|c| (c.to_string(), json!({"enabled": true})))
        .collect();
    let config = json!({"roleArn": "arn:aws:iam::000000000000:role/bench-audit", "auditCheckConfigurations": checks});
    client
        .call_service(
            "iot",
            "PATCH",
            "/audit/configuration",
            "",
            config.to_string().into_bytes(),
        )
        .await?;
    let started = Instant::now();
    let body = json!({"targetCheckNames": CHECKS}).to_string().into_bytes();
    let task = client
        .call_service("iot", "POST", "/audit/tasks", "", body)
        .await?;
    let task_id = task["taskId"].as_str().ok_or("no taskId")?.to_string();
    println!("Audit task {task_id} started");
    let described = loop {
        let d = client
            .call_service(
                "iot",
                "GET",
                &format!("/audit/tasks/{task_id}"),
                "",
                Vec::new(),
            )
            .await?;
        if d["taskStatus"] != "IN_PROGRESS" {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let completed = started.elapsed();
    println!(
        "Task {} after {:.1} s",
        described["taskStatus"],
        completed.as_secs_f64()
    );
    let mut total_findings = 0u64;
    for check in CHECKS {
        let d = &described["auditDetails"][check];
        total_findings += d["nonCompliantResourcesCount"].as_u64().unwrap_or(0);
        println!(
            "  {check:<62} {:<24} {:>9} resources {:>7} non-compliant",
            d["checkRunStatus"].as_str().unwrap_or("?"),
            d["totalResourcesCount"].as_u64().unwrap_or(0),
            d["nonCompliantResourcesCount"].as_u64().unwrap_or(0)
        );
    }
    // Summaries are delivered after each check's findings: all of them there = all delivered.
    loop {
        let summaries = count_hub(&client, &task_id, "CheckSummary", false).await?;
        if summaries >= CHECKS.len() as u64 {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!(
                "only {summaries} check summaries in the hub after 10 minutes"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let in_hub = started.elapsed();
    let findings = count_hub(&client, &task_id, "AuditFinding", true).await?;
    println!(
        "All {} check summaries and {findings} findings in the hub after {:.1} s (audit {:.1} s); {total_findings} non-compliant resources",
        CHECKS.len(),
        in_hub.as_secs_f64(),
        completed.as_secs_f64()
    );
    Ok(())
}

/// Hub findings of the audit product for this task and report type (`all`: page through all
/// of them; otherwise the first page is enough).
async fn count_hub(
    client: &Client,
    task_id: &str,
    report_type: &str,
    all: bool,
) -> Result<u64, String> {
    let mut count = 0u64;
    let mut token: Option<String> = None;
    loop {
        // Summaries carry the task id as GeneratorId, findings their finding id (which starts
        // with the task id).
        let comparison = if report_type == "CheckSummary" {
            "EQUALS"
        } else {
            "PREFIX"
        };
        let mut input = json!({"MaxResults": 100, "Filters": {
            "ProductArn": [{"Value": PRODUCT, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": task_id, "Comparison": comparison}],
            "ProductFields": [{"Key": "ReportType", "Value": report_type, "Comparison": "EQUALS"}]}});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let page = client
            .call("POST", "/findings", input.to_string().into_bytes())
            .await?;
        count += page["Findings"].as_array().map_or(0, |f| f.len() as u64);
        match page["NextToken"].as_str() {
            Some(t) if all && !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(count),
        }
    }
}
