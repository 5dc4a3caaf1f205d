//! Limits of the nested members: Severity, maps, Resources, Note, lists, enums, timestamps.

use super::tests::{assert_err, err};
use super::*;
use crate::fixtures::{minimal, with};
use serde_json::json;

#[test]
fn severity_members_are_checked() {
    assert_err(
        with(minimal(), "/Severity", json!({"Label": "SEVERE"})),
        "data.Severity.Label should be equal to one of the allowed values: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL.",
    );
    assert_err(
        with(minimal(), "/Severity", json!({"Normalized": 101})),
        "data.Severity.Normalized should be <= 100.",
    );
    assert_err(
        with(minimal(), "/Severity", json!({"Normalized": -1})),
        "data.Severity.Normalized should be >= 0.",
    );
    assert_err(
        with(
            minimal(),
            "/Severity",
            json!({"Label": "LOW", "Original": "x".repeat(65)}),
        ),
        "data.Severity.Original should NOT be longer than 64 characters.",
    );
    let ok = with(
        minimal(),
        "/Severity",
        json!({"Label": "LOW", "Normalized": 0, "Original": "x".repeat(64), "Product": 2.5}),
    );
    assert_eq!(validate_finding(&ok), Ok(()));
    assert_err(
        with(
            minimal(),
            "/FindingProviderFields",
            json!({"Severity": {"Label": "low"}}),
        ),
        "data.FindingProviderFields.Severity.Label should be equal to one of the allowed values: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL.",
    );
}

#[test]
fn confidence_and_criticality_are_0_to_100() {
    for name in ["Confidence", "Criticality"] {
        for ok in [0, 100] {
            assert_eq!(
                validate_finding(&with(minimal(), &format!("/{name}"), json!(ok))),
                Ok(())
            );
        }
        assert_err(
            with(minimal(), &format!("/{name}"), json!(101)),
            &format!("data.{name} should be <= 100."),
        );
        assert_err(
            with(minimal(), &format!("/{name}"), json!(-1)),
            &format!("data.{name} should be >= 0."),
        );
        assert_err(
            with(minimal(), "/FindingProviderFields", json!({name: 200})),
            &format!("data.FindingProviderFields.{name} should be <= 100."),
        );
    }
}

fn map_of(n: usize, key_len: usize, value_len: usize) -> Value {
    Value::Object(
        (0..n)
            .map(|i| (format!("{i:0>key_len$}"), json!("v".repeat(value_len))))
            .collect(),
    )
}

#[test]
fn field_maps_have_pair_key_and_value_limits() {
    let cases = [
        ("/ProductFields", "data.ProductFields", 50, 128, 2048),
        (
            "/UserDefinedFields",
            "data.UserDefinedFields",
            50,
            128,
            1024,
        ),
        (
            "/Resources/0/Details/Other",
            "data.Resources[0].Details.Other",
            50,
            128,
            1024,
        ),
    ];
    for (pointer, path, pairs, key_max, value_max) in cases {
        let ok = with(minimal(), pointer, map_of(pairs, key_max, value_max));
        assert_eq!(validate_finding(&ok), Ok(()), "{pointer}");
        assert_err(
            with(minimal(), pointer, map_of(pairs + 1, 3, 1)),
            &format!("{path} should NOT have more than {pairs} properties."),
        );
        let long_key = "k".repeat(key_max + 1);
        assert_err(
            with(minimal(), pointer, json!({long_key.clone(): "v"})),
            &format!(
                "{path} property name '{}...' should NOT be longer than {key_max} characters.",
                &long_key[..100]
            ),
        );
        assert_err(
            with(minimal(), pointer, json!({"k": "v".repeat(value_max + 1)})),
            &format!("{path}['k'] should NOT be longer than {value_max} characters."),
        );
        assert_err(
            with(minimal(), pointer, json!({"k": ""})),
            &format!("{path}['k'] should NOT be shorter than 1 characters."),
        );
        assert_err(
            with(minimal(), pointer, json!({" ": "v"})),
            &format!("{path} property name ' ' should match pattern \".*\\S.*\"."),
        );
    }
}

