use super::*;
use crate::fixtures::{ctx, minimal, prowler, with, without};
use crate::{
    FindingUpdate, SeverityLabel, SeverityUpdate, apply_update, prepare_new, validate_finding,
};
use serde_json::json;

const LATER: &str = "2024-01-05T00:00:00Z";

fn stored(f: Value) -> Value {
    prepare_new(f, &ctx())
}

fn later(f: Value) -> Value {
    with(f, "/UpdatedAt", json!(LATER))
}

fn updated(outcome: ImportOutcome) -> (Value, Vec<FieldChange>) {
    match outcome {
        ImportOutcome::Updated { finding, changes } => (finding, changes),
        ImportOutcome::Stale => panic!("expected an update"),
    }
}

fn merge(existing: &Value, customer: CustomerFields, incoming: Value) -> Value {
    updated(merge_import(existing, customer, incoming, &ctx())).0
}

fn field(changes: &[FieldChange], name: &str) -> Option<FieldChange> {
    changes.iter().find(|c| c.updated_field == name).cloned()
}

#[test]
fn equal_or_older_updated_at_is_stale() {
    let existing = stored(minimal());
    let none = CustomerFields::NONE;
    assert_eq!(
        merge_import(&existing, none, minimal(), &ctx()),
        ImportOutcome::Stale
    );
    let older = with(minimal(), "/UpdatedAt", json!("2024-01-04T14:59:59.999Z"));
    assert_eq!(
        merge_import(&existing, none, older, &ctx()),
        ImportOutcome::Stale
    );
    // Same instant written differently, and a sub-millisecond difference lost to rounding.
    let same = with(minimal(), "/UpdatedAt", json!("2024-01-04T16:00:00+01:00"));
    assert_eq!(
        merge_import(&existing, none, same, &ctx()),
        ImportOutcome::Stale
    );
    let sub_ms = with(minimal(), "/UpdatedAt", json!("2024-01-04T15:00:00.0004Z"));
    assert_eq!(
        merge_import(&existing, none, sub_ms, &ctx()),
        ImportOutcome::Stale
    );
    let unparsable = with(minimal(), "/UpdatedAt", json!("soon"));
    assert_eq!(
        merge_import(&existing, none, unparsable, &ctx()),
        ImportOutcome::Stale
    );
    assert_eq!(
        merge_import(&existing, none, json!("x"), &ctx()),
        ImportOutcome::Stale
    );
}

