//! Findings shaped like the ones real providers send, for the tests.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::ImportContext;

pub const NOW: i64 = 1_704_381_910_123; // 2024-01-04T15:25:10.123Z

pub fn ctx() -> ImportContext<'static> {
    ImportContext {
        region: "us-east-1",
        now_ms: NOW,
        company_name: "Prowler",
        product_name: "Prowler",
        custom_product: false,
        account_name: None,
    }
}

/// The smallest valid finding.
pub fn minimal() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": "finding-1",
        "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
        "GeneratorId": "gen-1",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"],
        "CreatedAt": "2024-01-04T15:00:00Z",
        "UpdatedAt": "2024-01-04T15:00:00Z",
        "Severity": {"Label": "HIGH"},
        "Title": "A title",
        "Description": "A description",
        "Resources": [{"Type": "Other", "Id": "res-1"}]
    })
}

/// What prowler's ASFF output sends (spec §2.5, prowler `lib/outputs/asff/asff.py`).
pub fn prowler() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": "prowler-s3_bucket_default_encryption-123456789012-us-east-1-6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/prowler/prowler",
        "ProductFields": {
            "ProviderName": "Prowler",
            "ProviderVersion": "4.2.0",
            "ProwlerResourceName": "arn:aws:s3:::my-bucket"
        },
        "GeneratorId": "prowler-s3_bucket_default_encryption",
        "AwsAccountId": "123456789012",
        "Types": ["Data Protection"],
        "FirstObservedAt": "2024-01-04T15:00:00Z",
        "UpdatedAt": "2024-01-04T15:00:00Z",
        "CreatedAt": "2024-01-04T15:00:00Z",
        "Severity": {"Label": "MEDIUM"},
        "Title": "Check if S3 buckets have default encryption (SSE) enabled or use a bucket policy to enforce it.",
        "Description": "S3 Bucket my-bucket does not have Server Side Encryption enabled.",
        "Resources": [{
            "Type": "AwsS3Bucket",
            "Id": "arn:aws:s3:::my-bucket",
            "Partition": "aws",
            "Region": "us-east-1",
            "Tags": {"Name": "my-bucket", "Owner": ""}
        }],
        "Compliance": {
            "Status": "FAILED",
            "RelatedRequirements": ["CISA your-systems-3 your-data-1", "ens-op.acc.5.aws.iam.1"],
            "AssociatedStandards": [{"StandardsId": "CISA"}, {"StandardsId": "ENS-RD2022"}]
        },
        "Remediation": {
            "Recommendation": {
                "Text": "Ensure that S3 buckets have encryption at rest enabled.",
                "Url": "https://aws.amazon.com/blogs/security/how-to-prevent-uploads-of-unencrypted-objects-to-amazon-s3/"
            }
        }
    })
}

/// Device Defender Audit's finding, from the integration page (seed 002). Note its Types use
/// the singular "Software and Configuration Check", which is not one of the five namespaces.
pub fn device_defender_audit() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": "336757784525/IOT_POLICY/policyexample/1/IOT_POLICY_OVERLY_PERMISSIVE_CHECK/ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        "ProductArn": "arn:aws:securityhub:us-west-2::product/aws/iot-device-defender-audit",
        "ProductName": "IoT Device Defender - Audit",
        "CompanyName": "AWS",
        "Region": "us-west-2",
        "GeneratorId": "1928b87ab338ee2f541f6fab8c41c4f5",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Check/Vulnerabilities"],
        "CreatedAt": "2022-11-06T22:11:40.941Z",
        "UpdatedAt": "2022-11-06T22:11:40.941Z",
        "Severity": {"Label": "CRITICAL", "Normalized": 90},
        "Title": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK: ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        "Description": "IOT_POLICY policyexample:1 is reported as non-compliant for IOT_POLICY_OVERLY_PERMISSIVE_CHECK by Audit task 9f71b6e90cfb57d4ac671be3a4898e6a. The non-compliant reason is Policy allows broad access to IoT data plane actions: [iot:Connect].",
        "SourceUrl": "https://us-west-2.console.aws.amazon.com/iot/home?region=us-west-2#/policy/policyexample",
        "ProductFields": {
            "CheckName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "TaskId": "9f71b6e90cfb57d4ac671be3a4898e6a",
            "TaskType": "ON_DEMAND_AUDIT_TASK",
            "PolicyName": "policyexample",
            "IsSuppressed": "false",
            "ReasonForNonComplianceCode": "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
            "ResourceType": "IOT_POLICY",
            "FindingId": "1928b87ab338ee2f541f6fab8c41c4f5",
            "PolicyVersionId": "1",
            "ReportType": "AuditFinding",
            "TaskStartTime": "1667772700554",
            "aws/securityhub/FindingId": "arn:aws:securityhub:us-west-2::product/aws/iot-device-defender-audit/336757784525/IOT_POLICY/policyexample/1/IOT_POLICY_OVERLY_PERMISSIVE_CHECK/ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
            "aws/securityhub/ProductName": "IoT Device Defender - Audit",
            "aws/securityhub/CompanyName": "AWS"
        },
        "Resources": [{
            "Type": "AwsIotPolicy",
            "Id": "policyexample",
            "Partition": "aws",
            "Region": "us-west-2",
            "Details": {"Other": {"PolicyVersionId": "1"}}
        }],
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "FindingProviderFields": {
            "Severity": {"Label": "CRITICAL"},
            "Types": ["Software and Configuration Check/Vulnerabilities"]
        }
    })
}