#[test]
fn resource_tags_allow_empty_values_up_to_256() {
    let ok = with(
        minimal(),
        "/Resources/0/Tags",
        json!({"Name": "", "Env": "x".repeat(256)}),
    );
    assert_eq!(validate_finding(&ok), Ok(()));
    assert_err(
        with(
            minimal(),
            "/Resources/0/Tags",
            json!({"Env": "x".repeat(257)}),
        ),
        "data.Resources[0].Tags['Env'] should NOT be longer than 256 characters.",
    );
    assert_err(
        with(minimal(), "/Resources/0/Tags", json!({"Env": null})),
        "data.Resources[0].Tags['Env'] should be string.",
    );
}

#[test]
fn resources_are_1_to_32_with_type_and_id() {
    assert_err(
        with(minimal(), "/Resources", json!([])),
        "data.Resources should NOT have fewer than 1 items.",
    );
    let many: Vec<Value> = (0..33)
        .map(|i| json!({"Type": "Other", "Id": i.to_string()}))
        .collect();
    assert_err(
        with(minimal(), "/Resources", json!(many)),
        "data.Resources should NOT have more than 32 items.",
    );
    assert_err(
        with(minimal(), "/Resources/0", json!({"Type": "Other"})),
        "data.Resources[0] should have required property 'Id'.",
    );
    assert_err(
        with(minimal(), "/Resources/0", json!({"Id": "x"})),
        "data.Resources[0] should have required property 'Type'.",
    );
    let second = with(
        minimal(),
        "/Resources",
        json!([{"Type": "Other", "Id": "a"}, {"Type": "", "Id": "b"}]),
    );
    assert_err(
        second,
        "data.Resources[1].Type should NOT be shorter than 1 characters.",
    );
}

#[test]
fn resource_enums_accept_the_newer_model_values() {
    for p in [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-us-iso",
        "aws-us-iso-b",
        "AzureCloud",
    ] {
        let f = with(minimal(), "/Resources/0/Partition", json!(p));
        assert_eq!(validate_finding(&f), Ok(()), "{p}");
    }
    assert!(
        err(&with(minimal(), "/Resources/0/Partition", json!("gcp"))).starts_with(
            "data.Resources[0].Partition should be equal to one of the allowed values"
        )
    );
    assert_eq!(
        validate_finding(&with(minimal(), "/Resources/0/Provider", json!("Azure"))),
        Ok(())
    );
    assert!(
        err(&with(minimal(), "/Resources/0/Provider", json!("GCP")))
            .starts_with("data.Resources[0].Provider should be equal")
    );
    // Typed details are only required to be objects; unknown detail types are kept.
    let details = json!({"AwsS3Bucket": {"Owner": 1}, "AwsIotThing": {}, "Other": {"k": "v"}});
    assert_eq!(
        validate_finding(&with(minimal(), "/Resources/0/Details", details)),
        Ok(())
    );
}

#[test]
fn note_needs_text_updated_by_and_updated_at() {
    let note = json!({"Text": "t", "UpdatedBy": "me", "UpdatedAt": "2024-01-04T15:25:10Z"});
    assert_eq!(
        validate_finding(&with(minimal(), "/Note", note.clone())),
        Ok(())
    );
    for member in ["Text", "UpdatedBy", "UpdatedAt"] {
        let mut n = note.clone();
        n.as_object_mut().unwrap().shift_remove(member);
        assert_err(
            with(minimal(), "/Note", n),
            &format!("data.Note should have required property '{member}'."),
        );
    }
    assert_err(
        with(
            with(minimal(), "/Note", note.clone()),
            "/Note/Text",
            json!("x".repeat(513)),
        ),
        "data.Note.Text should NOT be longer than 512 characters.",
    );
    assert_err(
        with(
            with(minimal(), "/Note", note),
            "/Note/UpdatedAt",
            json!("yesterday"),
        ),
        "data.Note.UpdatedAt should match format \"date-time\".",
    );
}

