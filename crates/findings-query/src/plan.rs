//! One pass over a finding that collects the leaves of every catalogue attribute at once.
//!
//! Walking each of the ~107 catalogue paths from the root on its own looks up the same members
//! (`Resources[]`, `Severity`, `Compliance`, `ProductFields`…) again and again, and that
//! dominated record building. Instead the paths are merged once into a static trie of member
//! names ([`PLAN`]), and the finding is walked along the trie a single time: every object
//! member on the way is looked up once, whatever number of attributes lie below it.
//!
//! The result is exactly what `path::collect` yields attribute by attribute (the reference it
//! is tested against): lists are flattened wherever they occur, up to `MAX_LIST_DEPTH` of them,
//! and each attribute's leaves come in the same order, because the trie walk restricted to one
//! attribute's path is the per-path walk. Sibling members lead to disjoint sets of attributes,
//! so the order in which siblings are visited does not matter.

use std::sync::LazyLock;

use hashbrown::{DefaultHashBuilder, HashMap};
use serde_json::{Map, Value};

use crate::catalog::{ATTRIBUTE_COUNT, AttrId, all_attributes};
use crate::path::{MAX_LIST_DEPTH, segments};

/// One trie node: a position reached by a sequence of member names.
#[derive(Default)]
struct Node {
    /// The attributes whose path ends here, in catalogue order.
    attrs: Vec<u8>,
    /// The member names continuing some path, with their node index.
    children: HashMap<&'static str, usize, DefaultHashBuilder>,
}

/// The trie of every catalogue path; node 0 is the finding itself.
struct Plan {
    nodes: Vec<Node>,
}

static PLAN: LazyLock<Plan> = LazyLock::new(Plan::build);

impl Plan {
    fn build() -> Plan {
        let mut nodes = vec![Node::default()];
        for attr in all_attributes() {
            let segs = segments(attr);
            // `Keyword` has no path and no leaves (it is not rooted at the finding itself).
            if segs.is_empty() {
                continue;
            }
            let mut at = 0;
            for &seg in segs {
                at = match nodes[at].children.get(seg) {
                    Some(&child) => child,
                    None => {
                        let child = nodes.len();
                        nodes[at].children.insert(seg, child);
                        nodes.push(Node::default());
                        child
                    }
                };
            }
            nodes[at].attrs.push(attr.0);
        }
        Plan { nodes }
    }
}

/// Every attribute's leaves from one finding, grouped by attribute.
pub(crate) struct Leaves<'v> {
    values: Vec<&'v Value>,
    /// `values[starts[a]..starts[a + 1]]` are the leaves of attribute `a`.
    starts: [u32; ATTRIBUTE_COUNT + 1],
}

impl<'v> Leaves<'v> {
    /// Walks `finding` once along the plan.
    pub(crate) fn collect(finding: &'v Value) -> Self {
        let plan = &*PLAN;
        let mut found: Vec<(u8, &'v Value)> = Vec::with_capacity(64);
        walk(plan, 0, finding, 0, &mut found);
        // Group by attribute (a stable counting sort keeps each attribute's order).
        let mut starts = [0u32; ATTRIBUTE_COUNT + 1];
        for &(a, _) in &found {
            starts[usize::from(a) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts;
        let mut values = vec![&Value::Null; found.len()];
        for (a, v) in found {
            let slot = &mut next[usize::from(a)];
            values[*slot as usize] = v;
            *slot += 1;
        }
        Leaves { values, starts }
    }

    /// The same leaves, collected one attribute at a time by the reference walk.
    #[cfg(test)]
    pub(crate) fn per_path(finding: &'v Value) -> Self {
        let mut values = Vec::new();
        let mut starts = [0u32; ATTRIBUTE_COUNT + 1];
        for a in all_attributes() {
            crate::path::collect(finding, a, &mut values);
            starts[usize::from(a.0) + 1] = values.len() as u32;
        }
        Leaves { values, starts }
    }

    /// The attribute's leaves, in the order `path::collect` yields them.
    pub(crate) fn of(&self, a: AttrId) -> &[&'v Value] {
        let i = usize::from(a.0);
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&s), Some(&e)) => &self.values[s as usize..e as usize],
            _ => &[],
        }
    }
}

