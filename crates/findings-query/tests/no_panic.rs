//! Arbitrary JSON never panics the parsers or the record builder, and whatever parses
//! evaluates without panicking against whatever was recorded.

use fleetward_findings_query::{
    Dialect, Filters, FindingRecord, Interner, all_attributes, group_values, parse_sort_criteria,
    sort_value,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Member names that steer generated objects towards the shapes the code looks at.
const NAMES: &[&str] = &[
    "Title",
    "Id",
    "Type",
    "Types",
    "Resources",
    "Details",
    "AwsEc2Instance",
    "IpV4Addresses",
    "Tags",
    "Severity",
    "Label",
    "Normalized",
    "UpdatedAt",
    "Value",
    "Comparison",
    "Key",
    "Cidr",
    "Gte",
    "Lt",
    "Eq",
    "Start",
    "End",
    "DateRange",
    "Unit",
    "ProductFields",
    "ResourceTags",
    "SeverityLabel",
    "NetworkSourceIpV4",
    "Keyword",
    "Sample",
    "Field",
    "SortOrder",
    "ProductArn",
    "ResourceId",
    "Confidence",
    "EQUALS",
    "PREFIX",
    "NOT_EQUALS",
    "CONTAINS",
    "DAYS",
    "OLDER_THAN",
    "desc",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        prop::sample::select(NAMES).prop_map(|s| json!(s)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!("2024-01-04T15:25:10.123+05:30")),
        Just(json!("10.0.0.0/8")),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_and_match_never_panic(filters in json_value(), finding in json_value(), now in any::<i64>()) {
        let mut interner = Interner::new();
        let recs: Vec<_> = (0..3).map(|_| FindingRecord::from_finding(&finding, &mut interner)).collect();
        for dialect in [Dialect::GetFindings, Dialect::AutomationRules] {
            if let Ok(f) = Filters::parse(&filters, dialect) {
                for r in &recs {
                    let direct = f.matches(r, &interner, now);
                    prop_assert_eq!(direct, f.prepare(&interner).matches(r, now));
                }
            }
        }
        let _ = parse_sort_criteria(&filters);
        for a in all_attributes() {
            let _ = group_values(&recs[2], &interner, a);
            let _ = sort_value(&recs[2], &interner, a);
        }
    }

    #[test]
    fn from_finding_never_panics(finding in json_value()) {
        let mut interner = Interner::new();
        let rec = FindingRecord::from_finding(&finding, &mut interner);
        prop_assert!(rec.heap_bytes() < 1 << 20);
    }

    #[test]
    fn filters_object_of_attribute_lists_never_panics(
        lists in prop::collection::vec((prop::sample::select(NAMES), prop::collection::vec(json_value(), 0..4)), 0..4)
    ) {
        let obj: Map<String, Value> = lists.into_iter().map(|(k, v)| (k.to_string(), Value::Array(v))).collect();
        let _ = Filters::parse(&Value::Object(obj), Dialect::GetFindings);
    }
}
