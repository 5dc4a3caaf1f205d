//! A small timing run of the hot ASFF paths on a ~2 KB finding.
//!
//! `cargo run --release -p fleetward-asff --example asff_bench [iterations [name-filter]]`

use std::hint::black_box;
use std::time::{Duration, Instant};

use fleetward_asff::{
    CustomerFields, ImportContext, ImportOutcome, apply_update, apply_update_owned, diff, json_len,
    merge_import, parse_finding_update, prepare_new, validate_finding,
};
use serde_json::{Value, json};

fn finding() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": "123456789012/IOT_POLICY/policyexample/1/IOT_POLICY_OVERLY_PERMISSIVE_CHECK/ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/fleetward/device-defender-audit",
        "GeneratorId": "1928b87ab338ee2f541f6fab8c41c4f5",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks/Vulnerabilities"],
        "FirstObservedAt": "2024-01-04T15:25:10.123456789+01:00",
        "CreatedAt": "2024-01-04T15:25:10Z",
        "UpdatedAt": "2024-01-04T15:25:10Z",
        "Severity": {"Label": "CRITICAL", "Original": "CRITICAL"},
        "Title": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK: ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        "Description": "IOT_POLICY policyexample:1 is reported as non-compliant for IOT_POLICY_OVERLY_PERMISSIVE_CHECK by Audit task 9f71b6e90cfb57d4ac671be3a4898e6a. The non-compliant reason is Policy allows broad access to IoT data plane actions: [iot:Connect].",
        "SourceUrl": "https://fleetward.example/console/audit/results/9f71b6e90cfb57d4ac671be3a4898e6a",
        "ProductFields": {
            "CheckName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "TaskId": "9f71b6e90cfb57d4ac671be3a4898e6a",
            "TaskType": "ON_DEMAND_AUDIT_TASK",
            "PolicyName": "policyexample",
            "IsSuppressed": "false",
            "ReasonForNonComplianceCode": "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
            "ResourceType": "IOT_POLICY",
            "PolicyVersionId": "1",
            "ReportType": "AuditFinding",
            "TaskStartTime": "1667772700554"
        },
        "Resources": [{
            "Type": "AwsIotPolicy",
            "Id": "arn:aws:iot:us-east-1:123456789012:policy/policyexample",
            "Partition": "aws",
            "Region": "us-east-1",
            "Tags": {"team": "devices", "env": "prod"},
            "Details": {"Other": {"PolicyVersionId": "1", "PolicyDocumentSha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}
        }],
        "Compliance": {"Status": "FAILED", "RelatedRequirements": ["IoT Device Defender Audit"]},
        "Remediation": {"Recommendation": {"Text": "Restrict the policy to the actions and resources the device needs.", "Url": "https://fleetward.example/docs/audit/iot-policy-overly-permissive"}},
        "FindingProviderFields": {"Severity": {"Label": "CRITICAL", "Original": "CRITICAL"}, "Types": ["Software and Configuration Checks/Vulnerabilities"]}
    })
}

fn selected(name: &str) -> bool {
    std::env::args()
        .nth(2)
        .is_none_or(|filter| name.starts_with(filter.as_str()))
}

fn report(name: &str, iterations: u32, elapsed: Duration) {
    let per = elapsed.as_secs_f64() / f64::from(iterations);
    println!("{name:<40} {:>8.2} µs", per * 1e6);
}

/// Times `f`, including dropping what it returns.
fn time<T>(name: &str, iterations: u32, mut f: impl FnMut() -> T) {
    if !selected(name) {
        return;
    }
    for _ in 0..iterations / 10 {
        black_box(f());
    }
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    report(name, iterations, start.elapsed());
}

/// Times `routine` on inputs made by `setup`, leaving out the setup and dropping the outputs.
fn time_owned<I, O>(
    name: &str,
    iterations: u32,
    mut setup: impl FnMut() -> I,
    mut routine: impl FnMut(I) -> O,
) {
    if !selected(name) {
        return;
    }
    const BATCH: u32 = 500;
    let mut elapsed = Duration::ZERO;
    let mut done = 0;
    while done < iterations {
        let n = BATCH.min(iterations - done);
        let inputs: Vec<I> = (0..n).map(|_| setup()).collect();
        let mut outputs = Vec::with_capacity(inputs.len());
        let start = Instant::now();
        for input in inputs {
            outputs.push(routine(black_box(input)));
        }
        elapsed += start.elapsed();
        drop(black_box(outputs));
        done += n;
    }
    report(name, iterations, elapsed);
}

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let incoming = finding();
    let text = incoming.to_string();
    let ctx = ImportContext {
        region: "us-east-1",
        now_ms: 1_704_381_910_123,
        company_name: "Fleetward",
        product_name: "Device Defender - Audit",
        custom_product: false,
        account_name: None,
    };
    assert_eq!(validate_finding(&incoming), Ok(()));
    let stored = prepare_new(incoming.clone(), &ctx);
    let newer = {
        let mut f = incoming.clone();
        f["UpdatedAt"] = json!("2024-01-05T15:25:10Z");
        f["Compliance"]["Status"] = json!("PASSED");
        f
    };
    let update = parse_finding_update(&json!({
        "Workflow": {"Status": "NOTIFIED"},
        "Note": {"Text": "Ticket OPS-42 opened", "UpdatedBy": "alice"},
        "Severity": {"Label": "HIGH"}
    }))
    .expect("valid update");

    println!(
        "finding: {} bytes incoming, {} bytes stored; {iterations} iterations",
        text.len(),
        json_len(&stored)
    );
    time("parse JSON text (reference)", iterations, || {
        serde_json::from_str::<Value>(&text).map(|_| ())
    });
    time("clone (reference)", iterations, || incoming.clone());
    time("validate_finding", iterations, || {
        validate_finding(&incoming)
    });
    time_owned(
        "prepare_new",
        iterations,
        || incoming.clone(),
        |f| prepare_new(f, &ctx),
    );
    time_owned(
        "validate + prepare_new",
        iterations,
        || incoming.clone(),
        |f| validate_finding(&f).map(|()| prepare_new(f, &ctx)),
    );
    time_owned(
        "merge_import (with diff)",
        iterations,
        || newer.clone(),
        |f| merge_import(&stored, CustomerFields::NONE, f, &ctx),
    );
    time("apply_update (clones the finding)", iterations, || {
        apply_update(&stored, CustomerFields::NONE, &update, ctx.now_ms)
    });
    time_owned(
        "apply_update_owned",
        iterations,
        || stored.clone(),
        |f| apply_update_owned(f, CustomerFields::NONE, &update, ctx.now_ms),
    );
    let merged = match merge_import(&stored, CustomerFields::NONE, newer.clone(), &ctx) {
        ImportOutcome::Updated { finding, .. } => finding,
        ImportOutcome::Stale => stored.clone(),
    };
    time("diff of two versions", iterations, || {
        diff(&stored, &merged)
    });
}
