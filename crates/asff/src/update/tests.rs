use super::*;
use crate::fixtures::{ctx, minimal, with};
use crate::prepare_new;
use proptest::prelude::*;
use serde_json::json;

const LATER_MS: i64 = 1_704_450_000_000; // 2024-01-05T10:20:00Z

fn full_body() -> Value {
    json!({
        "FindingIdentifiers": [{"Id": "finding-1", "ProductArn": "arn:aws:securityhub:us-east-1::product/a/b"}],
        "Note": {"Text": "Looked at it", "UpdatedBy": "alice"},
        "Severity": {"Label": "LOW", "Normalized": 10, "Product": 2.5},
        "VerificationState": "BENIGN_POSITIVE",
        "Confidence": 80,
        "Criticality": 0,
        "Types": ["Effects/Data Exposure"],
        "UserDefinedFields": {"ticket": "T-1", "team": "iot"},
        "Workflow": {"Status": "NOTIFIED"},
        "RelatedFindings": [{"ProductArn": "arn:aws:securityhub:us-east-1::product/a/b", "Id": "other"}]
    })
}

fn parse_err(body: Value) -> String {
    parse_finding_update(&body).expect_err("should be invalid")
}

#[test]
fn parses_every_member() {
    let u = parse_finding_update(&full_body()).unwrap();
    assert_eq!(
        u,
        FindingUpdate {
            note: Some(NoteUpdate {
                text: "Looked at it".into(),
                updated_by: "alice".into()
            }),
            severity: Some(SeverityUpdate {
                label: Some(SeverityLabel::Low),
                normalized: Some(10),
                product: Some(2.5)
            }),
            verification_state: Some(VerificationState::BenignPositive),
            confidence: Some(80),
            criticality: Some(0),
            types: Some(vec!["Effects/Data Exposure".into()]),
            user_defined_fields: Some(vec![
                ("ticket".into(), "T-1".into()),
                ("team".into(), "iot".into())
            ]),
            workflow_status: Some(WorkflowStatus::Notified),
            related_findings: Some(vec![RelatedFinding {
                product_arn: "arn:aws:securityhub:us-east-1::product/a/b".into(),
                id: "other".into()
            }]),
        }
    );
    assert!(!u.is_empty());
    let empty = parse_finding_update(&json!({"FindingIdentifiers": []})).unwrap();
    assert!(empty.is_empty());
    assert!(
        parse_finding_update(&json!({"Severity": {}, "Workflow": {}}))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn invalid_members_are_named() {
    let cases = [
        (
            json!({"Note": {"Text": "t"}}),
            "Note should have required property 'UpdatedBy'.",
        ),
        (
            json!({"Note": {"Text": "x".repeat(513), "UpdatedBy": "a"}}),
            "Note.Text should NOT be longer than 512 characters.",
        ),
        (
            json!({"Note": {"Text": " ", "UpdatedBy": "a"}}),
            "Note.Text should match pattern \".*\\S.*\".",
        ),
        (
            json!({"Severity": {"Label": "BAD"}}),
            "Severity.Label should be equal to one of the allowed values: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL.",
        ),
        (
            json!({"Severity": {"Normalized": 101}}),
            "Severity.Normalized should be <= 100.",
        ),
        (
            json!({"Severity": {"Product": "high"}}),
            "Severity.Product should be number.",
        ),
        (json!({"Confidence": -1}), "Confidence should be >= 0."),
        (
            json!({"Criticality": 100.5}),
            "Criticality should be integer.",
        ),
        (
            json!({"VerificationState": "MAYBE"}),
            "VerificationState should be equal to one of the allowed values: UNKNOWN, TRUE_POSITIVE, FALSE_POSITIVE, BENIGN_POSITIVE.",
        ),
        (json!({"Types": "TTPs"}), "Types should be array."),
        (
            json!({"Types": ["a/b/c/d"]}),
            "Types[0] should match pattern \"^([^/]+)(/[^/]+){0,2}$\".",
        ),
        (
            json!({"UserDefinedFields": {"k": "v".repeat(1025)}}),
            "UserDefinedFields['k'] should NOT be longer than 1024 characters.",
        ),
        (
            json!({"Workflow": {"Status": "CLOSED"}}),
            "Workflow.Status should be equal to one of the allowed values: NEW, NOTIFIED, RESOLVED, SUPPRESSED.",
        ),
        (
            json!({"RelatedFindings": []}),
            "RelatedFindings should NOT have fewer than 1 items.",
        ),
        (
            json!({"RelatedFindings": [{"ProductArn": "p"}]}),
            "RelatedFindings[0] should have required property 'Id'.",
        ),
        (json!([]), "input should be object."),
    ];
    for (body, expected) in cases {
        assert_eq!(parse_err(body.clone()), expected, "{body}");
    }
    let too_many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_eq!(
        parse_err(json!({"UserDefinedFields": too_many})),
        "UserDefinedFields should NOT have more than 50 properties."
    );
}

#[test]
fn json_form_round_trips() {
    let u = parse_finding_update(&full_body()).unwrap();
    let stored = finding_update_to_json(&u);
    let mut expected = full_body();
    expected
        .as_object_mut()
        .unwrap()
        .shift_remove("FindingIdentifiers");
    assert_eq!(stored, expected);
    assert_eq!(parse_finding_update(&stored).unwrap(), u);
    assert_eq!(finding_update_to_json(&FindingUpdate::default()), json!({}));
}

fn existing() -> Value {
    prepare_new(
        with(
            minimal(),
            "/Severity",
            json!({"Label": "HIGH", "Original": "8.0", "Product": 8.0}),
        ),
        &ctx(),
    )
}

#[test]
fn applies_every_member_and_marks_customer_fields() {
    let before = existing();
    let u = parse_finding_update(&full_body()).unwrap();
    let (after, bits, changes) = apply_update(&before, CustomerFields::NONE, &u, LATER_MS);
    assert_eq!(
        after["Note"],
        json!({"Text": "Looked at it", "UpdatedBy": "alice", "UpdatedAt": "2024-01-05T10:20:00.000Z"})
    );
    assert_eq!(
        after["Severity"],
        json!({"Label": "LOW", "Normalized": 10, "Original": "8.0", "Product": 2.5})
    );
    assert_eq!(after["VerificationState"], "BENIGN_POSITIVE");
    assert_eq!(after["Confidence"], 80);
    assert_eq!(after["Criticality"], 0);
    assert_eq!(after["Types"], json!(["Effects/Data Exposure"]));
    assert_eq!(
        after["UserDefinedFields"],
        json!({"ticket": "T-1", "team": "iot"})
    );
    assert_eq!(after["Workflow"], json!({"Status": "NOTIFIED"}));
    assert_eq!(after["RelatedFindings"][0]["Id"], "other");
    for untouched in [
        "UpdatedAt",
        "CreatedAt",
        "FindingProviderFields",
        "RecordState",
        "ProcessedAt",
        "ProductFields",
    ] {
        assert_eq!(after[untouched], before[untouched], "{untouched}");
    }
    assert_eq!(
        bits.field_names(),
        [
            "Confidence",
            "Criticality",
            "RelatedFindings",
            "Severity",
            "Types",
            "Note",
            "UserDefinedFields",
            "VerificationState",
            "Workflow"
        ]
    );
    let names: Vec<&str> = changes.iter().map(|c| c.updated_field.as_str()).collect();
    assert!(names.contains(&"Workflow.Status"), "{names:?}");
    assert!(names.contains(&"Note.Text"), "{names:?}");
    assert!(names.contains(&"Severity.Label"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("FindingProviderFields")),
        "{names:?}"
    );
    assert_eq!(crate::validate_finding(&after), Ok(()));
}

#[test]
fn severity_update_derives_the_missing_half() {
    let cases = [
        (
            json!({"Label": "CRITICAL"}),
            json!({"Label": "CRITICAL", "Normalized": 90}),
        ),
        (
            json!({"Label": "INFORMATIONAL"}),
            json!({"Label": "INFORMATIONAL", "Normalized": 0}),
        ),
        (
            json!({"Normalized": 45}),
            json!({"Label": "MEDIUM", "Normalized": 45}),
        ),
        (
            json!({"Normalized": 0}),
            json!({"Label": "INFORMATIONAL", "Normalized": 0}),
        ),
        (
            json!({"Label": "LOW", "Normalized": 30}),
            json!({"Label": "LOW", "Normalized": 30}),
        ),
        (
            json!({"Product": 3.0}),
            json!({"Label": "HIGH", "Normalized": 70, "Product": 3.0}),
        ),
    ];
    for (given, expected) in cases {
        let u = parse_finding_update(&json!({"Severity": given})).unwrap();
        let (after, bits, _) = apply_update(&existing(), CustomerFields::NONE, &u, LATER_MS);
        let mut want = expected.as_object().unwrap().clone();
        want.insert("Original".into(), json!("8.0"));
        want.entry("Product").or_insert(json!(8.0));
        assert_eq!(after["Severity"], Value::Object(want), "{given}");
        assert_eq!(bits, CustomerFields::SEVERITY);
        assert_eq!(
            after["FindingProviderFields"]["Severity"],
            json!({"Label": "HIGH", "Original": "8.0"})
        );
    }
}

#[test]
fn user_defined_fields_are_merged() {
    let before = with(
        existing(),
        "/UserDefinedFields",
        json!({"a": "1", "b": "2"}),
    );
    let u = parse_finding_update(&json!({"UserDefinedFields": {"b": "20", "c": "3"}})).unwrap();
    let (after, bits, changes) = apply_update(&before, CustomerFields::TYPES, &u, LATER_MS);
    assert_eq!(
        after["UserDefinedFields"],
        json!({"a": "1", "b": "20", "c": "3"})
    );
    assert_eq!(
        bits,
        CustomerFields::TYPES | CustomerFields::USER_DEFINED_FIELDS
    );
    assert_eq!(
        changes,
        vec![
            FieldChange {
                updated_field: "UserDefinedFields.b".into(),
                old_value: Some("2".into()),
                new_value: Some("20".into())
            },
            FieldChange {
                updated_field: "UserDefinedFields.c".into(),
                old_value: None,
                new_value: Some("3".into())
            },
        ]
    );
}

#[test]
fn same_value_still_marks_the_field_but_records_no_change() {
    let u = parse_finding_update(&json!({"Workflow": {"Status": "NEW"}})).unwrap();
    let (after, bits, changes) = apply_update(&existing(), CustomerFields::NONE, &u, LATER_MS);
    assert_eq!(after, existing());
    assert_eq!(bits, CustomerFields::WORKFLOW);
    assert!(changes.is_empty());
}

#[test]
fn empty_update_changes_nothing() {
    let (after, bits, changes) = apply_update(
        &existing(),
        CustomerFields::NONE,
        &FindingUpdate::default(),
        LATER_MS,
    );
    assert_eq!(after, existing());
    assert!(bits.is_empty());
    assert!(changes.is_empty());
    let (after, bits, _) = apply_update(
        &json!("x"),
        CustomerFields::NOTE,
        &parse_finding_update(&full_body()).unwrap(),
        0,
    );
    assert_eq!(after, json!("x"));
    assert_eq!(bits, CustomerFields::NOTE);
}

#[test]
fn note_is_replaced_with_a_fresh_timestamp() {
    let u1 = parse_finding_update(&json!({"Note": {"Text": "first", "UpdatedBy": "a"}})).unwrap();
    let (f1, _, _) = apply_update(&existing(), CustomerFields::NONE, &u1, 0);
    assert_eq!(f1["Note"]["UpdatedAt"], "1970-01-01T00:00:00.000Z");
    let u2 = parse_finding_update(&json!({"Note": {"Text": "second", "UpdatedBy": "b"}})).unwrap();
    let (f2, _, changes) = apply_update(&f1, CustomerFields::NOTE, &u2, LATER_MS);
    assert_eq!(
        f2["Note"],
        json!({"Text": "second", "UpdatedBy": "b", "UpdatedAt": "2024-01-05T10:20:00.000Z"})
    );
    let names: Vec<&str> = changes.iter().map(|c| c.updated_field.as_str()).collect();
    assert_eq!(names, ["Note.Text", "Note.UpdatedBy", "Note.UpdatedAt"]);
}

proptest! {
    #[test]
    fn parse_and_apply_never_panic(body in prop::collection::vec(
        (prop::sample::select(vec!["Note", "Severity", "VerificationState", "Confidence", "Criticality",
            "Types", "UserDefinedFields", "Workflow", "RelatedFindings", "FindingIdentifiers"]),
         prop_oneof![
            Just(json!(null)), Just(json!(5)), Just(json!(-3.5)), Just(json!("LOW")), Just(json!([])),
            Just(json!(["TTPs"])), Just(json!({})), Just(json!({"Label": "LOW", "Normalized": 7})),
            Just(json!({"Text": "t", "UpdatedBy": "u"})), Just(json!({"Status": "RESOLVED"})),
            Just(json!({"k": "v"})), Just(json!([{"ProductArn": "p", "Id": "i"}])),
         ]),
        0..6,
    )) {
        let v = Value::Object(body.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        if let Ok(u) = parse_finding_update(&v) {
            let before = with(existing(), "/UserDefinedFields", json!({"k": "old", "j": "x"}));
            let (after, _, changes) = apply_update(&before, CustomerFields::NONE, &u, LATER_MS);
            prop_assert_eq!(crate::validate_finding(&after), Ok(()));
            // The per-member changes are exactly those of a full diff.
            let key = |c: &FieldChange| (c.updated_field.clone(), c.old_value.clone(), c.new_value.clone());
            let mut got: Vec<_> = changes.iter().map(key).collect();
            let mut want: Vec<_> = crate::diff(&before, &after).iter().map(key).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
            prop_assert_eq!(parse_finding_update(&finding_update_to_json(&u)).unwrap(), u);
        }
    }
}
