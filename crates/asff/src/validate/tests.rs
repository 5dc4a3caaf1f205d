use super::*;
use crate::fixtures::{arb_json, mutated_finding};
use crate::fixtures::{
    device_defender_audit, device_defender_detect, minimal, prowler, with, without,
};
use proptest::prelude::*;
use serde_json::json;

pub(super) fn err(finding: &Value) -> String {
    let e = validate_finding(finding).expect_err("finding should be invalid");
    e.strip_prefix(FORMAT_ERROR_PREFIX)
        .unwrap_or(&e)
        .to_string()
}

pub(super) fn assert_err(finding: Value, expected: &str) {
    assert_eq!(err(&finding), expected, "{finding}");
}

#[test]
fn real_provider_findings_are_valid() {
    for f in [
        minimal(),
        prowler(),
        device_defender_audit(),
        device_defender_detect(),
    ] {
        assert_eq!(validate_finding(&f), Ok(()), "{f}");
    }
}

#[test]
fn errors_carry_the_aws_prefix() {
    let e = validate_finding(&without(minimal(), "/Title")).unwrap_err();
    assert_eq!(
        e,
        "Finding does not adhere to Amazon Finding Format. data should have required property 'Title'."
    );
}

#[test]
fn every_required_attribute_is_required() {
    for name in [
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "CreatedAt",
        "UpdatedAt",
        "Title",
        "Description",
        "Resources",
    ] {
        assert_err(
            without(minimal(), &format!("/{name}")),
            &format!("data should have required property '{name}'."),
        );
    }
}

#[test]
fn schema_version_must_be_2018_10_08() {
    assert_err(
        with(minimal(), "/SchemaVersion", json!("2019-01-01")),
        "data.SchemaVersion should be equal to one of the allowed values: 2018-10-08.",
    );
}

#[test]
fn severity_and_types_at_top_level_or_in_fpf() {
    let any_of = "data should have required property 'FindingProviderFields', data should match some schema in anyOf.";
    assert_err(without(minimal(), "/Severity"), any_of);
    assert_err(without(minimal(), "/Types"), any_of);
    assert_err(without(without(minimal(), "/Types"), "/Severity"), any_of);

    let in_fpf = with(
        without(without(minimal(), "/Types"), "/Severity"),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "LOW"}, "Types": ["TTPs"]}),
    );
    assert_eq!(validate_finding(&in_fpf), Ok(()));

    let mixed = with(
        without(minimal(), "/Types"),
        "/FindingProviderFields",
        json!({"Types": ["Effects/Data Exposure"]}),
    );
    assert_eq!(validate_finding(&mixed), Ok(()));

    let normalized_only = with(minimal(), "/Severity", json!({"Normalized": 55}));
    assert_eq!(validate_finding(&normalized_only), Ok(()));

    assert_err(
        with(minimal(), "/Severity", json!({"Original": "7.5"})),
        "data.Severity should have required property 'Label'.",
    );
    assert_err(
        with(
            without(minimal(), "/Severity"),
            "/FindingProviderFields",
            json!({"Severity": {"Original": "7.5"}}),
        ),
        "data.FindingProviderFields.Severity should have required property 'Label'.",
    );
    // A label-less top-level Severity is fine when FPF carries the label.
    let fpf_label = with(
        with(minimal(), "/Severity", json!({"Original": "x"})),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "LOW"}}),
    );
    assert_eq!(validate_finding(&fpf_label), Ok(()));
}

#[test]
fn string_lengths_are_enforced() {
    let cases = [
        ("/Id", 512, "data.Id"),
        ("/GeneratorId", 512, "data.GeneratorId"),
        ("/Title", 256, "data.Title"),
        ("/Description", 1024, "data.Description"),
        ("/ProductName", 128, "data.ProductName"),
        ("/CompanyName", 128, "data.CompanyName"),
        ("/Region", 16, "data.Region"),
        ("/AwsAccountName", 50, "data.AwsAccountName"),
        ("/Resources/0/Type", 256, "data.Resources[0].Type"),
        ("/Resources/0/Region", 16, "data.Resources[0].Region"),
    ];
    for (pointer, max, path) in cases {
        let ok = with(minimal(), pointer, json!("é".repeat(max)));
        assert_eq!(
            validate_finding(&ok),
            Ok(()),
            "{pointer} at {max} characters"
        );
        assert_err(
            with(minimal(), pointer, json!("x".repeat(max + 1))),
            &format!("{path} should NOT be longer than {max} characters."),
        );
        assert_err(
            with(minimal(), pointer, json!("")),
            &format!("{path} should NOT be shorter than 1 characters."),
        );
    }
}

