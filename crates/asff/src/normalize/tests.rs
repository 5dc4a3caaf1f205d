use super::*;
use crate::fixtures::{NOW, ctx, device_defender_audit, minimal, prowler, with, without};
use crate::validate_finding;
use serde_json::json;

#[test]
fn prowler_finding_is_stored_with_service_fields() {
    let stored = prepare_new(prowler(), &ctx());
    assert_eq!(stored["Region"], "us-east-1");
    assert_eq!(stored["ProductName"], "Prowler");
    assert_eq!(stored["CompanyName"], "Prowler");
    assert_eq!(stored["ProcessedAt"], "2024-01-04T15:25:10.123Z");
    assert_eq!(stored["CreatedAt"], "2024-01-04T15:00:00.000Z");
    assert_eq!(stored["UpdatedAt"], "2024-01-04T15:00:00.000Z");
    assert_eq!(stored["FirstObservedAt"], "2024-01-04T15:00:00.000Z");
    assert_eq!(stored["RecordState"], "ACTIVE");
    assert_eq!(stored["Workflow"], json!({"Status": "NEW"}));
    assert_eq!(stored["WorkflowState"], "NEW");
    assert_eq!(
        stored["Severity"],
        json!({"Label": "MEDIUM", "Normalized": 40})
    );
    assert_eq!(
        stored["FindingProviderFields"],
        json!({"Severity": {"Label": "MEDIUM"}, "Types": ["Data Protection"]})
    );
    let pf = &stored["ProductFields"];
    assert_eq!(pf["ProviderName"], "Prowler");
    assert_eq!(
        pf["aws/securityhub/FindingId"],
        format!(
            "arn:aws:securityhub:us-east-1::product/prowler/prowler/{}",
            stored["Id"].as_str().unwrap()
        )
    );
    assert_eq!(pf["aws/securityhub/ProductName"], "Prowler");
    assert_eq!(pf["aws/securityhub/CompanyName"], "Prowler");
    assert!(stored.get("AwsAccountName").is_none());
    assert_eq!(
        validate_finding(&stored),
        Ok(()),
        "stored findings stay valid"
    );
}

#[test]
fn stored_device_defender_finding_matches_the_documented_shape() {
    let c = ImportContext {
        region: "us-west-2",
        company_name: "AWS",
        product_name: "IoT Device Defender - Audit",
        ..ctx()
    };
    let stored = prepare_new(device_defender_audit(), &c);
    let original = device_defender_audit();
    for key in [
        "Severity",
        "FindingProviderFields",
        "Workflow",
        "WorkflowState",
        "RecordState",
        "ProductFields",
        "ProductName",
        "CompanyName",
        "Region",
        "CreatedAt",
        "Types",
    ] {
        assert_eq!(stored[key], original[key], "{key}");
    }
    assert_eq!(validate_finding(&stored), Ok(()));
}

#[test]
fn provider_names_are_overridden_except_for_custom_products() {
    let f = with(
        with(minimal(), "/ProductName", json!("DecoyDetector")),
        "/CompanyName",
        json!("Acme"),
    );
    let partner = prepare_new(f.clone(), &ctx());
    assert_eq!(partner["ProductName"], "Prowler");
    assert_eq!(partner["CompanyName"], "Prowler");

    let custom_ctx = ImportContext {
        company_name: "Personal",
        product_name: "Default",
        custom_product: true,
        ..ctx()
    };
    let custom = prepare_new(f, &custom_ctx);
    assert_eq!(custom["ProductName"], "DecoyDetector");
    assert_eq!(custom["CompanyName"], "Acme");
    assert_eq!(
        custom["ProductFields"]["aws/securityhub/ProductName"],
        "Default"
    );
    assert_eq!(
        custom["ProductFields"]["aws/securityhub/CompanyName"],
        "Personal"
    );

    let unnamed = prepare_new(minimal(), &custom_ctx);
    assert_eq!(unnamed["ProductName"], "Default");
    assert_eq!(unnamed["CompanyName"], "Personal");
}

