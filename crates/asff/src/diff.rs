//! Finding-history diffs (`GetFindingHistory` `Updates[]`, spec §3).
//!
//! AWS tracks every ASFF field except the top-level timestamps (CreatedAt, UpdatedAt,
//! FirstObservedAt, LastObservedAt, ProcessedAt). The field naming AWS uses is unconfirmed, so
//! Fleetward uses the dotted ASFF syntax path of IAM's `securityhub:ASFFSyntaxPath/<field>`
//! condition keys, down to the leaves:
//!
//! - objects (including maps such as ProductFields) are descended: `Workflow.Status`,
//!   `Severity.Label`, `Note.Text`, `ProductFields.aws/securityhub/ProductName`;
//! - arrays and scalars are leaves, compared and reported whole: `Types`, `Resources`;
//! - an object added or removed is reported leaf by leaf, with the missing side `None`;
//! - values are strings as they are (no quotes), everything else compact JSON.
//!
//! Changes come in the new finding's member order, then removed members in the old order.

use serde_json::{Map, Value};

use crate::FieldChange;

/// Top-level timestamps are not part of the history (GetFindingHistory documentation).
const UNTRACKED: [&str; 5] = [
    "CreatedAt",
    "UpdatedAt",
    "FirstObservedAt",
    "LastObservedAt",
    "ProcessedAt",
];

/// Objects nested deeper than this are compared as one leaf (keeps recursion bounded).
const MAX_DEPTH: usize = 32;

/// The field changes from `old` to `new` (both stored findings).
pub fn diff(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => diff_objects(o, n, "", 0, &mut out),
        _ if old == new => {}
        _ => out.push(FieldChange {
            updated_field: String::new(),
            old_value: Some(render(old)),
            new_value: Some(render(new)),
        }),
    }
    out
}

fn diff_objects(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    prefix: &str,
    depth: usize,
    out: &mut Vec<FieldChange>,
) {
    let tracked = |key: &str| depth > 0 || !UNTRACKED.contains(&key);
    // Stored versions usually list members in the same order: walk both in step and only hash
    // a key when the positions disagree.
    let mut old_in_step = old.iter();
    let mut found = 0;
    for (key, new_value) in new {
        let old_value = match old_in_step.next() {
            Some((k, v)) if k == key => Some(v),
            _ => old.get(key),
        };
        if old_value.is_some() {
            found += 1;
        }
        if !tracked(key) {
            continue;
        }
        if old_value.is_some_and(|o| same(o, new_value)) {
            continue;
        }
        diff_member(&join(prefix, key), old_value, Some(new_value), depth, out);
    }
    if found == old.len() {
        return;
    }
    for (key, old_value) in old.iter().filter(|(k, _)| tracked(k)) {
        if !new.contains_key(key) {
            leaves(&join(prefix, key), old_value, depth + 1, Side::Old, out);
        }
    }
}

/// The changes of one member at `path` (`None` = absent on that side).
pub(crate) fn diff_member(
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    depth: usize,
    out: &mut Vec<FieldChange>,
) {
    match (old, new) {
        (None, None) => {}
        (None, Some(n)) => leaves(path, n, depth + 1, Side::New, out),
        (Some(o), None) => leaves(path, o, depth + 1, Side::Old, out),
        (Some(o), Some(n)) if same(o, n) => {}
        (Some(Value::Object(o)), Some(Value::Object(n))) if depth < MAX_DEPTH => {
            diff_objects(o, n, path, depth + 1, out);
        }
        (Some(o), Some(n)) => out.push(FieldChange {
            updated_field: path.to_string(),
            old_value: Some(render(o)),
            new_value: Some(render(n)),
        }),
    }
}

/// JSON equality (member order ignored), comparing in step before falling back to lookups.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && (x
                    .iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
                    || x == y)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        _ => a == b,
    }
}

#[derive(Clone, Copy)]
enum Side {
    Old,
    New,
}

