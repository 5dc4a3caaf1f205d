//! Insight grouping values (spec 5): a finding counts once under EACH distinct value of the
//! group-by attribute, so grouping by `ResourceId` lists every resource of the finding.
//!
//! Values are rendered as the API shows them: strings as-is, integral numbers without a
//! fraction (`40`), dates as `2024-01-04T15:25:10.123Z`, IPs in their canonical form, `Sample`
//! as `true`/`false` (missing = `false`). Map and keyword attributes have no group values.

use fleetward_model::timestamp::format_ms;

use crate::catalog::{AttrId, AttrKind, attribute_kind};
use crate::interner::Interner;
use crate::record::{BoolValues, DateValues, IpValues, NumValues, RecordRef, StrValues, find};

/// Every distinct value of `attr` in the record, in finding order.
pub fn group_values<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &Interner,
    attr: AttrId,
) -> Vec<String> {
    let rec = rec.into().buf;
    let Some(e) = find(rec, interner, attr) else {
        return match attribute_kind(attr) {
            AttrKind::Boolean => vec!["false".to_string()],
            _ => Vec::new(),
        };
    };
    let all: Vec<String> = match attribute_kind(attr) {
        AttrKind::String => StrValues::new(e)
            .map(|s| s.text(rec, interner).into_owned())
            .collect(),
        AttrKind::Number => NumValues::new(e).map(format_number).collect(),
        AttrKind::Date => DateValues::new(e).map(format_ms).collect(),
        AttrKind::Ip => IpValues::new(e).map(|ip| ip.to_string()).collect(),
        AttrKind::Boolean => BoolValues::new(e).map(|b| b.to_string()).collect(),
        AttrKind::Map | AttrKind::Keyword => Vec::new(),
    };
    let mut distinct: Vec<String> = Vec::with_capacity(all.len());
    for v in all {
        if !distinct.contains(&v) {
            distinct.push(v);
        }
    }
    distinct
}

/// `40.0` → `"40"`, `2.5` → `"2.5"`.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::attribute_by_name;
    use crate::record::FindingRecord;
    use serde_json::json;

    #[test]
    fn one_entry_per_distinct_value() {
        let mut i = Interner::new();
        let f = json!({
            "Resources": [{"Id": "r1", "Type": "AwsS3Bucket"}, {"Id": "r2", "Type": "AwsS3Bucket"},
                          {"Id": "r1", "Type": "Other"}],
            "Severity": {"Normalized": 40, "Product": 2.5},
            "UpdatedAt": "2024-01-04T15:25:10.1234Z",
            "ProductFields": {"k": "v"}
        });
        let r = FindingRecord::from_finding(&f, &mut i);
        let g = |n| group_values(&r, &i, attribute_by_name(n).unwrap());
        assert_eq!(g("ResourceId"), ["r1", "r2"]);
        assert_eq!(g("ResourceType"), ["AwsS3Bucket", "Other"]);
        assert_eq!(g("SeverityNormalized"), ["40"]);
        assert_eq!(g("SeverityProduct"), ["2.5"]);
        assert_eq!(g("UpdatedAt"), ["2024-01-04T15:25:10.123Z"]);
        assert_eq!(g("Sample"), ["false"]);
        assert!(g("Title").is_empty());
        assert!(g("ProductFields").is_empty());
        assert!(g("Keyword").is_empty());
    }
}