#[test]
fn region_processed_at_and_account_name_are_service_set() {
    let f = with(
        with(
            with(minimal(), "/Region", json!("eu-west-9")),
            "/ProcessedAt",
            json!("x"),
        ),
        "/AwsAccountName",
        json!("spoofed"),
    );
    let stored = prepare_new(f.clone(), &ctx());
    assert_eq!(stored["Region"], "us-east-1");
    assert_eq!(stored["ProcessedAt"], "2024-01-04T15:25:10.123Z");
    assert!(stored.get("AwsAccountName").is_none());
    let named = prepare_new(
        f,
        &ImportContext {
            account_name: Some("prod"),
            ..ctx()
        },
    );
    assert_eq!(named["AwsAccountName"], "prod");
}

#[test]
fn provider_sent_aws_product_fields_are_replaced() {
    let f = with(
        minimal(),
        "/ProductFields",
        json!({"aws/securityhub/ProductName": "Fake", "aws/securityhub/FindingId": "fake", "mine": "1"}),
    );
    let stored = prepare_new(f, &ctx());
    let pf = &stored["ProductFields"];
    assert_eq!(pf["aws/securityhub/ProductName"], "Prowler");
    assert_eq!(
        pf["aws/securityhub/FindingId"],
        "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default/finding-1"
    );
    assert_eq!(pf["mine"], "1");
}

#[test]
fn initial_customer_fields_from_the_provider_are_kept_on_creation() {
    let note = json!({"Text": "n", "UpdatedBy": "p", "UpdatedAt": "2024-01-04T15:25:10+01:00"});
    let f = with(
        with(
            with(
                with(minimal(), "/Workflow", json!({"Status": "SUPPRESSED"})),
                "/RecordState",
                json!("ARCHIVED"),
            ),
            "/Note",
            note,
        ),
        "/VerificationState",
        json!("TRUE_POSITIVE"),
    );
    let stored = prepare_new(f, &ctx());
    assert_eq!(stored["Workflow"]["Status"], "SUPPRESSED");
    assert_eq!(stored["RecordState"], "ARCHIVED");
    assert_eq!(stored["VerificationState"], "TRUE_POSITIVE");
    assert_eq!(stored["Note"]["UpdatedAt"], "2024-01-04T14:25:10.000Z");

    let empty_workflow = prepare_new(with(minimal(), "/Workflow", json!({})), &ctx());
    assert_eq!(empty_workflow["Workflow"], json!({"Status": "NEW"}));
}

#[test]
fn severity_label_and_normalized_are_derived_both_ways() {
    let cases = [
        (
            json!({"Normalized": 0}),
            json!({"Normalized": 0, "Label": "INFORMATIONAL"}),
        ),
        (
            json!({"Normalized": 39}),
            json!({"Normalized": 39, "Label": "LOW"}),
        ),
        (
            json!({"Normalized": 55}),
            json!({"Normalized": 55, "Label": "MEDIUM"}),
        ),
        (
            json!({"Normalized": 89}),
            json!({"Normalized": 89, "Label": "HIGH"}),
        ),
        (
            json!({"Normalized": 95}),
            json!({"Normalized": 95, "Label": "CRITICAL"}),
        ),
        (
            json!({"Label": "INFORMATIONAL"}),
            json!({"Label": "INFORMATIONAL", "Normalized": 0}),
        ),
        (
            json!({"Label": "LOW"}),
            json!({"Label": "LOW", "Normalized": 1}),
        ),
        (
            json!({"Label": "CRITICAL"}),
            json!({"Label": "CRITICAL", "Normalized": 90}),
        ),
        // Both given: kept as sent, even when they disagree.
        (
            json!({"Label": "LOW", "Normalized": 99}),
            json!({"Label": "LOW", "Normalized": 99}),
        ),
    ];
    for (given, expected) in cases {
        let stored = prepare_new(with(minimal(), "/Severity", given.clone()), &ctx());
        assert_eq!(stored["Severity"], expected, "{given}");
        assert_eq!(
            stored["FindingProviderFields"]["Severity"],
            json!({"Label": expected["Label"]}),
            "{given}"
        );
    }
}

