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
use crate::record::{BoolValues, IpValues, RecordRef, StrValues, find};

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
            let attr = attribute_by_name(field).ok_or_else(|| {
                format!("SortCriteria Field '{field}' is not a finding attribute")
            })?;
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
pub fn sort_value<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &'a Interner,
    attr: AttrId,
) -> SortValue<'a> {
    let rec = rec.into().buf;
    let value = match attribute_kind(attr) {
        AttrKind::String => find(rec, interner, attr)
            .and_then(|e| StrValues::new(e).next())
            .map(|s| SortValue::Str(s.text(rec, interner))),
        AttrKind::Number => {
            first_number(RecordRef { buf: rec }, interner, attr).map(SortValue::Num)
        }
        AttrKind::Date => first_date(RecordRef { buf: rec }, interner, attr).map(SortValue::Date),
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
    rec: impl Into<RecordRef<'a>>,
    interner: &'a Interner,
    criteria: &[SortCriterion],
) -> SortKey<'a> {
    let rec = rec.into();
    SortKey {
        values: criteria
            .iter()
            .map(|c| (sort_value(rec, interner, c.attr), c.descending))
            .collect(),
    }
}

/// The first `limit` items in `criteria` order, best first, without sorting everything (one
/// key per item, a heap of `limit` entries). Equal keys keep their input order.
pub fn top_k<'a, T>(
    items: impl IntoIterator<Item = T>,
    record: impl Fn(&T) -> RecordRef<'a>,
    interner: &'a Interner,
    criteria: &[SortCriterion],
    limit: usize,
) -> Vec<T> {
    struct Ranked<'a, T> {
        key: SortKey<'a>,
        seq: usize,
        item: T,
    }
    impl<T> PartialEq for Ranked<'_, T> {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other).is_eq()
        }
    }
    impl<T> Eq for Ranked<'_, T> {}
    impl<T> PartialOrd for Ranked<'_, T> {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }
    impl<T> Ord for Ranked<'_, T> {
        fn cmp(&self, other: &Self) -> Ordering {
            self.key.cmp(&other.key).then(self.seq.cmp(&other.seq))
        }
    }
    if limit == 0 {
        return Vec::new();
    }
    // A max-heap whose top is the worst item kept so far.
    let mut heap: std::collections::BinaryHeap<Ranked<'_, T>> =
        std::collections::BinaryHeap::with_capacity(limit.saturating_add(1));
    for (seq, item) in items.into_iter().enumerate() {
        let rec = record(&item);
        // Once full, most items lose to the worst kept one on the first criterion or two:
        // compare value by value before building a key.
        if heap.len() == limit
            && let Some(worst) = heap.peek()
        {
            let beats_worst = criteria
                .iter()
                .zip(&worst.key.values)
                .map(|(c, (w, _))| sort_value(rec, interner, c.attr).compare(w, c.descending))
                .find(|o| o.is_ne())
                .is_some_and(Ordering::is_lt);
            if !beats_worst {
                continue;
            }
        }
        let key = sort_key(rec, interner, criteria);
        heap.push(Ranked { key, seq, item });
        if heap.len() > limit {
            heap.pop();
        }
    }
    heap.into_sorted_vec().into_iter().map(|r| r.item).collect()
}