#[test]
fn related_findings_are_1_to_10_with_product_arn_and_id() {
    let rf = json!({"ProductArn": "arn:aws:securityhub:us-east-1::product/a/b", "Id": "x"});
    assert_eq!(
        validate_finding(&with(minimal(), "/RelatedFindings", json!([rf.clone()]))),
        Ok(())
    );
    assert_err(
        with(minimal(), "/RelatedFindings", json!([])),
        "data.RelatedFindings should NOT have fewer than 1 items.",
    );
    assert_err(
        with(minimal(), "/RelatedFindings", Value::Array(vec![rf; 11])),
        "data.RelatedFindings should NOT have more than 10 items.",
    );
    assert_err(
        with(minimal(), "/RelatedFindings", json!([{"Id": "x"}])),
        "data.RelatedFindings[0] should have required property 'ProductArn'.",
    );
}

#[test]
fn state_enums_are_checked() {
    let cases = [
        (
            "/Workflow",
            json!({"Status": "CLOSED"}),
            "data.Workflow.Status",
        ),
        (
            "/VerificationState",
            json!("MAYBE"),
            "data.VerificationState",
        ),
        ("/RecordState", json!("DELETED"), "data.RecordState"),
        ("/WorkflowState", json!("DONE"), "data.WorkflowState"),
        (
            "/Compliance",
            json!({"Status": "PASS"}),
            "data.Compliance.Status",
        ),
        (
            "/Malware",
            json!([{"Name": "m", "Type": "WORM2"}]),
            "data.Malware[0].Type",
        ),
        (
            "/Malware",
            json!([{"Name": "m", "State": "GONE"}]),
            "data.Malware[0].State",
        ),
        (
            "/ThreatIntelIndicators",
            json!([{"Type": "IP"}]),
            "data.ThreatIntelIndicators[0].Type",
        ),
        (
            "/ThreatIntelIndicators",
            json!([{"Category": "SPAM"}]),
            "data.ThreatIntelIndicators[0].Category",
        ),
        (
            "/Network",
            json!({"Direction": "UP"}),
            "data.Network.Direction",
        ),
    ];
    for (pointer, value, path) in cases {
        let msg = err(&with(minimal(), pointer, value));
        assert!(
            msg.starts_with(&format!(
                "{path} should be equal to one of the allowed values: "
            )),
            "{msg}"
        );
    }
    let ok = with(
        with(
            with(minimal(), "/Workflow", json!({"Status": "SUPPRESSED"})),
            "/RecordState",
            json!("ARCHIVED"),
        ),
        "/WorkflowState",
        json!("IN_PROGRESS"),
    );
    assert_eq!(validate_finding(&ok), Ok(()));
}