#[test]
fn fpf_only_populates_the_top_level_on_creation() {
    let f = with(
        without(without(minimal(), "/Severity"), "/Types"),
        "/FindingProviderFields",
        json!({
            "Severity": {"Label": "HIGH", "Original": "8.1"},
            "Types": ["TTPs/Execution"],
            "Confidence": 70,
            "Criticality": 20,
            "RelatedFindings": [{"ProductArn": "arn:aws:securityhub:us-east-1::product/a/b", "Id": "r"}]
        }),
    );
    let stored = prepare_new(f, &ctx());
    assert_eq!(
        stored["Severity"],
        json!({"Label": "HIGH", "Original": "8.1", "Normalized": 70})
    );
    assert_eq!(stored["Types"], json!(["TTPs/Execution"]));
    assert_eq!(stored["Confidence"], 70);
    assert_eq!(stored["Criticality"], 20);
    assert_eq!(stored["RelatedFindings"][0]["Id"], "r");
    assert_eq!(
        stored["FindingProviderFields"]["Severity"],
        json!({"Label": "HIGH", "Original": "8.1"})
    );
    assert_eq!(validate_finding(&stored), Ok(()));
}

#[test]
fn top_level_only_is_copied_into_fpf_on_creation() {
    let f = with(
        with(
            with(
                with(
                    minimal(),
                    "/Severity",
                    json!({"Normalized": 75, "Original": "7.5", "Product": 7.5}),
                ),
                "/Confidence",
                json!(10),
            ),
            "/Criticality",
            json!(90),
        ),
        "/RelatedFindings",
        json!([{"ProductArn": "arn:aws:securityhub:us-east-1::product/a/b", "Id": "r"}]),
    );
    let stored = prepare_new(f, &ctx());
    assert_eq!(
        stored["Severity"],
        json!({"Normalized": 75, "Original": "7.5", "Product": 7.5, "Label": "HIGH"})
    );
    assert_eq!(
        stored["FindingProviderFields"],
        json!({
            "Confidence": 10,
            "Criticality": 90,
            "RelatedFindings": [{"ProductArn": "arn:aws:securityhub:us-east-1::product/a/b", "Id": "r"}],
            "Severity": {"Label": "HIGH", "Original": "7.5"},
            "Types": ["Software and Configuration Checks/Vulnerabilities/CVE"]
        })
    );
}

#[test]
fn fpf_wins_over_the_top_level_when_both_are_sent_on_creation() {
    let f = with(
        with(
            with(minimal(), "/Confidence", json!(10)),
            "/Types",
            json!(["Effects"]),
        ),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "LOW"}, "Types": ["TTPs"], "Confidence": 99}),
    );
    let stored = prepare_new(f, &ctx());
    assert_eq!(stored["Severity"], json!({"Label": "LOW", "Normalized": 1}));
    assert_eq!(stored["Types"], json!(["TTPs"]));
    assert_eq!(stored["Confidence"], 99);
    assert_eq!(
        stored["FindingProviderFields"],
        json!({"Severity": {"Label": "LOW"}, "Types": ["TTPs"], "Confidence": 99})
    );
}

#[test]
fn fpf_severity_without_label_takes_the_top_level_label() {
    let f = with(
        with(minimal(), "/Severity", json!({"Normalized": 45})),
        "/FindingProviderFields",
        json!({"Severity": {"Original": "4.5"}}),
    );
    let stored = prepare_new(f, &ctx());
    assert_eq!(
        stored["FindingProviderFields"]["Severity"],
        json!({"Original": "4.5", "Label": "MEDIUM"})
    );
    assert_eq!(
        stored["Severity"],
        json!({"Label": "MEDIUM", "Original": "4.5", "Normalized": 45})
    );
}

#[test]
fn top_level_severity_agreeing_with_fpf_keeps_its_normalized_value() {
    let agreeing = with(
        with(
            minimal(),
            "/Severity",
            json!({"Label": "LOW", "Normalized": 25, "Product": 2.5}),
        ),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "LOW"}}),
    );
    let stored = prepare_new(agreeing, &ctx());
    assert_eq!(
        stored["Severity"],
        json!({"Label": "LOW", "Normalized": 25, "Product": 2.5})
    );
    // A stored finding imported again as new keeps its severity exactly.
    assert_eq!(
        prepare_new(stored.clone(), &ctx())["Severity"],
        stored["Severity"]
    );

    let disagreeing = with(
        with(
            minimal(),
            "/Severity",
            json!({"Label": "LOW", "Normalized": 25, "Product": 2.5}),
        ),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "HIGH"}}),
    );
    let stored = prepare_new(disagreeing, &ctx());
    assert_eq!(
        stored["Severity"],
        json!({"Label": "HIGH", "Normalized": 70})
    );
}

