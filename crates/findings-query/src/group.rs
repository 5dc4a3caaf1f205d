//! Insight grouping values (spec 5): a finding counts once under EACH distinct value of the
//! group-by attribute, so grouping by `ResourceId` lists every resource of the finding.
//!
//! Values are rendered as the API shows them: strings as-is, integral numbers without a
//! fraction (`40`), dates as `2024-01-04T15:25:10.123Z`, IPs in their canonical form, `Sample`
//! as `true`/`false` (missing = `false`). Map and keyword attributes have no group values.

use fleetward_model::timestamp::format_ms;

use crate::catalog::{AttrId, AttrKind, attribute_kind};
use crate::interner::Interner;
use crate::record::{
    BoolValues, DateValues, FindingRecord, IpValues, NumValues, StrValues, find,
};

/// Every distinct value of `attr` in the record, in finding order.
pub fn group_values(rec: &FindingRecord, interner: &Interner, attr: AttrId) -> Vec<String> {
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
