//! `SortCriteria` parsing and sort keys.
//!
//! A record sorts by the FIRST value of the attribute (finding order, e.g. the first resource).
//! Findings without a value sort LAST in both orders, so a descending sort does not open with
//! blanks. Strings compare byte-wise (case-sensitive), numbers numerically, dates by instant.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::access::{first_date, first_number};
use crate::catalog::{AttrId, AttrKind, attribute_by_name, attribute_kind};
use crate::interner::Interner;
use crate::record::{BoolValues, FindingRecord, IpValues, StrValues, find};

/// One `{Field, SortOrder}` criterion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SortCriterion {
    pub attr: AttrId,
    pub descending: bool,
}

/// Parses `SortCriteria` (`null` = none). `Field` must be a filter attribute name;
/// `SortOrder` is `asc` (the default) or `desc`.
pub fn parse_sort_criteria(v: &Value) -> Result<Vec<SortCriterion>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err("SortCriteria must be a list".into()),
    };
    items
        .iter()
        .map(|item| {
            let field = item
                .get("Field")
                .and_then(Value::as_str)
                .ok_or("SortCriteria Field is required and must be a string")?;
            let attr = attribute_by_name(field)
                .ok_or_else(|| format!("SortCriteria Field '{field}' is not a finding attribute"))?;
            let descending = match item.get("SortOrder") {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) if s == "asc" => false,
                Some(Value::String(s)) if s == "desc" => true,
                Some(o) => return Err(format!("SortOrder {o} is not asc or desc")),
            };
            Ok(SortCriterion { attr, descending })
        })
        .collect()
}

/// A sort key. Derived `PartialOrd` orders variants before values; use
/// [`SortValue::compare`] for the documented order.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub enum SortValue<'a> {
    Missing,
    Num(f64),
    Date(i64),
    Str(Cow<'a, str>),
}

impl SortValue<'_> {
    /// Orders two keys of the same attribute: `Missing` last whatever the direction, numbers by
    /// `total_cmp`.
    pub fn compare(&self, other: &Self, descending: bool) -> Ordering {
        use SortValue::*;
        let ord = match (self, other) {
            (Missing, Missing) => return Ordering::Equal,
            (Missing, _) => return Ordering::Greater,
            (_, Missing) => return Ordering::Less,
            (Num(a), Num(b)) => a.total_cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Str(a), Str(b)) => a.cmp(b),
            _ => self.partial_cmp(other).unwrap_or(Ordering::Equal),
        };
        if descending { ord.reverse() } else { ord }
    }
}

/// The sort key of one record for one attribute (its first value).
pub fn sort_value<'a>(rec: &'a FindingRecord, interner: &'a Interner, attr: AttrId) -> SortValue<'a> {
    let value = match attribute_kind(attr) {
        AttrKind::String => find(rec, interner, attr)
            .and_then(|e| StrValues::new(e).next())
            .map(|s| SortValue::Str(s.text(rec, interner))),
        AttrKind::Number => first_number(rec, interner, attr).map(SortValue::Num),
        AttrKind::Date => first_date(rec, interner, attr).map(SortValue::Date),
        AttrKind::Ip => find(rec, interner, attr)
            .and_then(|e| IpValues::new(e).next())
            .map(|ip| SortValue::Str(Cow::Owned(ip.to_string()))),
        // Like the filter, a finding without `Sample` is not a sample.
        AttrKind::Boolean => Some(SortValue::Num(
            find(rec, interner, attr)
                .and_then(|e| BoolValues::new(e).next())
                .map_or(0.0, |b| f64::from(u8::from(b))),
        )),
        AttrKind::Map | AttrKind::Keyword => None,
    };
    value.unwrap_or(SortValue::Missing)
}

/// A record's precomputed sort key for a list of criteria: compute it once per record
/// (`items.sort_by_cached_key(|r| sort_key(r, interner, &criteria))`) instead of decoding
/// values in every comparison.
#[derive(Clone, Debug)]
pub struct SortKey<'a> {
    values: Vec<(SortValue<'a>, bool)>,
}

impl PartialEq for SortKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for SortKey<'_> {}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.values
            .iter()
            .zip(&other.values)
            .map(|((a, desc), (b, _))| a.compare(b, *desc))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// The sort key of a record under `criteria`.
pub fn sort_key<'a>(
    rec: &'a FindingRecord,
    interner: &'a Interner,
    criteria: &[SortCriterion],
) -> SortKey<'a> {
    SortKey {
        values: criteria
            .iter()
            .map(|c| (sort_value(rec, interner, c.attr), c.descending))
            .collect(),
    }
}

/// Compares two records by a list of criteria (the first difference decides). Decodes on
/// every call: to sort many records, use [`sort_key`].
pub fn compare_records(
    a: &FindingRecord,
    b: &FindingRecord,
    interner: &Interner,
    criteria: &[SortCriterion],
) -> Ordering {
    sort_key(a, interner, criteria).cmp(&sort_key(b, interner, criteria))
}
