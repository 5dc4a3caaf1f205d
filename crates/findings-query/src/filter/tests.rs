//! Filter parsing and evaluation, checked on every record encoding a finding can get: a
//! first sighting (values inline), a second (values interned) and a third (shared shape), each
//! through both `Filters::matches` and `PreparedFilters::matches`.

use serde_json::{Value, json};

use super::{Dialect, Filters};
use crate::attribute_by_name;
use crate::interner::Interner;
use crate::record::FindingRecord;

const NOW: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const DAY: i64 = 86_400_000;

fn parse(f: Value) -> Filters {
    Filters::parse(&f, Dialect::GetFindings).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn parse_err(f: Value) -> String {
    match Filters::parse(&f, Dialect::GetFindings) {
        Ok(_) => panic!("accepted {f}"),
        Err(e) => e,
    }
}

/// Evaluates `filters` on `finding` in all encodings and evaluators; they must agree.
fn eval_at(filters: &Value, finding: &Value, now: i64) -> bool {
    let f = parse(filters.clone());
    let mut interner = Interner::new();
    // Unrelated findings sharing stems, so prefixes get interned too.
    for n in 0..2 {
        let mut other = finding.clone();
        other["Id"] = json!(format!("other-{n}"));
        FindingRecord::from_finding(&other, &mut interner);
    }
    let answers: Vec<bool> = (0..3)
        .flat_map(|_| {
            let rec = FindingRecord::from_finding(finding, &mut interner);
            [
                f.matches(&rec, &interner, now),
                f.prepare(&interner).matches(&rec, now),
            ]
        })
        .collect();
    assert!(
        answers.iter().all(|&a| a == answers[0]),
        "encodings disagree on {filters} / {finding}: {answers:?}"
    );
    answers[0]
}

fn eval(filters: Value, finding: &Value) -> bool {
    eval_at(&filters, finding, NOW)
}

fn s(attr: &str, cmp: &str, value: &str) -> Value {
    json!({attr: [{"Comparison": cmp, "Value": value}]})
}

fn finding() -> Value {
    json!({
        "Id": "prowler-aws-iam_user_mfa-123456789012-us-east-1-0f3a9c",
        "ProductArn": "arn:aws:securityhub:us-east-1::product/prowler/prowler",
        "ProductName": "Prowler",
        "CompanyName": "Prowler",
        "AwsAccountId": "123456789012",
        "GeneratorId": "prowler-iam_user_mfa",
        "Types": ["Software and Configuration Checks/AWS Security Best Practices", "Effects/Data Exposure"],
        "CreatedAt": "2023-12-20T10:00:00.000Z",
        "UpdatedAt": "2023-12-30T10:00:00Z",
        "FirstObservedAt": "2023-12-20T10:00:00+02:00",
        "Severity": {"Label": "HIGH", "Normalized": 70, "Product": 7.5},
        "Confidence": 80,
        "Title": "IAM user has no MFA",
        "Description": "Ensure multi-factor authentication (MFA) is enabled for all IAM users",
        "ProductFields": {
            "ProviderName": "Prowler",
            "aws/securityhub/ProductName": "ProductFieldName",
            "aws/securityhub/FindingId": "arn:aws:securityhub:us-east-1::product/prowler/prowler/prowler-aws-iam_user_mfa-123456789012-us-east-1-0f3a9c"
        },
        "Resources": [
            {"Type": "AwsIamUser", "Id": "arn:aws:iam::123456789012:user/bob", "Partition": "aws",
             "Tags": {"Env": "prod", "Team": "sec"}},
            {"Type": "AwsEc2Instance", "Id": "i-0abc", "Region": "us-east-1",
             "Tags": {"Env": "dev"},
             "Details": {"AwsEc2Instance": {"IpV4Addresses": ["10.1.2.3", "192.168.0.9"],
                                            "IpV6Addresses": ["2001:db8::1"]},
                         "Other": {"Owner": "alice"}}}
        ],
        "Network": {"SourceIpV4": "203.0.113.7", "SourcePort": 443},
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
        "Compliance": {"Status": "FAILED",
                       "AssociatedStandards": [{"StandardsId": "standards/cis/v/1.4.0"}]}
    })
}

#[test]
fn string_comparisons() {
    let f = finding();
    assert!(eval(s("Title", "EQUALS", "IAM user has no MFA"), &f));
    assert!(
        !eval(s("Title", "EQUALS", "iam user has no mfa"), &f),
        "case-sensitive"
    );
    assert!(!eval(s("Title", "EQUALS", "IAM user"), &f));
    assert!(eval(s("Title", "PREFIX", "IAM user"), &f));
    assert!(!eval(s("Title", "PREFIX", "user"), &f));
    assert!(eval(s("Title", "NOT_EQUALS", "other"), &f));
    assert!(!eval(s("Title", "NOT_EQUALS", "IAM user has no MFA"), &f));
    assert!(eval(s("Title", "PREFIX_NOT_EQUALS", "Other"), &f));
    assert!(!eval(s("Title", "PREFIX_NOT_EQUALS", "IAM"), &f));
    assert!(eval(s("Title", "CONTAINS", "has no"), &f));
    assert!(!eval(s("Title", "CONTAINS", "HAS NO"), &f));
    assert!(eval(s("Title", "NOT_CONTAINS", "root"), &f));
    assert!(!eval(s("Title", "NOT_CONTAINS", "MFA"), &f));
    // A missing Comparison means EQUALS.
    assert!(eval(
        json!({"Title": [{"Value": "IAM user has no MFA"}]}),
        &f
    ));
}

#[test]
fn prefixed_values_compare_across_the_split() {
    // Ids and resource ARNs are stored as an interned stem plus a tail; every comparison must
    // see the whole value, including matches that span the stem/tail boundary.
    let f = finding();
    let id = "prowler-aws-iam_user_mfa-123456789012-us-east-1-0f3a9c";
    assert!(eval(s("Id", "EQUALS", id), &f));
    assert!(!eval(s("Id", "EQUALS", &id[..id.len() - 1]), &f));
    assert!(!eval(s("Id", "EQUALS", &format!("{id}0")), &f));
    assert!(eval(s("Id", "PREFIX", "prowler-aws-iam_user_mfa-1234"), &f));
    assert!(eval(
        s(
            "Id",
            "PREFIX",
            "prowler-aws-iam_user_mfa-123456789012-us-east-1-0f"
        ),
        &f
    ));
    assert!(!eval(
        s(
            "Id",
            "PREFIX",
            "prowler-aws-iam_user_mfa-123456789012-us-east-1-0g"
        ),
        &f
    ));
    assert!(eval(s("Id", "CONTAINS", "east-1-0f3"), &f));
    assert!(eval(s("Id", "CONTAINS", "0f3a9c"), &f));
    assert!(!eval(s("Id", "CONTAINS", "east-1-0f4"), &f));
    assert!(eval(
        s("ResourceId", "EQUALS", "arn:aws:iam::123456789012:user/bob"),
        &f
    ));
    assert!(eval(
        s("ResourceId", "PREFIX", "arn:aws:iam::123456789012:user/b"),
        &f
    ));
}

#[test]
fn positives_or_negatives_and() {
    let f = finding();
    let either = json!({"SeverityLabel": [
        {"Comparison": "EQUALS", "Value": "LOW"},
        {"Comparison": "EQUALS", "Value": "HIGH"}]});
    assert!(eval(either, &f));
    let neither = json!({"SeverityLabel": [
        {"Comparison": "EQUALS", "Value": "LOW"},
        {"Comparison": "EQUALS", "Value": "CRITICAL"}]});
    assert!(!eval(neither, &f));
    let both_neg = json!({"SeverityLabel": [
        {"Comparison": "NOT_EQUALS", "Value": "LOW"},
        {"Comparison": "NOT_EQUALS", "Value": "HIGH"}]});
    assert!(!eval(both_neg, &f));
    // Spec 4.2's example: (PREFIX AwsIam OR PREFIX AwsEc2) AND NOT each exclusion, with the
    // any/none rule over this finding's two resources.
    let mixed = |excl: &str| {
        json!({"ResourceType": [
            {"Comparison": "PREFIX", "Value": "AwsIam"},
            {"Comparison": "PREFIX", "Value": "AwsS3"},
            {"Comparison": "NOT_EQUALS", "Value": "AwsIamPolicy"},
            {"Comparison": "NOT_EQUALS", "Value": excl}]})
    };
    assert!(eval(mixed("AwsEc2NetworkInterface"), &f));
    assert!(
        !eval(mixed("AwsEc2Instance"), &f),
        "an excluded resource type excludes the finding"
    );
    // Different attributes are AND-ed.
    let mut and = s("Title", "PREFIX", "IAM");
    and["RecordState"] = json!([{"Comparison": "EQUALS", "Value": "ARCHIVED"}]);
    assert!(!eval(and.clone(), &f));
    and["RecordState"] = json!([{"Comparison": "EQUALS", "Value": "ACTIVE"}]);
    assert!(eval(and, &f));
}

#[test]
fn arrays_match_any_element_and_negatives_need_none() {
    let f = finding();
    assert!(eval(s("Type", "EQUALS", "Effects/Data Exposure"), &f));
    assert!(eval(
        s("Type", "PREFIX", "Software and Configuration Checks/"),
        &f
    ));
    assert!(!eval(s("Type", "NOT_EQUALS", "Effects/Data Exposure"), &f));
    assert!(!eval(s("Type", "PREFIX_NOT_EQUALS", "Effects"), &f));
    assert!(eval(s("ResourceId", "EQUALS", "i-0abc"), &f));
    assert!(!eval(s("ResourceId", "NOT_EQUALS", "i-0abc"), &f));
    assert!(
        eval(s("ResourceRegion", "EQUALS", "us-east-1"), &f),
        "second resource"
    );
    assert!(eval(
        s("ComplianceAssociatedStandardsId", "PREFIX", "standards/cis"),
        &f
    ));
}

#[test]
fn missing_attributes_fail_positives_and_pass_negatives() {
    let f = finding();
    for cmp in ["EQUALS", "PREFIX", "CONTAINS"] {
        assert!(!eval(s("NoteText", cmp, "x"), &f), "{cmp}");
    }
    for cmp in ["NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS"] {
        assert!(eval(s("NoteText", cmp, "x"), &f), "{cmp}");
    }
    assert!(!eval(json!({"Criticality": [{"Gte": 0}]}), &f));
    assert!(!eval(
        json!({"NoteUpdatedAt": [{"DateRange": {"Value": 9999, "Unit": "DAYS"}}]}),
        &f
    ));
    assert!(!eval(
        json!({"NetworkDestinationIpV4": [{"Cidr": "0.0.0.0/0"}]}),
        &f
    ));
    assert!(!eval(
        json!({"UserDefinedFields": [{"Key": "k", "Value": "v", "Comparison": "EQUALS"}]}),
        &f
    ));
    assert!(eval(
        json!({"UserDefinedFields": [{"Key": "k", "Value": "v", "Comparison": "NOT_EQUALS"}]}),
        &f
    ));
}

#[test]
fn product_name_filters_the_top_level_field() {
    // Spec 4.1: not the `aws/securityhub/ProductName` product field.
    let f = finding();
    assert!(eval(s("ProductName", "EQUALS", "Prowler"), &f));
    assert!(!eval(s("ProductName", "EQUALS", "ProductFieldName"), &f));
    assert!(eval(s("CompanyName", "EQUALS", "Prowler"), &f));
}

#[test]
fn number_filters() {
    let f = finding();
    let n = |v: Value| eval(json!({"SeverityNormalized": v}), &f);
    assert!(n(json!([{"Gte": 70, "Lte": 70}])));
    assert!(n(json!([{"Eq": 70}])));
    assert!(!n(json!([{"Eq": 70.5}])));
    assert!(!n(json!([{"Gt": 70}])));
    assert!(!n(json!([{"Lt": 70}])));
    assert!(
        !n(json!([{"Gte": 71, "Lte": 100}])),
        "bounds inside one filter are AND-ed"
    );
    assert!(!n(json!([{"Gte": 0, "Lt": 70}])));
    assert!(
        n(json!([{"Lt": 10}, {"Gte": 40, "Lt": 80}])),
        "filters are OR-ed"
    );
    assert!(eval(
        json!({"SeverityProduct": [{"Gt": 7.4, "Lt": 7.6}]}),
        &f
    ));
    assert!(eval(json!({"Confidence": [{"Eq": 80.0}]}), &f));
    assert!(eval(json!({"NetworkSourcePort": [{"Eq": 443}]}), &f));
}

#[test]
fn date_filters() {
    let f = finding();
    let d = |v: Value| eval(json!({"UpdatedAt": v}), &f);
    let updated = "2023-12-30T10:00:00Z";
    assert!(d(json!([{"Start": updated, "End": updated}])), "inclusive");
    assert!(d(json!([{"Start": "2023-12-30T09:00:00Z"}])));
    assert!(!d(json!([{"Start": "2023-12-30T10:00:00.001Z"}])));
    assert!(!d(json!([{"End": "2023-12-30T09:59:59.999Z"}])));
    // Offsets: 11:00+01:00 and 1000-0000 are the same instant as the value.
    assert!(d(
        json!([{"Start": "2023-12-30T11:00:00+01:00", "End": "2023-12-30T10:00:00-0000"}])
    ));
    // FirstObservedAt was written with +02:00.
    assert!(eval(
        json!({"FirstObservedAt": [{"Start": "2023-12-20T08:00:00Z", "End": "2023-12-20T08:00:00Z"}]}),
        &f
    ));
    assert!(d(
        json!([{"Start": "2020-01-01T00:00:00Z"}, {"End": "2000-01-01T00:00:00Z"}])
    ));
}

#[test]
fn date_range_moves_with_now() {
    let f = finding(); // UpdatedAt 2023-12-30T10:00Z, NOW = 2024-01-01T00:00Z: 1.58 days before
    let within = |days: i64| json!({"UpdatedAt": [{"DateRange": {"Value": days, "Unit": "DAYS"}}]});
    let older = |days: i64| json!({"UpdatedAt": [{"DateRange": {"Value": days, "Unit": "DAYS", "Comparison": "OLDER_THAN"}}]});
    assert!(eval_at(&within(2), &f, NOW));
    assert!(!eval_at(&within(1), &f, NOW));
    assert!(!eval_at(&older(2), &f, NOW));
    assert!(eval_at(&older(1), &f, NOW));
    // A week later the finding is no longer within 2 days but is older than 7.
    let later = NOW + 7 * DAY;
    assert!(!eval_at(&within(2), &f, later));
    assert!(eval_at(&within(9), &f, later));
    assert!(eval_at(&older(7), &f, later));
    assert!(!eval_at(&older(9), &f, later));
    // Explicit WITHIN is the default.
    let explicit =
        json!({"UpdatedAt": [{"DateRange": {"Value": 2, "Unit": "DAYS", "Comparison": "WITHIN"}}]});
    assert!(eval_at(&explicit, &f, NOW));
}

#[test]
fn map_filters() {
    let f = finding();
    let m = |attr: &str, key: &str, cmp: &str, value: &str| {
        eval(
            json!({attr: [{"Key": key, "Value": value, "Comparison": cmp}]}),
            &f,
        )
    };
    assert!(m("ProductFields", "ProviderName", "EQUALS", "Prowler"));
    assert!(!m("ProductFields", "ProviderName", "EQUALS", "prowler"));
    assert!(!m("ProductFields", "Missing", "EQUALS", "Prowler"));
    assert!(m("ProductFields", "ProviderName", "CONTAINS", "rowl"));
    assert!(m("ProductFields", "ProviderName", "NOT_EQUALS", "Other"));
    assert!(!m("ProductFields", "ProviderName", "NOT_EQUALS", "Prowler"));
    assert!(m("ProductFields", "Missing", "NOT_EQUALS", "Prowler"));
    assert!(!m("ProductFields", "ProviderName", "NOT_CONTAINS", "Prow"));
    // The injected FindingId is stored as a reference to ProductArn and Id.
    let fid = "arn:aws:securityhub:us-east-1::product/prowler/prowler/prowler-aws-iam_user_mfa-123456789012-us-east-1-0f3a9c";
    assert!(m(
        "ProductFields",
        "aws/securityhub/FindingId",
        "EQUALS",
        fid
    ));
    assert!(m(
        "ProductFields",
        "aws/securityhub/FindingId",
        "CONTAINS",
        "prowler/prowler-aws"
    ));
    // Tags of every resource, any-element rule.
    assert!(m("ResourceTags", "Env", "EQUALS", "dev"));
    assert!(m("ResourceTags", "Env", "EQUALS", "prod"));
    assert!(!m("ResourceTags", "Env", "NOT_EQUALS", "dev"));
    assert!(m("ResourceDetailsOther", "Owner", "EQUALS", "alice"));
    // Positives OR-ed across keys, negatives AND-ed.
    let or = json!({"ResourceTags": [
        {"Key": "Env", "Value": "qa", "Comparison": "EQUALS"},
        {"Key": "Team", "Value": "sec", "Comparison": "EQUALS"}]});
    assert!(eval(or, &f));
    let and = json!({"ResourceTags": [
        {"Key": "Env", "Value": "prod", "Comparison": "EQUALS"},
        {"Key": "Team", "Value": "sec", "Comparison": "NOT_EQUALS"}]});
    assert!(!eval(and, &f));
}

#[test]
fn ip_filters() {
    let f = finding();
    let ip = |attr: &str, cidr: &str| eval(json!({attr: [{"Cidr": cidr}]}), &f);
    assert!(ip("NetworkSourceIpV4", "203.0.113.0/24"));
    assert!(ip("NetworkSourceIpV4", "203.0.113.7"), "bare address = /32");
    assert!(!ip("NetworkSourceIpV4", "203.0.113.8"));
    assert!(!ip("NetworkSourceIpV4", "10.0.0.0/8"));
    assert!(
        ip("ResourceAwsEc2InstanceIpV4Addresses", "192.168.0.0/16"),
        "any address"
    );
    assert!(ip("ResourceAwsEc2InstanceIpV4Addresses", "10.0.0.0/8"));
    assert!(!ip("ResourceAwsEc2InstanceIpV4Addresses", "172.16.0.0/12"));
    assert!(ip("ResourceAwsEc2InstanceIpV6Addresses", "2001:db8::/32"));
    assert!(ip("ResourceAwsEc2InstanceIpV6Addresses", "2001:db8::1"));
    assert!(!ip("ResourceAwsEc2InstanceIpV6Addresses", "2001:db9::/32"));
    assert!(
        !ip("ResourceAwsEc2InstanceIpV6Addresses", "0.0.0.0/0"),
        "v4 block, v6 value"
    );
    let either = json!({"NetworkSourceIpV4": [{"Cidr": "10.0.0.0/8"}, {"Cidr": "203.0.113.0/28"}]});
    assert!(eval(either, &f));
}

#[test]
fn boolean_filter_on_sample() {
    let f = finding();
    let sample = |v: bool| json!({"Sample": [{"Value": v}]});
    assert!(eval(sample(false), &f), "no Sample = not a sample");
    assert!(!eval(sample(true), &f));
    let mut sampled = f.clone();
    sampled["Sample"] = json!(true);
    assert!(eval(sample(true), &sampled));
    assert!(!eval(sample(false), &sampled));
}

#[test]
fn keyword_matches_whole_words_in_any_string() {
    let f = finding();
    let kw = |w: &str| eval(json!({"Keyword": [{"Value": w}]}), &f);
    assert!(kw("MFA"));
    assert!(kw("multi-factor"));
    assert!(kw("alice"), "map values count");
    assert!(kw("bob"), "resource ids count");
    assert!(!kw("MF"), "not a whole word");
    assert!(!kw("mfa"), "case-sensitive");
    assert!(!kw("absent"));
    assert!(eval(
        json!({"Keyword": [{"Value": "absent"}, {"Value": "Prowler"}]}),
        &f
    ));
}

#[test]
fn empty_and_null_filters_match_everything() {
    let f = finding();
    for v in [
        json!(null),
        json!({}),
        json!({"Title": null}),
        json!({"Title": []}),
    ] {
        let filters = parse(v.clone());
        assert!(filters.is_empty(), "{v}");
        assert!(eval(v, &f));
    }
}

#[test]
fn invalid_combinations_are_rejected() {
    let pair = |a: &str, b: &str| json!({"Title": [{"Comparison": a, "Value": "x"}, {"Comparison": b, "Value": "y"}]});
    for (a, b) in [
        ("CONTAINS", "NOT_CONTAINS"),
        ("EQUALS", "NOT_EQUALS"),
        ("EQUALS", "PREFIX_NOT_EQUALS"),
        ("CONTAINS", "EQUALS"),
        ("CONTAINS", "PREFIX"),
        ("NOT_CONTAINS", "NOT_EQUALS"),
        ("NOT_CONTAINS", "PREFIX"),
    ] {
        let e = parse_err(pair(a, b));
        assert!(
            e.contains("Title") && e.contains("cannot be combined"),
            "{a}+{b}: {e}"
        );
    }
    for (a, b) in [
        ("PREFIX", "NOT_EQUALS"),
        ("PREFIX", "PREFIX_NOT_EQUALS"),
        ("EQUALS", "PREFIX"),
        ("NOT_EQUALS", "PREFIX_NOT_EQUALS"),
        ("CONTAINS", "CONTAINS"),
        ("NOT_CONTAINS", "NOT_CONTAINS"),
    ] {
        parse(pair(a, b));
    }
    let map = |k2: &str| {
        json!({"ResourceTags": [
            {"Key": "Env", "Value": "a", "Comparison": "EQUALS"},
            {"Key": k2, "Value": "b", "Comparison": "NOT_EQUALS"}]})
    };
    assert!(parse_err(map("Env")).contains("key 'Env'"));
    parse(map("Team"));
}

#[test]
fn malformed_filters_are_rejected_with_the_attribute_named() {
    let cases = [
        (json!([]), "must be an object"),
        (
            json!({"Nope": [{"Value": "x"}]}),
            "Unknown filter attribute 'Nope'",
        ),
        (
            json!({"Title": {"Value": "x"}}),
            "'Title' must be a list of StringFilter",
        ),
        (
            json!({"Title": ["x"]}),
            "'Title' must be a list of StringFilter",
        ),
        (
            json!({"Title": [{"Comparison": "EQUALS"}]}),
            "Value is required",
        ),
        (
            json!({"Title": [{"Value": "  "}]}),
            "Value must not be blank",
        ),
        (json!({"Title": [{"Value": 3}]}), "Value must be a string"),
        (
            json!({"Title": [{"Value": "x", "Comparison": "LIKE"}]}),
            "Comparison 'LIKE'",
        ),
        (
            json!({"Title": [{"Value": "x", "Comparison": "CONTAINS_WORD"}]}),
            "V2",
        ),
        (json!({"Confidence": [{}]}), "at least one of Gte"),
        (
            json!({"Confidence": [{"Gte": "1"}]}),
            "Gte must be a number",
        ),
        (json!({"UpdatedAt": [{}]}), "one of Start, End or DateRange"),
        (
            json!({"UpdatedAt": [{"Start": "yesterday"}]}),
            "Start 'yesterday' is not a valid timestamp",
        ),
        (
            json!({"UpdatedAt": [{"End": "2024-01-01"}]}),
            "not a valid timestamp",
        ),
        (
            json!({"UpdatedAt": [{"DateRange": {"Value": 1, "Unit": "HOURS"}}]}),
            "not DAYS",
        ),
        (
            json!({"UpdatedAt": [{"DateRange": {"Unit": "DAYS"}}]}),
            "DateRange.Value",
        ),
        (
            json!({"UpdatedAt": [{"DateRange": {"Value": -1}}]}),
            "negative",
        ),
        (
            json!({"UpdatedAt": [{"DateRange": {"Value": 1, "Comparison": "NEWER"}}]}),
            "WITHIN or OLDER_THAN",
        ),
        (json!({"ResourceTags": [{"Value": "x"}]}), "Key is required"),
        (
            json!({"ResourceTags": [{"Key": "k", "Value": "x", "Comparison": "PREFIX"}]}),
            "Comparison 'PREFIX'",
        ),
        (
            json!({"NetworkSourceIpV4": [{"Cidr": "10.0.0.0/33"}]}),
            "Cidr '10.0.0.0/33'",
        ),
        (
            json!({"NetworkSourceIpV4": [{"Cidr": "not-an-ip"}]}),
            "not a valid CIDR",
        ),
        (json!({"Sample": [{"Value": "true"}]}), "boolean"),
        (json!({"Keyword": [{}]}), "Value is required"),
    ];
    for (v, want) in cases {
        let e = parse_err(v.clone());
        assert!(e.contains(want), "{v}: got {e:?}, want {want:?}");
    }
    let e = parse_err(json!({"Title": [{"Value": "x", "Comparison": "LIKE"}]}));
    assert!(e.starts_with("Invalid StringFilter for 'Title'"), "{e}");
}

#[test]
fn limits_of_ten_attributes_and_twenty_values() {
    let names = [
        "Title",
        "Id",
        "Region",
        "Type",
        "GeneratorId",
        "ProductArn",
        "AwsAccountId",
        "Description",
        "SourceUrl",
        "RecordState",
        "WorkflowStatus",
    ];
    let filters = |n: usize| {
        let mut o = serde_json::Map::new();
        for name in &names[..n] {
            o.insert(
                name.to_string(),
                json!([{"Value": "x", "Comparison": "EQUALS"}]),
            );
        }
        Value::Object(o)
    };
    parse(filters(10));
    assert!(parse_err(filters(11)).contains("at most 10"));
    let values = |n: usize| json!({"Title": (0..n).map(|i| json!({"Value": format!("v{i}"), "Comparison": "EQUALS"})).collect::<Vec<_>>()});
    parse(values(20));
    let e = parse_err(values(21));
    assert!(e.contains("'Title'") && e.contains("at most 20"), "{e}");
}

#[test]
fn automation_dialect_allows_only_its_41_criteria() {
    let auto = |v: Value| Filters::parse(&v, Dialect::AutomationRules);
    assert!(auto(s("Title", "CONTAINS", "MFA")).is_ok());
    assert!(auto(s("ResourceProvider", "EQUALS", "AWS")).is_ok());
    assert!(auto(s("ResourceOwnerOrgId", "EQUALS", "o-1")).is_ok());
    assert!(auto(json!({"ResourceDetailsOther": [{"Key": "k", "Value": "v", "Comparison": "NOT_CONTAINS"}]})).is_ok());
    assert!(auto(json!({"NoteUpdatedAt": [{"DateRange": {"Value": 1, "Unit": "DAYS"}}]})).is_ok());
    for name in [
        "Region",
        "ProductFields",
        "SeverityNormalized",
        "Keyword",
        "Sample",
        "ResourceAwsEc2InstanceType",
    ] {
        let e = auto(json!({name: [{"Value": "x"}]})).unwrap_err();
        assert!(e.contains(name) && e.contains("automation"), "{e}");
    }
    assert!(
        auto(s("Nope", "EQUALS", "x"))
            .unwrap_err()
            .contains("criterion 'Nope'")
    );
    assert!(auto(s("Title", "CONTAINS_WORD", "x")).is_err());
    let rule = auto(s("Title", "CONTAINS", "MFA")).unwrap();
    let mut i = Interner::new();
    assert!(rule.matches(&FindingRecord::from_finding(&finding(), &mut i), &i, NOW));
}

#[test]
fn required_equals_reports_only_pure_equality() {
    let f = parse(json!({
        "SeverityLabel": [{"Value": "HIGH", "Comparison": "EQUALS"}, {"Value": "CRITICAL", "Comparison": "EQUALS"}],
        "WorkflowStatus": [{"Value": "NEW", "Comparison": "EQUALS"}, {"Value": "NOTIFIED", "Comparison": "PREFIX"}],
        "RecordState": [{"Value": "ARCHIVED", "Comparison": "NOT_EQUALS"}],
        "Confidence": [{"Gte": 1}]
    }));
    let a = |n| attribute_by_name(n).unwrap();
    assert_eq!(
        f.required_equals(a("SeverityLabel")),
        Some(vec!["HIGH".to_string(), "CRITICAL".to_string()])
    );
    assert_eq!(f.required_equals(a("WorkflowStatus")), None);
    assert_eq!(f.required_equals(a("RecordState")), None);
    assert_eq!(f.required_equals(a("Confidence")), None);
    assert_eq!(f.required_equals(a("Title")), None);
    let names: Vec<_> = f.attributes().map(crate::attribute_name).collect();
    assert_eq!(
        names,
        [
            "SeverityLabel",
            "Confidence",
            "WorkflowStatus",
            "RecordState"
        ]
    );
}

#[test]
fn prepared_filters_see_values_interned_before_preparing() {
    let mut i = Interner::new();
    let recs: Vec<_> = (0..4)
        .map(|n| {
            let mut f = finding();
            f["Title"] = json!(format!("Title {}", n % 2));
            FindingRecord::from_finding(&f, &mut i)
        })
        .collect();
    let f = parse(s("Title", "EQUALS", "Title 1"));
    let p = f.prepare(&i);
    let hits: Vec<bool> = recs.iter().map(|r| p.matches(r, NOW)).collect();
    assert_eq!(hits, [false, true, false, true]);
    let absent = parse(s("Title", "EQUALS", "never interned"));
    assert!(recs.iter().all(|r| !absent.prepare(&i).matches(r, NOW)));
}