#[test]
fn strings_must_contain_non_whitespace() {
    assert_err(
        with(minimal(), "/Title", json!(" \t\n")),
        "data.Title should match pattern \".*\\S.*\".",
    );
    assert_err(
        with(minimal(), "/Resources/0/Id", json!("   ")),
        "data.Resources[0].Id should match pattern \".*\\S.*\".",
    );
}

#[test]
fn wrong_json_types_name_the_field() {
    let cases = [
        ("/Title", json!(5), "data.Title should be string."),
        (
            "/Resources",
            json!({"Type": "Other"}),
            "data.Resources should be array.",
        ),
        (
            "/Resources/0",
            json!("x"),
            "data.Resources[0] should be object.",
        ),
        ("/Severity", json!([]), "data.Severity should be object."),
        (
            "/Severity/Normalized",
            json!("40"),
            "data.Severity.Normalized should be integer.",
        ),
        (
            "/Severity/Normalized",
            json!(40.5),
            "data.Severity.Normalized should be integer.",
        ),
        (
            "/Severity/Product",
            json!("1"),
            "data.Severity.Product should be number.",
        ),
        (
            "/Confidence",
            json!(true),
            "data.Confidence should be integer.",
        ),
        ("/Sample", json!("true"), "data.Sample should be boolean."),
        ("/Types", json!("TTPs"), "data.Types should be array."),
        ("/Types", json!([1]), "data.Types[0] should be string."),
        (
            "/ProductFields",
            json!([]),
            "data.ProductFields should be object.",
        ),
        (
            "/ProductFields",
            json!({"k": 1}),
            "data.ProductFields['k'] should be string.",
        ),
        (
            "/CreatedAt",
            json!(1_700_000_000),
            "data.CreatedAt should be string.",
        ),
        ("/Detection", json!("x"), "data.Detection should be object."),
        (
            "/Resources/0/Details",
            json!({"AwsS3Bucket": "x"}),
            "data.Resources[0].Details.AwsS3Bucket should be object.",
        ),
        (
            "/Process/Pid",
            json!("1"),
            "data.Process.Pid should be integer.",
        ),
    ];
    for (pointer, value, expected) in cases {
        assert_err(with(minimal(), pointer, value), expected);
    }
    assert_err(json!([]), "data should be object.");
    assert_err(json!(null), "data should be object.");
}

