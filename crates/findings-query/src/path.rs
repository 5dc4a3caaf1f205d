//! Splits catalogue paths into member names, and (in tests) walks one path through a finding
//! the straightforward way, as the reference for the single-pass walk in `plan`.
//!
//! Lists are flattened wherever they occur (the `[]` markers in the catalogue are
//! documentation), so `Resources[].Details.AwsEc2Instance.IpV4Addresses[]` yields every address
//! of every resource.

use std::sync::OnceLock;

#[cfg(test)]
use serde_json::Value;

use crate::catalog::{ATTRIBUTE_COUNT, AttrId, CATALOG};

/// Lists nested deeper than this are ignored; ASFF never nests lists more than two deep.
pub(crate) const MAX_LIST_DEPTH: usize = 8;

/// The member names along the attribute's path, without the `[]` markers (empty for `Keyword`).
pub(crate) fn segments(a: AttrId) -> &'static [&'static str] {
    static SEGS: OnceLock<Vec<Vec<&'static str>>> = OnceLock::new();
    let all = SEGS.get_or_init(|| {
        CATALOG
            .iter()
            .map(|d| {
                d.path
                    .split('.')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim_end_matches("[]"))
                    .collect()
            })
            .collect()
    });
    debug_assert_eq!(all.len(), ATTRIBUTE_COUNT);
    all.get(usize::from(a.0)).map_or(&[], Vec::as_slice)
}

/// Appends to `out` every value found at the attribute's path.
#[cfg(test)]
pub(crate) fn collect<'v>(finding: &'v Value, a: AttrId, out: &mut Vec<&'v Value>) {
    let segs = segments(a);
    if segs.is_empty() {
        return;
    }
    walk(finding, segs, 0, out);
}

#[cfg(test)]
fn walk<'v>(v: &'v Value, segs: &[&str], lists: usize, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(items) => {
            if lists < MAX_LIST_DEPTH {
                for item in items {
                    walk(item, segs, lists + 1, out);
                }
            }
        }
        _ => match segs.split_first() {
            None => out.push(v),
            Some((first, rest)) => {
                if let Some(child) = v.get(*first) {
                    walk(child, rest, lists, out);
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::attribute_by_name;
    use serde_json::json;

    fn values(f: &Value, name: &str) -> Vec<Value> {
        let mut out = Vec::new();
        collect(f, attribute_by_name(name).unwrap(), &mut out);
        out.into_iter().cloned().collect()
    }

    #[test]
    fn flattens_lists_along_the_path() {
        let f = json!({
            "Types": ["a", "b"],
            "Resources": [
                {"Details": {"AwsEc2Instance": {"IpV4Addresses": ["10.0.0.1", "10.0.0.2"]}}},
                {"Details": {"AwsEc2Instance": {"IpV4Addresses": ["10.0.0.3"]}}},
                {"Id": "x"}
            ],
            "Compliance": {"SecurityControlParameters": [{"Name": "n", "Value": ["1", "2"]}]}
        });
        assert_eq!(values(&f, "Type"), vec![json!("a"), json!("b")]);
        assert_eq!(values(&f, "ResourceAwsEc2InstanceIpV4Addresses").len(), 3);
        assert_eq!(
            values(&f, "ComplianceSecurityControlParametersValue").len(),
            2
        );
        assert_eq!(values(&f, "ResourceId"), vec![json!("x")]);
        assert!(values(&f, "Title").is_empty());
        assert!(values(&f, "Keyword").is_empty());
    }

    #[test]
    fn tolerates_wrong_shapes() {
        let f = json!({"Resources": "nope", "Severity": 5, "Types": "single"});
        assert!(values(&f, "ResourceId").is_empty());
        assert!(values(&f, "SeverityLabel").is_empty());
        assert_eq!(values(&f, "Type"), vec![json!("single")]);
        assert!(values(&json!([[[[[[[[[[{"Types": "x"}]]]]]]]]]]), "Type").is_empty());
    }
}