#[test]
fn strictly_newer_replaces_provider_fields() {
    let existing = stored(with(minimal(), "/SourceUrl", json!("https://a")));
    let incoming = with(later(minimal()), "/Title", json!("New title"));
    let (f, changes) = updated(merge_import(
        &existing,
        CustomerFields::NONE,
        incoming,
        &ctx(),
    ));
    assert_eq!(f["Title"], "New title");
    assert_eq!(f["UpdatedAt"], "2024-01-05T00:00:00.000Z");
    assert!(
        f.get("SourceUrl").is_none(),
        "the provider resends the whole finding"
    );
    assert_eq!(f["ProcessedAt"], "2024-01-04T15:25:10.123Z");
    assert_eq!(f["ProductFields"]["aws/securityhub/ProductName"], "Prowler");
    assert_eq!(
        changes,
        vec![
            FieldChange {
                updated_field: "Title".into(),
                old_value: Some("A title".into()),
                new_value: Some("New title".into())
            },
            FieldChange {
                updated_field: "SourceUrl".into(),
                old_value: Some("https://a".into()),
                new_value: None
            },
        ]
    );
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn created_at_follows_the_provider() {
    let existing = stored(minimal());
    let f = merge(
        &existing,
        CustomerFields::NONE,
        with(
            later(minimal()),
            "/CreatedAt",
            json!("2024-01-01T00:00:00Z"),
        ),
    );
    assert_eq!(f["CreatedAt"], "2024-01-01T00:00:00.000Z");
}

#[test]
fn customer_owned_fields_are_ignored_on_reimport() {
    let note =
        json!({"Text": "analyst", "UpdatedBy": "alice", "UpdatedAt": "2024-01-04T15:10:00.000Z"});
    let existing = with(
        with(
            with(stored(minimal()), "/Note", note.clone()),
            "/UserDefinedFields",
            json!({"ticket": "T-1"}),
        ),
        "/Workflow",
        json!({"Status": "NOTIFIED"}),
    );
    let existing = with(existing, "/VerificationState", json!("TRUE_POSITIVE"));
    let incoming = later(minimal());
    let incoming = with(
        with(
            with(
                with(
                    incoming,
                    "/Note",
                    json!({"Text": "provider", "UpdatedBy": "p", "UpdatedAt": LATER}),
                ),
                "/UserDefinedFields",
                json!({"x": "y"}),
            ),
            "/Workflow",
            json!({"Status": "RESOLVED"}),
        ),
        "/VerificationState",
        json!("FALSE_POSITIVE"),
    );
    let incoming = with(incoming, "/WorkflowState", json!("DEFERRED"));
    let f = merge(&existing, CustomerFields::NONE, incoming);
    assert_eq!(f["Note"], note);
    assert_eq!(f["UserDefinedFields"], json!({"ticket": "T-1"}));
    assert_eq!(f["Workflow"], json!({"Status": "NOTIFIED"}));
    assert_eq!(f["VerificationState"], "TRUE_POSITIVE");
    assert_eq!(f["WorkflowState"], "NEW");

    // Absent on the stored finding: the provider cannot add them later either.
    let bare = stored(minimal());
    let f = merge(
        &bare,
        CustomerFields::NONE,
        with(
            later(minimal()),
            "/Note",
            json!({"Text": "t", "UpdatedBy": "p", "UpdatedAt": LATER}),
        ),
    );
    assert!(f.get("Note").is_none());
}

// Spec §2.4 rule 1: only FindingProviderFields.X.
#[test]
fn fpf_only_update_reaches_the_top_level_unless_customer_changed() {
    let existing = stored(minimal());
    let incoming = with(
        without(without(later(minimal()), "/Severity"), "/Types"),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "LOW"}, "Types": ["Effects"], "Confidence": 30}),
    );
    let f = merge(&existing, CustomerFields::NONE, incoming.clone());
    assert_eq!(f["Severity"], json!({"Label": "LOW", "Normalized": 1}));
    assert_eq!(f["Types"], json!(["Effects"]));
    assert_eq!(f["Confidence"], 30);
    assert_eq!(
        f["FindingProviderFields"]["Severity"],
        json!({"Label": "LOW"})
    );

    let customer = CustomerFields::SEVERITY | CustomerFields::TYPES | CustomerFields::CONFIDENCE;
    let f = merge(&existing, customer, incoming);
    assert_eq!(f["Severity"], existing["Severity"]);
    assert_eq!(f["Types"], existing["Types"]);
    assert!(
        f.get("Confidence").is_none(),
        "customer-changed and absent stays absent"
    );
    assert_eq!(
        f["FindingProviderFields"]["Severity"],
        json!({"Label": "LOW"})
    );
    assert_eq!(f["FindingProviderFields"]["Types"], json!(["Effects"]));
    assert_eq!(f["FindingProviderFields"]["Confidence"], 30);
}

// Rule 2: only top-level X.
#[test]
fn top_level_only_update_is_mirrored_into_fpf() {
    let existing = stored(minimal());
    let incoming = with(
        with(later(minimal()), "/Severity", json!({"Normalized": 95})),
        "/Criticality",
        json!(60),
    );
    let f = merge(&existing, CustomerFields::NONE, incoming.clone());
    assert_eq!(
        f["Severity"],
        json!({"Normalized": 95, "Label": "CRITICAL"})
    );
    assert_eq!(f["Criticality"], 60);
    assert_eq!(
        f["FindingProviderFields"]["Severity"],
        json!({"Label": "CRITICAL"})
    );
    assert_eq!(f["FindingProviderFields"]["Criticality"], 60);

    let customer = CustomerFields::SEVERITY | CustomerFields::CRITICALITY;
    let customer_finding = with(existing, "/Criticality", json!(5));
    let f = merge(&customer_finding, customer, incoming);
    assert_eq!(f["Severity"], json!({"Label": "HIGH", "Normalized": 70}));
    assert_eq!(f["Criticality"], 5);
    assert_eq!(
        f["FindingProviderFields"]["Severity"],
        json!({"Label": "CRITICAL"})
    );
    assert_eq!(f["FindingProviderFields"]["Criticality"], 60);
}