fn walk<'v>(plan: &Plan, node: usize, v: &'v Value, lists: usize, out: &mut Vec<(u8, &'v Value)>) {
    if let Value::Array(items) = v {
        if lists < MAX_LIST_DEPTH {
            for item in items {
                walk(plan, node, item, lists + 1, out);
            }
        }
        return;
    }
    let n = &plan.nodes[node];
    out.extend(n.attrs.iter().map(|&a| (a, v)));
    if let Value::Object(map) = v
        && !n.children.is_empty()
    {
        walk_members(plan, n, map, lists, out);
    }
}

fn walk_members<'v>(
    plan: &Plan,
    n: &Node,
    map: &'v Map<String, Value>,
    lists: usize,
    out: &mut Vec<(u8, &'v Value)>,
) {
    // Objects in findings are small next to the catalogue's fan-out (the finding itself,
    // `Details`), and serde_json's own lookup hashes with SipHash, so each member is matched
    // against the node's table instead.
    for (k, child) in map {
        if let Some(&idx) = n.children.get(k.as_str()) {
            walk(plan, idx, child, lists, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::Leaves;
    use crate::catalog::{CATALOG, all_attributes};
    use crate::interner::Interner;
    use crate::path;
    use crate::record::encode::encode_leaves;

    /// Every attribute's leaves from the single walk are those of the per-path reference walk.
    fn assert_same_leaves(f: &Value) {
        let leaves = Leaves::collect(f);
        let reference = Leaves::per_path(f);
        for a in all_attributes() {
            let mut expected = Vec::new();
            path::collect(f, a, &mut expected);
            assert_eq!(reference.of(a), expected.as_slice());
            let got = leaves.of(a);
            assert_eq!(got.len(), expected.len(), "{a:?} in {f}");
            for (g, e) in got.iter().zip(&expected) {
                assert!(std::ptr::eq(*g, *e), "{a:?} in {f}");
            }
        }
    }

    #[test]
    fn fixtures_match_the_per_path_walk() {
        let fixtures = [
            crate::record::tests::sample(7),
            json!({
                "Types": ["a", "b"],
                "Resources": [
                    {"Details": {"AwsEc2Instance": {"IpV4Addresses": ["10.0.0.1", "10.0.0.2"]}}},
                    {"Details": {"AwsEc2Instance": {"IpV4Addresses": ["10.0.0.3"]}}},
                    {"Id": "x", "Tags": {"k": "v"}, "Type": "AwsIamUser"}
                ],
                "Compliance": {"SecurityControlParameters": [{"Name": "n", "Value": ["1", "2"]}]}
            }),
            json!({"Resources": "nope", "Severity": 5, "Types": "single"}),
            json!([[[[[[[[[[{"Types": "x"}]]]]]]]]]]),
            json!([[[[[[[{"Types": [["x"]], "Resources": [[{"Id": ["y"]}]]}]]]]]]]),
            json!(null),
        ];
        for f in &fixtures {
            assert_same_leaves(f);
        }
        assert_same_records(&fixtures);
        let samples: Vec<Value> = (0..6)
            .map(|n| crate::record::tests::sample(n % 3))
            .collect();
        assert_same_records(&samples);
    }

    /// Records built from either walk are byte-identical, interner state included.
    fn assert_same_records(findings: &[Value]) {
        // One seed for both: the admission filter depends on the hasher.
        let mut new = Interner::new();
        let mut old = new.clone();
        for f in findings {
            let a = encode_leaves(f, &Leaves::collect(f), &mut new);
            let b = encode_leaves(f, &Leaves::per_path(f), &mut old);
            assert_eq!(a.buf, b.buf, "{f}");
        }
        assert_eq!(new.len(), old.len());
        assert_eq!(new.shape_count(), old.shape_count());
        assert!(new.symbols().eq(old.symbols()));
    }

    /// Member names from the catalogue paths, so generated findings hit deep paths.
    fn names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = CATALOG
            .iter()
            .flat_map(|d| d.path.split('.'))
            .map(|s| s.trim_end_matches("[]"))
            .collect();
        names.sort_unstable();
        names.dedup();
        names.push("Unrelated");
        names
    }

    fn finding() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            "[a-z0-9./:]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(8, 256, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(names()), inner), 0..8).prop_map(
                    |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                ),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn generated_findings_match_the_per_path_walk(f in finding()) {
            assert_same_leaves(&f);
        }

        #[test]
        fn generated_findings_encode_identically(fs in prop::collection::vec(finding(), 1..6)) {
            // Repeats make values cross the interner's admission threshold.
            let twice: Vec<Value> = fs.iter().chain(&fs).cloned().collect();
            assert_same_records(&twice);
        }
    }
}