/// Device Defender Detect's violation finding (seed 002).
pub fn device_defender_detect() -> Value {
    json!({
        "SchemaVersion": "2018-10-08",
        "Id": "e92a782593c6f5b1fc7cb6a443dc1a12",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/iot-device-defender-detect",
        "ProductName": "IoT Device Defender - Detect",
        "CompanyName": "AWS",
        "Region": "us-east-1",
        "GeneratorId": "arn:aws:iot:us-east-1:123456789012:securityprofile/MySecurityProfile",
        "AwsAccountId": "123456789012",
        "Types": ["Unusual Behaviors"],
        "CreatedAt": "2022-11-09T22:45:00Z",
        "UpdatedAt": "2022-11-09T22:45:00Z",
        "Severity": {"Label": "MEDIUM", "Normalized": 40},
        "Title": "Registered thing MyThing is in alarm for STATIC behavior MyBehavior.",
        "Description": "Registered thing MyThing violates STATIC behavior MyBehavior of security profile MySecurityProfile. Violation was triggered because the device did not conform to aws:num-disconnects less-than 1.",
        "SourceUrl": "https://us-east-1.console.aws.amazon.com/iot/home?region=us-east-1#/dd/securityProfile/MySecurityProfile?tab=violations",
        "ProductFields": {
            "ComparisonOperator": "less-than",
            "BehaviorName": "MyBehavior",
            "ViolationId": "e92a782593c6f5b1fc7cb6a443dc1a12",
            "ViolationStartTime": "1668033900000",
            "MetricName": "aws:num-disconnects",
            "BehaviorCriteriaType": "STATIC",
            "ThingName": "MyThing",
            "SecurityProfileName": "MySecurityProfile"
        },
        "Resources": [{
            "Type": "AwsIotRegisteredThing",
            "Id": "MyThing",
            "Region": "us-east-1",
            "Details": {"Other": {
                "IsRegisteredThing": "true",
                "ThingArn": "arn:aws:iot:us-east-1:123456789012:thing/MyThing"
            }}
        }],
        "WorkflowState": "NEW",
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "FindingProviderFields": {
            "Severity": {"Label": "MEDIUM"},
            "Types": ["Unusual Behaviors"]
        }
    })
}

/// `finding` with the member at `pointer` (JSON Pointer) set to `value`; missing parent objects
/// are created.
pub fn with(mut finding: Value, pointer: &str, value: Value) -> Value {
    let mut node = &mut finding;
    let mut keys: Vec<&str> = pointer.split('/').skip(1).collect();
    let last = keys.pop().expect("pointer");
    for key in keys {
        node = match node {
            Value::Object(m) => m.entry(key).or_insert_with(|| json!({})),
            Value::Array(a) => &mut a[key.parse::<usize>().expect("index")],
            _ => panic!("parent is not a container"),
        };
    }
    match node {
        Value::Object(m) => {
            m.insert(last.to_string(), value);
        }
        Value::Array(a) => a[last.parse::<usize>().expect("index")] = value,
        _ => panic!("parent is not a container"),
    }
    finding
}

/// `finding` without the member at `pointer`.
pub fn without(mut finding: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    if let Some(Value::Object(m)) = finding.pointer_mut(parent) {
        m.shift_remove(key);
    }
    finding
}

