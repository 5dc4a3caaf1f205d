//! GetFindings latency over what is stored: the console's hot filter set sorted by UpdatedAt,
//! and one filter on each of several other attributes.

use std::time::Instant;

use serde_json::{Value, json};

use crate::Target;
use crate::client::Client;

pub async fn run(target: &Target, runs: usize) -> Result<(), String> {
    let client = Client::new(target)?;
    let cases: Vec<(&str, Value)> = vec![
        (
            "SeverityLabel+WorkflowStatus+RecordState, UpdatedAt desc",
            json!({
                "Filters": {
                    "SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}],
                    "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}],
                    "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]
                },
                "SortCriteria": [{"Field": "UpdatedAt", "SortOrder": "desc"}],
                "MaxResults": 100
            }),
        ),
        (
            "ResourceId PREFIX (rare)",
            json!({"Filters": {"ResourceId": [{"Value": "arn:aws:iot:us-east-1:000000000000:awsiotpolicy/fleet-device-0000012", "Comparison": "PREFIX"}]}, "MaxResults": 100}),
        ),
        (
            "Title EQUALS",
            json!({"Filters": {"Title": [{"Value": "Check 7: the device fleet configuration should follow the hardening baseline item 7", "Comparison": "EQUALS"}]}, "MaxResults": 100}),
        ),
        (
            "ProductFields map EQUALS (rare)",
            json!({"Filters": {"ProductFields": [{"Key": "ResourceName", "Value": "fleet-device-000000777", "Comparison": "EQUALS"}]}, "MaxResults": 100}),
        ),
        (
            "ResourceTags map EQUALS",
            json!({"Filters": {"ResourceTags": [{"Key": "fleet", "Value": "fleet-3", "Comparison": "EQUALS"}]}, "MaxResults": 100}),
        ),
        (
            "Id EQUALS (one finding)",
            json!({"Filters": {"Id": [{"Value": "fleetward-bench-iot_fleet_check_09-000000000000-us-east-1-000000000039", "Comparison": "EQUALS"}]}, "MaxResults": 100}),
        ),
        (
            "Confidence range, sorted by SeverityLabel",
            json!({"Filters": {"Confidence": [{"Gte": 95, "Lte": 99}]}, "SortCriteria": [{"Field": "SeverityLabel", "SortOrder": "asc"}], "MaxResults": 100}),
        ),
    ];
    for (name, request) in cases {
        let body = request.to_string().into_bytes();
        let mut times = Vec::with_capacity(runs);
        let mut returned = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            let output = client.call("POST", "/findings", body.clone()).await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            returned = output["Findings"].as_array().map_or(0, Vec::len);
        }
        times.sort_by(f64::total_cmp);
        let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "GetFindings {name}: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms ({returned} findings on the first page, {} runs)",
            pick(0.5),
            pick(0.9),
            pick(1.0),
            times.len()
        );
    }
    Ok(())
}