/// Compares two records by a list of criteria (the first difference decides). Decodes on
/// every call: to sort many records, use [`sort_key`].
pub fn compare_records<'a>(
    a: impl Into<RecordRef<'a>>,
    b: impl Into<RecordRef<'a>>,
    interner: &'a Interner,
    criteria: &[SortCriterion],
) -> Ordering {
    sort_key(a, interner, criteria).cmp(&sort_key(b, interner, criteria))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FindingRecord;
    use serde_json::json;

    fn crit(v: Value) -> Vec<SortCriterion> {
        parse_sort_criteria(&v).unwrap()
    }

    #[test]
    fn parses_criteria() {
        let c =
            crit(json!([{"Field": "SeverityNormalized", "SortOrder": "desc"}, {"Field": "Title"}]));
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].attr, attribute_by_name("SeverityNormalized").unwrap());
        assert!(c[0].descending);
        assert!(!c[1].descending, "asc by default");
        assert!(crit(json!(null)).is_empty());
        for (bad, want) in [
            (json!({"Field": "Title"}), "must be a list"),
            (json!([{"SortOrder": "asc"}]), "Field is required"),
            (json!([{"Field": "Nope"}]), "'Nope'"),
            (
                json!([{"Field": "Title", "SortOrder": "DESC"}]),
                "asc or desc",
            ),
        ] {
            let e = parse_sort_criteria(&bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn missing_values_sort_last_both_ways() {
        let mut i = Interner::new();
        let recs: Vec<FindingRecord> = [
            json!({"Id": "b", "Title": "beta", "Confidence": 5, "UpdatedAt": "2024-01-02T00:00:00Z"}),
            json!({"Id": "none"}),
            json!({"Id": "a", "Title": "alpha", "Confidence": 50, "UpdatedAt": "2024-01-01T00:00:00Z"}),
            json!({"Id": "c", "Title": "Zeta", "Confidence": 7.5, "UpdatedAt": "2024-01-03T00:00:00Z"}),
        ]
        .iter()
        .map(|f| FindingRecord::from_finding(f, &mut i))
        .collect();
        let order = |field: &str, desc: bool| {
            let c = [SortCriterion {
                attr: attribute_by_name(field).unwrap(),
                descending: desc,
            }];
            let mut v: Vec<&FindingRecord> = recs.iter().collect();
            v.sort_by_cached_key(|r| sort_key(r, &i, &c));
            v.iter()
                .map(|r| {
                    crate::first_string(r, &i, crate::attrs::ID)
                        .unwrap()
                        .into_owned()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            order("Title", false),
            ["c", "a", "b", "none"],
            "byte order: Z < a"
        );
        assert_eq!(order("Title", true), ["b", "a", "c", "none"]);
        assert_eq!(order("Confidence", false), ["b", "c", "a", "none"]);
        assert_eq!(order("Confidence", true), ["a", "c", "b", "none"]);
        assert_eq!(order("UpdatedAt", true), ["c", "b", "a", "none"]);
        assert_eq!(
            order("NoteText", true),
            ["b", "none", "a", "c"],
            "all missing: stable"
        );
        assert_eq!(
            compare_records(&recs[0], &recs[2], &i, &crit(json!([{"Field": "Title"}]))),
            Ordering::Greater
        );
    }

    #[test]
    fn top_k_equals_a_full_sort_prefix() {
        let mut i = Interner::new();
        let recs: Vec<FindingRecord> = (0..200)
            .map(|n| {
                let f = json!({"Id": format!("f{n}"), "Confidence": (n * 37) % 11,
                               "Title": format!("t{}", (n * 13) % 7)});
                FindingRecord::from_finding(&f, &mut i)
            })
            .collect();
        let c = crit(json!([{"Field": "Confidence", "SortOrder": "desc"}, {"Field": "Title"}]));
        let mut all: Vec<&FindingRecord> = recs.iter().collect();
        all.sort_by_cached_key(|r| sort_key(r, &i, &c));
        for k in [0, 1, 7, 100, 200, 500] {
            let top = top_k(recs.iter(), |r| r.view(), &i, &c, k);
            assert_eq!(top, all[..k.min(all.len())], "k={k}");
        }
    }

    #[test]
    fn sort_values_by_kind() {
        let mut i = Interner::new();
        let f = json!({"Title": "t", "Confidence": 3, "CreatedAt": "1970-01-01T00:00:01Z",
                       "Network": {"SourceIpV4": "10.0.0.1"}, "ProductFields": {"k": "v"}});
        let r = FindingRecord::from_finding(&f, &mut i);
        let v = |n| sort_value(&r, &i, attribute_by_name(n).unwrap());
        assert_eq!(v("Title"), SortValue::Str(Cow::Borrowed("t")));
        assert_eq!(v("Confidence"), SortValue::Num(3.0));
        assert_eq!(v("CreatedAt"), SortValue::Date(1000));
        assert_eq!(
            v("NetworkSourceIpV4"),
            SortValue::Str(Cow::Borrowed("10.0.0.1"))
        );
        assert_eq!(v("Sample"), SortValue::Num(0.0));
        assert_eq!(v("ProductFields"), SortValue::Missing);
        assert_eq!(v("Keyword"), SortValue::Missing);
        let (lo, hi) = (SortValue::Num(f64::NEG_INFINITY), SortValue::Num(1.0));
        assert_eq!(lo.compare(&hi, false), Ordering::Less);
        assert_eq!(lo.compare(&hi, true), Ordering::Greater);
        assert_eq!(SortValue::Missing.compare(&hi, true), Ordering::Greater);
    }
}