/// Reports a value present on one side only, one change per leaf.
fn leaves(path: &str, v: &Value, depth: usize, side: Side, out: &mut Vec<FieldChange>) {
    match v {
        Value::Object(m) if !m.is_empty() && depth < MAX_DEPTH => {
            for (key, child) in m {
                leaves(&join(path, key), child, depth + 1, side, out);
            }
        }
        _ => {
            let value = Some(render(v));
            let (old_value, new_value) = match side {
                Side::Old => (value, None),
                Side::New => (None, value),
            };
            out.push(FieldChange {
                updated_field: path.to_string(),
                old_value,
                new_value,
            });
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(field: &str, old: Option<&str>, new: Option<&str>) -> FieldChange {
        FieldChange {
            updated_field: field.into(),
            old_value: old.map(Into::into),
            new_value: new.map(Into::into),
        }
    }

    #[test]
    fn identical_findings_have_no_changes() {
        let f = json!({"Id": "a", "Severity": {"Label": "LOW"}, "Types": ["TTPs"]});
        assert!(diff(&f, &f.clone()).is_empty());
    }

    #[test]
    fn nested_scalars_use_dotted_paths() {
        let old =
            json!({"Workflow": {"Status": "NEW"}, "Severity": {"Label": "LOW", "Normalized": 1}});
        let new = json!({"Workflow": {"Status": "RESOLVED"}, "Severity": {"Label": "HIGH", "Normalized": 70}});
        assert_eq!(
            diff(&old, &new),
            vec![
                change("Workflow.Status", Some("NEW"), Some("RESOLVED")),
                change("Severity.Label", Some("LOW"), Some("HIGH")),
                change("Severity.Normalized", Some("1"), Some("70")),
            ]
        );
    }

    #[test]
    fn arrays_are_whole_values_in_compact_json() {
        let old = json!({"Types": ["TTPs"], "Resources": [{"Type": "Other", "Id": "x"}]});
        let new =
            json!({"Types": ["TTPs", "Effects"], "Resources": [{"Type": "Other", "Id": "y"}]});
        assert_eq!(
            diff(&old, &new),
            vec![
                change("Types", Some(r#"["TTPs"]"#), Some(r#"["TTPs","Effects"]"#)),
                change(
                    "Resources",
                    Some(r#"[{"Type":"Other","Id":"x"}]"#),
                    Some(r#"[{"Type":"Other","Id":"y"}]"#)
                ),
            ]
        );
    }

    #[test]
    fn added_and_removed_objects_are_reported_per_leaf() {
        let old = json!({"Title": "t", "Confidence": 5});
        let new = json!({"Title": "t", "Note": {"Text": "hi", "UpdatedBy": "me"}});
        assert_eq!(
            diff(&old, &new),
            vec![
                change("Note.Text", None, Some("hi")),
                change("Note.UpdatedBy", None, Some("me")),
                change("Confidence", Some("5"), None),
            ]
        );
    }

    #[test]
    fn top_level_timestamps_are_not_tracked_but_nested_ones_are() {
        let old = json!({"UpdatedAt": "a", "CreatedAt": "a", "ProcessedAt": "a",
            "FirstObservedAt": "a", "LastObservedAt": "a", "Note": {"UpdatedAt": "a"}});
        let new = json!({"UpdatedAt": "b", "CreatedAt": "b", "ProcessedAt": "b",
            "FirstObservedAt": "b", "LastObservedAt": "b", "Note": {"UpdatedAt": "b"}});
        assert_eq!(
            diff(&old, &new),
            vec![change("Note.UpdatedAt", Some("a"), Some("b"))]
        );
    }

    #[test]
    fn maps_are_descended_and_type_changes_are_leaves() {
        let old = json!({"ProductFields": {"aws/securityhub/ProductName": "Default", "k": "1"}, "X": {"a": 1}});
        let new = json!({"ProductFields": {"aws/securityhub/ProductName": "Default", "k": "2"}, "X": [1]});
        assert_eq!(
            diff(&old, &new),
            vec![
                change("ProductFields.k", Some("1"), Some("2")),
                change("X", Some(r#"{"a":1}"#), Some("[1]")),
            ]
        );
    }

    #[test]
    fn member_order_does_not_matter() {
        let old = json!({"A": {"x": 1, "y": [1, {"p": 1, "q": 2}]}, "B": 2, "C": 3});
        let new = json!({"C": 3, "B": 2, "A": {"y": [1, {"q": 2, "p": 1}], "x": 1}});
        assert!(diff(&old, &new).is_empty());
        let changed = json!({"C": 4, "A": {"y": [1, {"q": 2, "p": 1}], "x": 1}, "D": 1});
        assert_eq!(
            diff(&old, &changed),
            vec![
                change("C", Some("3"), Some("4")),
                change("D", None, Some("1")),
                change("B", Some("2"), None),
            ]
        );
    }

    #[test]
    fn non_objects_do_not_panic() {
        assert!(diff(&json!(1), &json!(1)).is_empty());
        assert_eq!(
            diff(&json!(1), &json!("a")),
            vec![change("", Some("1"), Some("a"))]
        );
        let empty_obj = json!({"A": {}});
        assert_eq!(
            diff(&json!({}), &empty_obj),
            vec![change("A", None, Some("{}"))]
        );
    }

    mod properties {
        use super::*;
        use crate::fixtures::arb_json;
        use proptest::prelude::*;

        fn tracked_part(v: &Value) -> Value {
            let mut v = v.clone();
            if let Value::Object(m) = &mut v {
                m.retain(|k, _| !UNTRACKED.contains(&k.as_str()));
            }
            v
        }

        proptest! {
            #[test]
            fn no_changes_exactly_when_the_tracked_parts_are_equal(a in arb_json(), b in arb_json()) {
                prop_assert!(diff(&a, &a.clone()).is_empty());
                prop_assert_eq!(diff(&a, &b).is_empty(), tracked_part(&a) == tracked_part(&b));
            }
        }
    }
}
