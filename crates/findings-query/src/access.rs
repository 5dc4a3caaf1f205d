//! Direct reads of single values, for the hub's indexes and ordering keys.

use std::borrow::Cow;

use crate::catalog::{AttrId, attrs};
use crate::interner::Interner;
use crate::record::{DateValues, MapPairs, NumValues, RecordRef, StrValues, find};

/// The first value of a string attribute; borrowed unless stored as an interned prefix plus
/// a tail.
pub fn first_string<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &'a Interner,
    attr: AttrId,
) -> Option<Cow<'a, str>> {
    let rec = rec.into().buf;
    Some(
        StrValues::new(find(rec, interner, attr)?)
            .next()?
            .text(rec, interner),
    )
}

/// Every value of a string attribute, in finding order, without duplicates.
pub fn string_values<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &'a Interner,
    attr: AttrId,
) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    let rec = rec.into().buf;
    find(rec, interner, attr)
        .map(StrValues::new)
        .into_iter()
        .flatten()
        .map(move |s| s.text(rec, interner))
}

/// The first value of a number attribute.
pub fn first_number<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &Interner,
    attr: AttrId,
) -> Option<f64> {
    NumValues::new(find(rec.into().buf, interner, attr)?).next()
}

/// The first value of a date attribute, in epoch milliseconds.
pub fn first_date<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &Interner,
    attr: AttrId,
) -> Option<i64> {
    DateValues::new(find(rec.into().buf, interner, attr)?).next()
}

/// `UpdatedAt` in epoch milliseconds (the hub's ordering key).
pub fn updated_at_ms<'a>(rec: impl Into<RecordRef<'a>>, interner: &Interner) -> Option<i64> {
    first_date(rec, interner, attrs::UPDATED_AT)
}

/// The value of `key` in a map attribute (the first, for `Resources[].Tags` across resources).
pub fn map_value<'a>(
    rec: impl Into<RecordRef<'a>>,
    interner: &'a Interner,
    attr: AttrId,
    key: &str,
) -> Option<Cow<'a, str>> {
    let rec = rec.into().buf;
    MapPairs::new(find(rec, interner, attr)?)
        .find(|(k, _)| k.with_parts(rec, interner, |h, t| [h, t].concat() == key.as_bytes()))
        .map(|(_, v)| v.text(rec, interner))
}