#[test]
fn other_list_limits() {
    let ok_malware = json!([{"Name": "m", "Type": "WORM", "State": "OBSERVED", "Path": "/x"}]);
    assert_eq!(
        validate_finding(&with(minimal(), "/Malware", ok_malware)),
        Ok(())
    );
    let cases = [
        (
            "/Malware",
            Value::Array(vec![json!({"Name": "m"}); 6]),
            "data.Malware should NOT have more than 5 items.",
        ),
        (
            "/Malware",
            json!([{"Type": "WORM"}]),
            "data.Malware[0] should have required property 'Name'.",
        ),
        (
            "/Malware",
            json!([{"Name": "m".repeat(65)}]),
            "data.Malware[0].Name should NOT be longer than 64 characters.",
        ),
        (
            "/ThreatIntelIndicators",
            Value::Array(vec![json!({}); 6]),
            "data.ThreatIntelIndicators should NOT have more than 5 items.",
        ),
        (
            "/ThreatIntelIndicators",
            json!([]),
            "data.ThreatIntelIndicators should NOT have fewer than 1 items.",
        ),
        (
            "/Threats",
            Value::Array(vec![json!({}); 33]),
            "data.Threats should NOT have more than 32 items.",
        ),
        (
            "/Threats",
            json!([{"FilePaths": []}]),
            "data.Threats[0].FilePaths should NOT have fewer than 1 items.",
        ),
        (
            "/Compliance",
            json!({"RelatedRequirements": vec!["r"; 33]}),
            "data.Compliance.RelatedRequirements should NOT have more than 32 items.",
        ),
        (
            "/Compliance",
            json!({"StatusReasons": [{"Description": "d"}]}),
            "data.Compliance.StatusReasons[0] should have required property 'ReasonCode'.",
        ),
        (
            "/Remediation",
            json!({"Recommendation": {"Text": "t".repeat(513)}}),
            "data.Remediation.Recommendation.Text should NOT be longer than 512 characters.",
        ),
        (
            "/Remediation",
            json!({"Recommendation": {"Text": ""}}),
            "data.Remediation.Recommendation.Text should NOT be shorter than 1 characters.",
        ),
        (
            "/GeneratorDetails",
            json!({"Labels": vec!["l"; 11]}),
            "data.GeneratorDetails.Labels should NOT have more than 10 items.",
        ),
        (
            "/PatchSummary",
            json!({"InstalledCount": 1}),
            "data.PatchSummary should have required property 'Id'.",
        ),
        (
            "/Vulnerabilities",
            json!([{"Id": "CVE-1", "FixAvailable": "MAYBE"}]),
            "data.Vulnerabilities[0].FixAvailable should be equal to one of the allowed values: YES, NO, PARTIAL.",
        ),
        (
            "/Network",
            json!({"Protocol": "p".repeat(17)}),
            "data.Network.Protocol should NOT be longer than 16 characters.",
        ),
        (
            "/Process",
            json!({"Name": "n".repeat(65)}),
            "data.Process.Name should NOT be longer than 64 characters.",
        ),
    ];
    for (pointer, value, expected) in cases {
        assert_err(with(minimal(), pointer, value), expected);
    }
}

#[test]
fn every_finding_timestamp_is_checked() {
    let bad = json!("2024-01-04T15:25:10+19:00");
    let cases = [
        ("/CreatedAt", "data.CreatedAt"),
        ("/UpdatedAt", "data.UpdatedAt"),
        ("/FirstObservedAt", "data.FirstObservedAt"),
        ("/LastObservedAt", "data.LastObservedAt"),
    ];
    for (pointer, path) in cases {
        assert_err(
            with(minimal(), pointer, bad.clone()),
            &format!("{path} should match format \"date-time\"."),
        );
    }
    let nested = [
        (
            "/Process",
            json!({"LaunchedAt": bad}),
            "data.Process.LaunchedAt",
        ),
        (
            "/Process",
            json!({"TerminatedAt": bad}),
            "data.Process.TerminatedAt",
        ),
        (
            "/ThreatIntelIndicators",
            json!([{"LastObservedAt": bad}]),
            "data.ThreatIntelIndicators[0].LastObservedAt",
        ),
        (
            "/PatchSummary",
            json!({"Id": "p", "OperationStartTime": bad}),
            "data.PatchSummary.OperationStartTime",
        ),
        (
            "/Vulnerabilities",
            json!([{"Id": "v", "LastKnownExploitAt": bad}]),
            "data.Vulnerabilities[0].LastKnownExploitAt",
        ),
        (
            "/Vulnerabilities",
            json!([{"Id": "v", "Vendor": {"Name": "n", "VendorCreatedAt": bad}}]),
            "data.Vulnerabilities[0].Vendor.VendorCreatedAt",
        ),
    ];
    for (pointer, value, path) in nested {
        assert_err(
            with(minimal(), pointer, value),
            &format!("{path} should match format \"date-time\"."),
        );
    }
    for good in [
        "2024-01-04T15:25:10.123456789+17:59",
        "2024-01-04T15:25:10-1759",
        "2024-01-04T15:25:10+05",
    ] {
        assert_eq!(
            validate_finding(&with(minimal(), "/CreatedAt", json!(good))),
            Ok(()),
            "{good}"
        );
    }
}