// Rule 3: both, on an existing finding: both stored, top level only if not customer-changed.
#[test]
fn both_given_on_update_store_both() {
    let existing = stored(minimal());
    let incoming = with(
        with(
            with(later(minimal()), "/Severity", json!({"Label": "MEDIUM"})),
            "/Types",
            json!(["TTPs"]),
        ),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "LOW"}, "Types": ["Effects"]}),
    );
    let f = merge(&existing, CustomerFields::NONE, incoming.clone());
    assert_eq!(f["Severity"], json!({"Label": "MEDIUM", "Normalized": 40}));
    assert_eq!(f["Types"], json!(["TTPs"]));
    assert_eq!(
        f["FindingProviderFields"],
        json!({"Severity": {"Label": "LOW"}, "Types": ["Effects"]})
    );

    let f = merge(&existing, CustomerFields::TYPES, incoming);
    assert_eq!(f["Severity"], json!({"Label": "MEDIUM", "Normalized": 40}));
    assert_eq!(f["Types"], existing["Types"]);
    assert_eq!(f["FindingProviderFields"]["Types"], json!(["Effects"]));
}

// Rule 4 and the "neither" case: FPF is the provider's alone.
#[test]
fn fpf_follows_the_provider_and_omitted_fields_disappear() {
    let existing = stored(with(
        minimal(),
        "/FindingProviderFields",
        json!({"Confidence": 80}),
    ));
    assert_eq!(existing["Confidence"], 80);
    let f = merge(&existing, CustomerFields::NONE, later(minimal()));
    assert!(f.get("Confidence").is_none());
    assert!(f["FindingProviderFields"].get("Confidence").is_none());

    let kept = merge(
        &with(existing, "/Confidence", json!(15)),
        CustomerFields::CONFIDENCE,
        later(minimal()),
    );
    assert_eq!(kept["Confidence"], 15);
    assert!(kept["FindingProviderFields"].get("Confidence").is_none());
}

#[test]
fn customer_updates_survive_provider_reimports() {
    let existing = stored(minimal());
    let update = FindingUpdate {
        severity: Some(SeverityUpdate {
            label: Some(SeverityLabel::Low),
            ..Default::default()
        }),
        types: Some(vec!["Effects/Data Exposure".into()]),
        ..Default::default()
    };
    let (after_buf, bits, _) =
        apply_update(&existing, CustomerFields::NONE, &update, 1_704_400_000_000);
    assert!(bits.contains(CustomerFields::SEVERITY | CustomerFields::TYPES));

    let reimport = with(
        later(minimal()),
        "/FindingProviderFields",
        json!({"Severity": {"Label": "CRITICAL"}, "Types": ["TTPs/Impact"]}),
    );
    let (f, changes) = updated(merge_import(&after_buf, bits, reimport, &ctx()));
    assert_eq!(f["Severity"], json!({"Label": "LOW", "Normalized": 1}));
    assert_eq!(f["Types"], json!(["Effects/Data Exposure"]));
    assert_eq!(
        f["FindingProviderFields"]["Severity"],
        json!({"Label": "CRITICAL"})
    );
    assert_eq!(f["FindingProviderFields"]["Types"], json!(["TTPs/Impact"]));
    assert!(field(&changes, "Severity.Label").is_none());
    assert_eq!(
        field(&changes, "FindingProviderFields.Severity.Label").map(|c| c.new_value),
        Some(Some("CRITICAL".into()))
    );
}

fn with_workflow(f: Value, status: &str) -> Value {
    with(f, "/Workflow", json!({"Status": status}))
}

#[test]
fn reactivation_resets_notified_and_resolved_but_not_suppressed() {
    let archived = stored(with(minimal(), "/RecordState", json!("ARCHIVED")));
    for (before, after) in [
        ("NOTIFIED", "NEW"),
        ("RESOLVED", "NEW"),
        ("SUPPRESSED", "SUPPRESSED"),
        ("NEW", "NEW"),
    ] {
        let existing = with_workflow(archived.clone(), before);
        let explicit = merge(
            &existing,
            CustomerFields::NONE,
            with(later(minimal()), "/RecordState", json!("ACTIVE")),
        );
        assert_eq!(explicit["Workflow"]["Status"], after, "{before}");
        // RecordState left out means ACTIVE: the provider resent the whole finding.
        let implicit = merge(&existing, CustomerFields::NONE, later(minimal()));
        assert_eq!(implicit["RecordState"], "ACTIVE");
        assert_eq!(implicit["Workflow"]["Status"], after, "{before}");
    }
    let existing = with_workflow(archived, "RESOLVED");
    let still_archived = merge(
        &existing,
        CustomerFields::NONE,
        with(later(minimal()), "/RecordState", json!("ARCHIVED")),
    );
    assert_eq!(still_archived["Workflow"]["Status"], "RESOLVED");
}

