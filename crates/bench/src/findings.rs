//! Realistic findings of about 2 KB, shaped like those of a compliance scanner (prowler) and of
//! Device Defender audit: a few dozen checks shared by many findings, one resource each.

use serde_json::{Value, json};

const SEVERITIES: [&str; 5] = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
const WORKFLOWS: [&str; 4] = ["NEW", "NEW", "NOTIFIED", "RESOLVED"];
const RESOURCE_TYPES: [&str; 6] = [
    "AwsIotPolicy",
    "AwsIotCertificate",
    "AwsIotCaCertificate",
    "AwsS3Bucket",
    "AwsIamRole",
    "AwsEc2Instance",
];
const CHECKS: usize = 48;

/// Finding number `n` for `account_id` in `region`, created at `now` (RFC 3339).
pub fn finding(n: usize, account_id: &str, region: &str, now: &str) -> Value {
    let check = n % CHECKS;
    let severity = SEVERITIES[(n / 7) % SEVERITIES.len()];
    let resource_type = RESOURCE_TYPES[check % RESOURCE_TYPES.len()];
    let resource_id = format!(
        "arn:aws:iot:{region}:{account_id}:{}/fleet-device-{n:09}",
        resource_type.to_lowercase()
    );
    let check_id = format!("iot_fleet_check_{check:02}");
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": format!("fleetward-bench-{check_id}-{account_id}-{region}-{n:012x}"),
        "ProductArn": format!("arn:aws:securityhub:{region}:{account_id}:product/{account_id}/default"),
        "GeneratorId": format!("fleetward-bench-{check_id}"),
        "AwsAccountId": account_id,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/CIS Host Hardening Benchmarks"],
        "FirstObservedAt": now,
        "LastObservedAt": now,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": { "Label": severity, "Original": severity },
        "Confidence": 80 + (n % 20),
        "Title": format!("Check {check}: the device fleet configuration should follow the hardening baseline item {check}"),
        "Description": format!(
            "Check {check} evaluates whether {resource_type} resources follow the fleet hardening baseline. \
             A resource that fails this check allows broader access than it needs, keeps credentials longer \
             than the rotation policy allows, or has logging disabled, which hides incidents from the \
             security team. Review the resource and apply the remediation below."
        ),
        "Remediation": { "Recommendation": {
            "Text": format!("Apply baseline item {check}: restrict the policy statements to the topics and client ids the device needs, rotate its certificate and enable logging at level ERROR or finer."),
            "Url": format!("https://docs.example.org/fleet-hardening/checks/{check_id}")
        }},
        "ProductFields": {
            "ProviderName": "Fleetward bench",
            "ProviderVersion": "1.0.0",
            "CheckId": check_id,
            "ServiceName": "iot",
            "SubServiceName": "device-fleet",
            "ResourceName": format!("fleet-device-{n:09}"),
            "Partition": "aws",
            "ScanId": format!("scan-{:06}", n / 10_000)
        },
        "Resources": [{
            "Type": resource_type,
            "Id": resource_id,
            "Partition": "aws",
            "Region": region,
            "Tags": { "fleet": format!("fleet-{}", n % 20), "site": format!("site-{}", n % 7), "owner": "iot-platform" },
            "Details": { "Other": {
                "ThingName": format!("fleet-device-{n:09}"),
                "ThingGroup": format!("fleet-{}", n % 20),
                "Firmware": format!("4.{}.{}", n % 5, n % 11)
            }}
        }],
        "Compliance": {
            "Status": if severity == "INFORMATIONAL" { "PASSED" } else { "FAILED" },
            "RelatedRequirements": [format!("CIS IoT {}.{}", check / 10 + 1, check % 10), "NIST CSF PR.AC-4"],
            "AssociatedStandards": [{ "StandardsId": "standards/fleet-hardening/v/1.0.0" }]
        },
        "Workflow": { "Status": WORKFLOWS[(n / 3) % WORKFLOWS.len()] },
        "RecordState": if n % 10 == 9 { "ARCHIVED" } else { "ACTIVE" }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_about_two_kilobytes() {
        let len = finding(12345, "000000000000", "us-east-1", "2026-01-01T00:00:00Z")
            .to_string()
            .len();
        assert!((1_600..=2_600).contains(&len), "{len} bytes");
    }
}