#[test]
fn integral_floats_count_as_integers() {
    let f = with(minimal(), "/Confidence", json!(50.0));
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn account_id_is_twelve_digits() {
    for bad in ["12345678901", "1234567890123", "12345678901a"] {
        assert_err(
            with(minimal(), "/AwsAccountId", json!(bad)),
            "data.AwsAccountId should match pattern \"^\\d{12}$\".",
        );
    }
}

#[test]
fn product_arn_must_have_the_product_form() {
    assert_err(
        with(minimal(), "/ProductArn", json!("arn:aws")),
        "data.ProductArn should NOT be shorter than 12 characters.",
    );
    let msg = err(&with(
        minimal(),
        "/ProductArn",
        json!("arn:aws:securityhub:::product/aquasecurity/aquasecurity"),
    ));
    assert!(
        msg.starts_with("data.ProductArn should match format"),
        "{msg}"
    );
    assert_err(
        with(
            minimal(),
            "/ProductArn",
            json!(format!(
                "arn:aws:securityhub:us-east-1::product/a/{}",
                "b".repeat(2048)
            )),
        ),
        "data.ProductArn should NOT be longer than 2048 characters.",
    );
}

#[test]
fn types_follow_the_aws_pattern_but_any_namespace() {
    for ok in [
        "TTPs",
        "TTPs/Defense Evasion",
        "TTPs/Defense Evasion/CloudTrailStopped",
        "Software and Configuration Check/Vulnerabilities",
        "ens-op.acc.5.aws.iam.1",
        "Data Protection",
        "TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort",
    ] {
        let f = with(minimal(), "/Types", json!([ok]));
        assert_eq!(validate_finding(&f), Ok(()), "{ok}");
    }
    let pattern = "data.Types[0] should match pattern \"^([^/]+)(/[^/]+){0,2}$\".";
    for bad in ["a/b/c/d", "/TTPs", "TTPs/", "TTPs//x"] {
        assert_err(with(minimal(), "/Types", json!([bad])), pattern);
    }
    assert_err(with(minimal(), "/Types", json!([""])), pattern);
    assert_err(
        with(minimal(), "/Types", json!([" "])),
        "data.Types[0] should match pattern \".*\\S.*\".",
    );
    let fifty: Vec<String> = (0..50).map(|i| format!("TTPs/{i}")).collect();
    assert_eq!(
        validate_finding(&with(minimal(), "/Types", json!(fifty))),
        Ok(())
    );
    let fifty_one: Vec<String> = (0..51).map(|i| format!("TTPs/{i}")).collect();
    assert_err(
        with(minimal(), "/Types", json!(fifty_one)),
        "data.Types should NOT have more than 50 items.",
    );
    assert_err(
        with(
            minimal(),
            "/FindingProviderFields",
            json!({"Types": ["a/b/c/d"]}),
        ),
        "data.FindingProviderFields.Types[0] should match pattern \"^([^/]+)(/[^/]+){0,2}$\".",
    );
}

#[test]
fn service_set_processed_at_is_not_checked() {
    let f = with(minimal(), "/ProcessedAt", json!(42));
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn unknown_top_level_members_are_rejected_nested_ones_kept() {
    assert_err(
        with(minimal(), "/Foo", json!(1)),
        "data should NOT have additional properties ('Foo').",
    );
    let nested = with(minimal(), "/Severity", json!({"Label": "LOW", "Score": 3}));
    assert_eq!(validate_finding(&nested), Ok(()));
}

#[test]
fn service_populated_members_from_get_findings_are_accepted() {
    // prowler re-imports findings it read back (issue #1100), service members included.
    let f = with(
        with(
            with(minimal(), "/ProcessedAt", json!("2024-01-04T15:25:10.123Z")),
            "/AwsAccountName",
            json!("prod"),
        ),
        "/Sample",
        json!(false),
    );
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn size_limit_is_checked_first() {
    let huge = with(
        minimal(),
        "/Resources/0/Details",
        json!({"AwsS3Bucket": {"Blob": "x".repeat(MAX_FINDING_BYTES)}}),
    );
    assert_eq!(
        validate_finding(&huge),
        Err("Finding size exceeded 240 KB".to_string())
    );
    let huge_and_broken = without(huge, "/Title");
    assert_eq!(
        validate_finding(&huge_and_broken),
        Err("Finding size exceeded 240 KB".to_string())
    );
}

#[test]
fn hostile_keys_are_shortened_in_messages() {
    let key = "K".repeat(10_000);
    let msg = err(&with(minimal(), &format!("/{key}"), json!(1)));
    assert!(msg.len() < 200, "{msg}");
}

#[test]
fn update_bodies_use_bare_paths() {
    use crate::schema::FINDING_UPDATE;
    assert_eq!(
        check_struct(&json!({"Note": {"Text": "x"}}), &FINDING_UPDATE, ""),
        Err("Note should have required property 'UpdatedBy'.".to_string())
    );
    assert_eq!(
        check_struct(&json!(5), &FINDING_UPDATE, ""),
        Err("input should be object.".to_string())
    );
}

proptest! {
    #[test]
    fn validate_never_panics_on_arbitrary_json(v in arb_json()) {
        let _ = validate_finding(&v);
    }

    #[test]
    fn validate_never_panics_on_mutated_findings(f in mutated_finding()) {
        if let Err(msg) = validate_finding(&f) {
            prop_assert!(msg.starts_with(FORMAT_ERROR_PREFIX) || msg == "Finding size exceeded 240 KB");
        }
    }
}