#[test]
fn archiving_does_not_touch_the_workflow() {
    let existing = with_workflow(stored(minimal()), "RESOLVED");
    let (f, changes) = updated(merge_import(
        &existing,
        CustomerFields::NONE,
        with(later(minimal()), "/RecordState", json!("ARCHIVED")),
        &ctx(),
    ));
    assert_eq!(f["Workflow"]["Status"], "RESOLVED");
    assert_eq!(
        changes,
        vec![FieldChange {
            updated_field: "RecordState".into(),
            old_value: Some("ACTIVE".into()),
            new_value: Some("ARCHIVED".into())
        }]
    );
}

#[test]
fn compliance_regression_resets_notified_and_resolved() {
    let passed = stored(with(minimal(), "/Compliance", json!({"Status": "PASSED"})));
    for new_status in ["FAILED", "WARNING", "NOT_AVAILABLE"] {
        for (before, after) in [
            ("NOTIFIED", "NEW"),
            ("RESOLVED", "NEW"),
            ("SUPPRESSED", "SUPPRESSED"),
        ] {
            let existing = with_workflow(passed.clone(), before);
            let incoming = with(
                later(minimal()),
                "/Compliance",
                json!({"Status": new_status}),
            );
            let (f, changes) = updated(merge_import(
                &existing,
                CustomerFields::NONE,
                incoming,
                &ctx(),
            ));
            assert_eq!(f["Workflow"]["Status"], after, "{before} -> {new_status}");
            if before != after {
                assert_eq!(
                    field(&changes, "Workflow.Status"),
                    Some(FieldChange {
                        updated_field: "Workflow.Status".into(),
                        old_value: Some(before.into()),
                        new_value: Some("NEW".into())
                    })
                );
            }
        }
    }
    let failed = with_workflow(
        stored(with(minimal(), "/Compliance", json!({"Status": "FAILED"}))),
        "RESOLVED",
    );
    for status in ["FAILED", "PASSED"] {
        let f = merge(
            &failed,
            CustomerFields::NONE,
            with(later(minimal()), "/Compliance", json!({"Status": status})),
        );
        assert_eq!(f["Workflow"]["Status"], "RESOLVED", "FAILED -> {status}");
    }
    let still_passed = with_workflow(passed, "RESOLVED");
    let f = merge(
        &still_passed,
        CustomerFields::NONE,
        with(later(minimal()), "/Compliance", json!({"Status": "PASSED"})),
    );
    assert_eq!(f["Workflow"]["Status"], "RESOLVED");
}

#[test]
fn prowler_rescan_and_archive_cycle() {
    let first = stored(prowler());
    let archive = with(
        with(prowler(), "/RecordState", json!("ARCHIVED")),
        "/UpdatedAt",
        json!("2024-01-05T15:00:00Z"),
    );
    let archived = merge(
        &with_workflow(first, "RESOLVED"),
        CustomerFields::NONE,
        archive,
    );
    assert_eq!(archived["RecordState"], "ARCHIVED");
    assert_eq!(archived["Workflow"]["Status"], "RESOLVED");
    let reappears = with(prowler(), "/UpdatedAt", json!("2024-01-06T15:00:00Z"));
    let active = merge(&archived, CustomerFields::NONE, reappears);
    assert_eq!(active["RecordState"], "ACTIVE");
    assert_eq!(active["Workflow"]["Status"], "NEW");
    assert_eq!(validate_finding(&active), Ok(()));
}

#[test]
fn custom_product_names_follow_the_latest_import() {
    let c = ImportContext {
        company_name: "Personal",
        product_name: "Default",
        custom_product: true,
        ..ctx()
    };
    let existing = prepare_new(with(minimal(), "/ProductName", json!("Decoy")), &c);
    let (f, _) = updated(merge_import(
        &existing,
        CustomerFields::NONE,
        later(minimal()),
        &c,
    ));
    assert_eq!(f["ProductName"], "Default");
    let (f, _) = updated(merge_import(
        &existing,
        CustomerFields::NONE,
        with(later(minimal()), "/ProductName", json!("Decoy2")),
        &c,
    ));
    assert_eq!(f["ProductName"], "Decoy2");
    assert_eq!(f["ProductFields"]["aws/securityhub/ProductName"], "Default");
}