#[test]
fn every_known_timestamp_is_normalised() {
    let f = with(
        with(
            with(
                with(
                    minimal(),
                    "/CreatedAt",
                    json!("2024-01-04T15:25:10.123456789+17:59"),
                ),
                "/LastObservedAt",
                json!("2024-01-04T15:25:10-1759"),
            ),
            "/Process",
            json!({"LaunchedAt": "2024-01-04T15:25:10+05", "Pid": 4.0}),
        ),
        "/ThreatIntelIndicators",
        json!([{"LastObservedAt": "2024-01-04t15:25:10.5z"}]),
    );
    let f = with(
        with(
            f,
            "/Vulnerabilities",
            json!([{"Id": "CVE-1", "Vendor": {"Name": "n", "VendorUpdatedAt": "2024-01-04T15:25:10Z"}}]),
        ),
        "/Confidence",
        json!(50.0),
    );
    let stored = prepare_new(f, &ctx());
    assert_eq!(stored["CreatedAt"], "2024-01-03T21:26:10.123Z");
    assert_eq!(stored["LastObservedAt"], "2024-01-05T09:24:10.000Z");
    assert_eq!(stored["Process"]["LaunchedAt"], "2024-01-04T10:25:10.000Z");
    assert_eq!(stored["Process"]["Pid"], json!(4));
    assert_eq!(
        stored["ThreatIntelIndicators"][0]["LastObservedAt"],
        "2024-01-04T15:25:10.500Z"
    );
    assert_eq!(
        stored["Vulnerabilities"][0]["Vendor"]["VendorUpdatedAt"],
        "2024-01-04T15:25:10.000Z"
    );
    assert_eq!(stored["Confidence"], json!(50));
    assert!(stored["Confidence"].is_i64());
}

#[test]
fn member_order_is_preserved() {
    let stored = prepare_new(prowler(), &ctx());
    let keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let original = prowler();
    let original_keys: Vec<&str> = original
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..original_keys.len()], &original_keys[..]);
}

#[test]
fn non_objects_and_broken_findings_do_not_panic() {
    assert_eq!(prepare_new(json!([1]), &ctx()), json!([1]));
    let broken = json!({"Workflow": 5, "ProductFields": "x", "Severity": "LOW", "FindingProviderFields": [],
        "CreatedAt": 3, "Resources": "r", "Types": {}});
    let stored = prepare_new(broken, &ctx());
    assert_eq!(stored["Workflow"]["Status"], "NEW");
    assert_eq!(
        stored["ProductFields"]["aws/securityhub/ProductName"],
        "Prowler"
    );
    assert_eq!(NOW, 1_704_381_910_123);
}

mod properties {
    use super::*;
    use crate::fixtures::{arb_json, valid_finding};
    use crate::{CustomerFields, ImportOutcome, merge_import};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prepare_new_never_panics(v in arb_json()) {
            let _ = prepare_new(v, &ctx());
        }

        /// Whatever validation accepts is stored in a form validation still accepts, and storing
        /// it again changes nothing but ProcessedAt.
        #[test]
        fn stored_findings_stay_valid_and_stable(f in valid_finding()) {
            prop_assert_eq!(validate_finding(&f), Ok(()));
            let stored = prepare_new(f, &ctx());
            prop_assert_eq!(validate_finding(&stored), Ok(()));
            let again = prepare_new(stored.clone(), &ImportContext { now_ms: 0, ..ctx() });
            let changes = crate::diff(&stored, &again);
            prop_assert!(changes.is_empty(), "{:?}", changes);
        }

        #[test]
        fn merged_findings_stay_valid(old in valid_finding(), new in valid_finding(), bits in 0_i64..512) {
            prop_assert_eq!(validate_finding(&old), Ok(()));
            prop_assert_eq!(validate_finding(&new), Ok(()));
            let existing = prepare_new(old, &ctx());
            let incoming = with(new, "/UpdatedAt", json!("2030-01-01T00:00:00Z"));
            match merge_import(&existing, CustomerFields(bits), incoming, &ctx()) {
                ImportOutcome::Updated { finding, .. } => prop_assert_eq!(validate_finding(&finding), Ok(())),
                ImportOutcome::Stale => prop_assert!(false, "a later UpdatedAt is never stale"),
            }
        }

        #[test]
        fn merge_and_diff_never_panic(a in arb_json(), b in arb_json(), bits in any::<i64>()) {
            let _ = merge_import(&a, CustomerFields(bits), b.clone(), &ctx());
            let _ = crate::diff(&a, &b);
        }
    }
}