/// Arbitrary JSON, biased towards ASFF member names and values.
pub fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
        prop::sample::select(vec![
            "2018-10-08",
            "LOW",
            "Other",
            "123456789012",
            "2024-01-04T15:25:10Z",
            "arn:aws:securityhub:us-east-1::product/a/b",
            "TTPs/x",
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((member_name(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

pub fn member_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            crate::schema::FINDING
                .fields
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
        )
        .prop_map(str::to_owned),
        prop::sample::select(vec![
            "Label",
            "Normalized",
            "Status",
            "Type",
            "Id",
            "Text",
            "Other",
            "Details",
            "Tags"
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ]
}

/// A valid finding with one member (top-level or nested) replaced by arbitrary JSON.
pub fn mutated_finding() -> impl Strategy<Value = Value> {
    let pointers = vec![
        "/Severity",
        "/Severity/Label",
        "/Types",
        "/Resources",
        "/Resources/0",
        "/Resources/0/Details",
        "/Resources/0/Tags",
        "/ProductFields",
        "/Compliance",
        "/FindingProviderFields",
        "/Note",
        "/Workflow",
        "/CreatedAt",
        "/UpdatedAt",
        "/Malware",
        "/Process",
        "/Vulnerabilities",
        "/Network",
    ];
    (prop::sample::select(pointers), arb_json()).prop_map(|(p, v)| with(prowler(), p, v))
}

/// Valid findings: a provider fixture with up to five members set to valid alternatives.
pub fn valid_finding() -> impl Strategy<Value = Value> {
    let base = prop::sample::select(vec![0_usize, 1, 2, 3]).prop_map(|i| match i {
        0 => minimal(),
        1 => prowler(),
        2 => device_defender_audit(),
        _ => device_defender_detect(),
    });
    (base, prop::collection::vec(valid_member(), 0..5)).prop_map(|(mut f, members)| {
        for (pointer, value) in members {
            f = with(f, pointer, value);
        }
        f
    })
}

fn valid_member() -> impl Strategy<Value = (&'static str, Value)> {
    let label = prop::sample::select(crate::enums::SEVERITY_LABELS.to_vec());
    let timestamp = prop::sample::select(vec![
        "2024-01-04T15:00:00Z",
        "2024-01-04T15:00:00.123456789+17:59",
        "2024-01-04T15:00:00-1759",
        "2024-01-04T15:00:00.5+05",
        "2023-12-31T23:59:59.9999Z",
    ]);
    let types = prop::sample::select(vec![
        json!(["TTPs"]),
        json!(["Effects/Data Exposure", "Unusual Behaviors/Device"]),
        json!([]),
    ]);
    prop_oneof![
        label
            .clone()
            .prop_map(|l| ("/Severity", json!({"Label": l}))),
        (0_i64..=100).prop_map(|n| ("/Severity", json!({"Normalized": n, "Original": "x"}))),
        (label.clone(), types.clone()).prop_map(|(l, t)| (
            "/FindingProviderFields",
            json!({"Severity": {"Label": l}, "Types": t})
        )),
        (0_i64..=100).prop_map(|n| ("/FindingProviderFields/Confidence", json!(n))),
        label.prop_map(|l| (
            "/FindingProviderFields/Severity",
            json!({"Label": l, "Original": "o"})
        )),
        types.prop_map(|t| ("/Types", t)),
        (0_i64..=100).prop_map(|n| ("/Confidence", json!(n as f64))),
        (0_i64..=100).prop_map(|n| ("/Criticality", json!(n))),
        timestamp.clone().prop_map(|t| ("/CreatedAt", json!(t))),
        timestamp
            .clone()
            .prop_map(|t| ("/FirstObservedAt", json!(t))),
        timestamp
            .clone()
            .prop_map(|t| ("/Process", json!({"LaunchedAt": t, "Pid": 7.0}))),
        timestamp.prop_map(|t| (
            "/Note",
            json!({"Text": "n", "UpdatedBy": "u", "UpdatedAt": t})
        )),
        prop::sample::select(crate::enums::WORKFLOW_STATUSES.to_vec())
            .prop_map(|s| ("/Workflow", json!({"Status": s}))),
        prop::sample::select(crate::enums::RECORD_STATES.to_vec())
            .prop_map(|s| ("/RecordState", json!(s))),
        prop::sample::select(crate::enums::COMPLIANCE_STATUSES.to_vec())
            .prop_map(|s| ("/Compliance", json!({"Status": s}))),
        prop::sample::select(crate::enums::VERIFICATION_STATES.to_vec())
            .prop_map(|s| ("/VerificationState", json!(s))),
        Just((
            "/RelatedFindings",
            json!([{"ProductArn": "arn:aws:securityhub:us-east-1::product/a/b", "Id": "r"}])
        )),
        Just(("/UserDefinedFields", json!({"k": "v"}))),
        Just((
            "/ProductFields",
            json!({"aws/securityhub/ProductName": "spoof", "k": "v"})
        )),
        Just(("/Title", json!("Another title"))),
    ]
}
