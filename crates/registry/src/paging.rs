//! Page sizes and opaque continuation tokens of the registry's list operations.
//!
//! A token is the standard base64 of the last item's sort key (the model's `Marker`
//! pattern is base64); the next page starts strictly after it, so items created or deleted
//! between pages never make a page repeat or skip a surviving item.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;

/// Page size when the caller gives none.
pub const DEFAULT_PAGE: usize = 25;
/// The model's maximum for `maxResults` / `pageSize`.
pub const MAX_PAGE: i64 = 250;

pub fn page_size(input: &Input, member: &str) -> RegistryResult<usize> {
    Ok(input
        .opt_i64_in(member, 1, MAX_PAGE)?
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_PAGE))
}

pub fn encode(cursor: &str) -> String {
    STANDARD.encode(cursor)
}

/// The cursor of a token given by the caller (`member` names it in the error).
pub fn decode(input: &Input, member: &str) -> RegistryResult<Option<String>> {
    let Some(token) = input.opt_str(member)? else {
        return Ok(None);
    };
    if token.is_empty() {
        return Ok(None);
    }
    STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| RegistryError::invalid(format!("The {member} is not valid.")))
}

/// Cursor of an item in a creation-ordered set: `CREATED_MS:KEY`.
pub fn created_cursor(created_ms: i64, key: &str) -> String {
    format!("{created_ms}:{key}")
}

pub fn parse_created_cursor(cursor: &str, member: &str) -> RegistryResult<(i64, String)> {
    cursor
        .split_once(':')
        .and_then(|(ms, key)| Some((ms.parse().ok()?, key.to_string())))
        .ok_or_else(|| RegistryError::invalid(format!("The {member} is not valid.")))
}

/// One page of an ordered set, ascending or descending, strictly after `after`; returns the
/// items and whether more follow.
pub fn page_of<'a, K: Ord>(
    set: &'a std::collections::BTreeSet<K>,
    after: Option<&K>,
    ascending: bool,
    limit: usize,
) -> (Vec<&'a K>, bool) {
    use std::ops::Bound::{Excluded, Unbounded};
    let mut items: Vec<&K> = if ascending {
        let range = match after {
            Some(a) => set.range((Excluded(a), Unbounded)),
            None => set.range::<K, _>(..),
        };
        range.take(limit + 1).collect()
    } else {
        let range = match after {
            Some(a) => set.range((Unbounded, Excluded(a))),
            None => set.range::<K, _>(..),
        };
        range.rev().take(limit + 1).collect()
    };
    let more = items.len() > limit;
    items.truncate(limit);
    (items, more)
}

/// One page of an ascending sequence of names, strictly after `after`; returns the page and
/// whether more follow.
pub fn page_after<'a>(
    names: impl Iterator<Item = &'a String>,
    after: Option<&str>,
    limit: usize,
) -> (Vec<&'a String>, bool) {
    let mut page: Vec<&String> = names
        .filter(|n| after.is_none_or(|a| n.as_str() > a))
        .take(limit + 1)
        .collect();
    let more = page.len() > limit;
    page.truncate(limit);
    (page, more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn pages_walk_both_ways_without_repeats() {
        let set: BTreeSet<i32> = (1..=7).collect();
        let (first, more) = page_of(&set, None, true, 3);
        assert_eq!(first, [&1, &2, &3]);
        assert!(more);
        let (next, _) = page_of(&set, Some(&3), true, 3);
        assert_eq!(next, [&4, &5, &6]);
        let (last, more) = page_of(&set, Some(&6), true, 3);
        assert_eq!(last, [&7]);
        assert!(!more);
        let (down, _) = page_of(&set, Some(&5), false, 2);
        assert_eq!(down, [&4, &3]);
    }

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        let value = serde_json::json!({"marker": encode("17:abc")});
        let cursor = decode(&Input(&value), "marker").unwrap().unwrap();
        assert_eq!(
            parse_created_cursor(&cursor, "marker").unwrap(),
            (17, "abc".into())
        );
        let bad = serde_json::json!({"marker": "***"});
        assert!(decode(&Input(&bad), "marker").is_err());
    }
}
